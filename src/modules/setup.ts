// setup: Ansible's fact gathering, in one round trip over the host's own connection (a POSIX sh script: no
// Python on the host, unlike Ansible's). The facts are set on the host as `ansible_facts` (names without the
// prefix) and, as Ansible's INJECT_FACTS_AS_VARS does, as top-level `ansible_<name>` variables. Read-only:
// never changed, and it runs in check mode too. The play keyword gather_facts runs it implicitly.

import { fail } from './kit.js';
import type { Module } from './module.js';
import { execOn } from './remote.js';
import { factsScript, fnmatch, isSecretEnvName, parseFacts } from './setup-facts.js';

/** Ansible's gather_subset names (with an optional `!`); ewsplay gathers its one set whatever they say. */
const SUBSETS = [
  'all',
  'min',
  'hardware',
  'network',
  'virtual',
  'ohai',
  'facter',
  'all_ipv4_addresses',
  'all_ipv6_addresses',
  'apparmor',
  'architecture',
  'caps',
  'cmdline',
  'date_time',
  'default_ipv4',
  'default_ipv6',
  'devices',
  'distribution',
  'distribution_major_version',
  'distribution_release',
  'distribution_version',
  'dns',
  'env',
  'fips',
  'interfaces',
  'kernel',
  'local',
  'lsb',
  'machine',
  'machine_id',
  'mounts',
  'os_family',
  'pkg_mgr',
  'platform',
  'processor',
  'processor_cores',
  'processor_count',
  'python',
  'python_version',
  'selinux',
  'service_mgr',
  'ssh_host_keys',
  'ssh_host_pub_keys',
  'user',
  'user_dir',
  'user_gecos',
  'user_gid',
  'user_id',
  'user_shell',
  'user_uid',
];

const stringOrList = (description: string) => ({
  description,
  anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
});

export const setupModule: Module = {
  name: 'setup',
  summary:
    'Gather facts about the host (ansible_hostname, ansible_distribution, ansible_default_ipv4 ...) without Python on it',
  args: {
    type: 'object',
    additionalProperties: false,
    properties: {
      filter: stringOrList(
        "Only the facts whose ansible_-prefixed name matches one of these shell-style patterns (fnmatch), e.g. 'ansible_*_mb' or ['ansible_distribution*', 'ansible_hostname']",
      ),
      gather_subset: {
        ...stringOrList(
          'Accepted for Ansible compatibility: ewsplay always gathers the same set in one command (platform, distribution, os_family, pkg_mgr, service_mgr, user, processor and memory counts, default_ipv4 and addresses, date_time, env); use filter to keep fewer',
        ),
      },
      gather_timeout: {
        type: 'integer',
        minimum: 1,
        description: 'Seconds the gathering command may take (default: the task timeout)',
      },
    },
  },
  check: 'full',
  async run(ctx, args) {
    const shell = String(ctx.vars.ansible_shell_type ?? '');
    if (shell === 'powershell' || shell === 'cmd')
      return fail(
        `setup gathers facts on Linux and Unix hosts only; ${ctx.host} uses a Windows shell (ansible_shell_type: ${shell}): set gather_facts: false on plays for it`,
      );
    const subsets = listOf(args.gather_subset);
    const unknown = subsets.filter((s) => !SUBSETS.includes(s.replace(/^!/, '')));
    if (unknown.length > 0)
      return fail(
        `unknown gather_subset ${unknown.map((u) => `'${u}'`).join(', ')}: Ansible's subsets are all, min, hardware, network, virtual and fact names such as distribution or user`,
      );
    const timeoutMs = typeof args.gather_timeout === 'number' ? args.gather_timeout * 1000 : ctx.timeoutMs;
    const r = await execOn({ ...ctx, timeoutMs }, factsScript());
    if (r.rc !== 0 || !r.stdout.includes('--ewsplay-facts:uname'))
      return fail(
        `could not gather facts: ${r.timedOut ? `the command took longer than ${timeoutMs / 1000}s` : r.stderr.trim() || `exit ${r.rc}`}`,
      );
    let facts = parseFacts(r.stdout);
    // Values of secret-named environment variables are secrets: masked wherever they would be shown.
    for (const [name, value] of Object.entries(facts.env as Record<string, string>))
      if (isSecretEnvName(name)) ctx.secrets.add(value);
    const patterns = listOf(args.filter);
    if (patterns.length > 0)
      facts = Object.fromEntries(
        Object.entries(facts).filter(([k]) => patterns.some((p) => fnmatch(`ansible_${k}`, p))),
      );
    // As Ansible's fact cache does, a later (perhaps filtered) gathering adds to the facts already known.
    const merged = { ...knownFacts(ctx.vars), ...facts };
    const injected = Object.fromEntries(Object.entries(facts).map(([k, v]) => [`ansible_${k}`, v]));
    return { changed: false, facts: { ...injected, ansible_facts: merged } };
  },
};

function listOf(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  const items = Array.isArray(v) ? v.map(String) : String(v).split(',');
  return items.map((s) => s.trim()).filter((s) => s !== '');
}

/** The host's ansible_facts so far, as plain data (none when unset or unreadable). */
function knownFacts(vars: Record<string, unknown>): Record<string, unknown> {
  try {
    const before = vars.ansible_facts;
    if (!before || typeof before !== 'object' || Array.isArray(before)) return {};
    return JSON.parse(JSON.stringify(before)) as Record<string, unknown>;
  } catch {
    return {};
  }
}
