// The module registry. The engine and the schema generator look modules up here; nothing else names them.
import { addHostModule } from './add_host.js';
import { assertModule } from './assert.js';
import { authorizedKeyModule } from './authorized_key.js';
import { blockinfileModule } from './blockinfile.js';
import { calendarSyncModule } from './calendar_sync.js';
import { commandModule } from './command.js';
import { copyModule } from './copy.js';
import { debugModule } from './debug.js';
import { ewsEventModule } from './ews_event.js';
import { exchangeImpersonationModule } from './exchange_impersonation.js';
import { failModule } from './fail.js';
import { fetchModule } from './fetch.js';
import { fileModule } from './file.js';
import { findModule } from './find.js';
import { getUrlModule } from './get_url.js';
import { groupModule } from './group.js';
import { groupByModule } from './group_by.js';
import { includeVarsModule } from './include_vars.js';
import { lineinfileModule } from './lineinfile.js';
import { manualModule } from './manual.js';
import { metaModule } from './meta.js';
import type { Module } from './module.js';
import { packageModule } from './package.js';
import { pauseModule } from './pause.js';
import { pingModule } from './ping.js';
import { portFreeModule } from './port_free.js';
import { rawModule } from './raw.js';
import { replaceModule } from './replace.js';
import { scriptModule } from './script.js';
import { serviceModule, systemdModule, systemdServiceModule } from './service.js';
import { setFactModule } from './set_fact.js';
import { setupModule } from './setup.js';
import { shellModule } from './shell.js';
import { slurpModule } from './slurp.js';
import { statModule } from './stat.js';
import { tempfileModule } from './tempfile.js';
import { templateModule } from './template.js';
import { tlsForwarderModule } from './tls_forwarder.js';
import { tlsProbeModule } from './tls_probe.js';
import { unarchiveModule } from './unarchive.js';
import { uriModule } from './uri.js';
import { userModule } from './user.js';
import { waitForModule } from './wait_for.js';
import { waitForConnectionModule } from './wait_for_connection.js';

const all: Module[] = [
  addHostModule,
  assertModule,
  authorizedKeyModule,
  blockinfileModule,
  calendarSyncModule,
  commandModule,
  copyModule,
  debugModule,
  ewsEventModule,
  exchangeImpersonationModule,
  failModule,
  fetchModule,
  fileModule,
  findModule,
  getUrlModule,
  groupModule,
  groupByModule,
  includeVarsModule,
  lineinfileModule,
  manualModule,
  metaModule,
  packageModule,
  pauseModule,
  pingModule,
  portFreeModule,
  rawModule,
  replaceModule,
  scriptModule,
  serviceModule,
  setFactModule,
  setupModule,
  shellModule,
  slurpModule,
  statModule,
  systemdModule,
  systemdServiceModule,
  tempfileModule,
  templateModule,
  tlsForwarderModule,
  tlsProbeModule,
  unarchiveModule,
  uriModule,
  userModule,
  waitForModule,
  waitForConnectionModule,
];

export const modules: ReadonlyMap<string, Module> = new Map(all.map((m) => [m.name, m]));

/** Core modules that Ansible also has answer to their ansible.builtin.* / ansible.legacy.* names. */
const ANSIBLE_BUILTINS = new Set([
  'add_host',
  'assert',
  'blockinfile',
  'command',
  'copy',
  'debug',
  'fail',
  'fetch',
  'file',
  'find',
  'get_url',
  'group',
  'group_by',
  'include_vars',
  'lineinfile',
  'meta',
  'package',
  'pause',
  'ping',
  'raw',
  'replace',
  'script',
  'service',
  'set_fact',
  'setup',
  'shell',
  'slurp',
  'stat',
  'systemd',
  'systemd_service',
  'tempfile',
  'template',
  'unarchive',
  'uri',
  'user',
  'wait_for',
  'wait_for_connection',
]);

/** Modules of the ansible.posix collection that ewsplay has: they answer to their ansible.posix.* names. */
const ANSIBLE_POSIX = new Set(['authorized_key']);

/** Resolves a task key to a module, accepting Ansible's FQCN aliases. */
export function resolveModule(key: string): Module | undefined {
  const m = /^ansible\.(?:builtin|legacy)\.(\w+)$/.exec(key);
  if (m?.[1]) return ANSIBLE_BUILTINS.has(m[1]) ? modules.get(m[1]) : undefined;
  const posix = /^ansible\.posix\.(\w+)$/.exec(key);
  if (posix?.[1]) return ANSIBLE_POSIX.has(posix[1]) ? modules.get(posix[1]) : undefined;
  return modules.get(key);
}

/** Every name a task may use as its module key (for "did you mean" hints and the schema). */
export function moduleKeys(): string[] {
  const keys = [...modules.keys()];
  for (const b of ANSIBLE_BUILTINS) keys.push(`ansible.builtin.${b}`, `ansible.legacy.${b}`);
  for (const p of ANSIBLE_POSIX) keys.push(`ansible.posix.${p}`);
  return keys;
}
