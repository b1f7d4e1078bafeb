// Loads what a run needs and checks all of it before any host is touched: inventory, playbook (schema,
// includes, handlers, templates, host patterns), and registers the secrets the inventory holds. A run may
// have the hosts' connections opened meanwhile (connectEarly): no command runs on a host before all of
// this passed, and a mistake closes them.

import { dirname, resolve } from 'node:path';
import type { Node, Playbook, Vars } from '../core/model.js';
import { UsageError, UserError } from '../core/problems.js';
import type { Secrets } from '../core/secrets.js';
import type { TemplateApi } from '../core/template-api.js';
import type { EarlyConnections } from '../engine/early-connections.js';
import { loadYamlVars } from '../engine/run.js';
import { playbookTags } from '../engine/tags.js';
import { lazyVars } from '../engine/vars.js';
import { connectionSpec, ignoredConnectionSettings, isSecretVarName } from '../inventory/connection-spec.js';
import type { Inventory } from '../inventory/inventory.js';
import { loadInventory } from '../inventory/inventory.js';
import { validatePlaybook } from '../load/validate.js';
import { createTemplar, TemplateError } from '../template/templar.js';
import { type PassphraseSource, passphraseSource } from '../vault/passphrase.js';
import { vaultReader } from '../vault/vars.js';

export interface Project {
  playbook: Playbook;
  inventory: Inventory;
  templar: TemplateApi;
  loadVarsFile: (file: string) => Promise<Vars>;
  describe(what: { hosts: boolean; tasks: boolean; tags?: boolean; limit?: string | undefined }): string;
  /** The connections opened while loading (see ProjectOptions.connectEarly), for the run to take. */
  early?: EarlyConnections;
}

export interface ProjectOptions {
  /** --vault-password-file (else EWSPLAY_VAULT_PASSWORD, else a prompt), asked only when a vault is met. */
  vaultPasswordFile?: string | undefined;
  /** A passphrase source shared by the sites of a rollout, so a prompt is answered once. */
  passphrase?: PassphraseSource;
  /**
   * Once the inventory is loaded: where to open the connections of the hosts each play names, while the
   * rest of the playbook loads and is checked. The caller closes them if the project is never run.
   */
  connectEarly?: (inventory: Inventory, templar: TemplateApi) => EarlyConnections | undefined;
}

export async function loadProject(
  playbookFile: string,
  inventorySources: string[] | undefined,
  secrets: Secrets,
  warn: (message: string) => void = (m) => process.stderr.write(`[WARNING]: ${m}\n`),
  options: ProjectOptions = {},
): Promise<Project> {
  if (!inventorySources || inventorySources.length === 0) {
    throw new UsageError(
      'no inventory given',
      'pass -i INVENTORY (a hosts.yml file or an inventory directory), e.g. -i inventory/local.yml, or set inventory in ansible.cfg',
    );
  }
  const passphrase = options.passphrase ?? passphraseSource({ passwordFile: options.vaultPasswordFile });
  const readVarsFile = vaultReader(passphrase, secrets);
  // group_vars/ and host_vars/ beside the playbook count too, above the inventory's (as ansible-playbook).
  const playbookDir = dirname(resolve(playbookFile));
  const inventory = await loadInventory(inventorySources, { readVarsFile, playbookDir });
  const templar = createTemplar({ secrets });
  const early = options.connectEarly?.(inventory, templar);
  try {
    const { playbook, problems } = await validatePlaybook(playbookFile, {
      inventory,
      ...(early ? { onPlay: (play) => early.play(play) } : {}),
    });
    if (problems.length > 0) throw new UserError(problems);
    for (const host of inventory.hosts()) {
      for (const [name, value] of Object.entries(inventory.hostVars(host)))
        if (isSecretVarName(name)) secrets.add(value);
    }
    checkConnectionSettings(inventory, templar, warn);
    return {
      playbook,
      inventory,
      templar,
      loadVarsFile: (file) => loadYamlVars(file, readVarsFile),
      describe: (o) => describe(playbook, inventory, o),
      ...(early ? { early } : {}),
    };
  } catch (e) {
    await early?.close();
    throw e;
  }
}

/**
 * Connection settings are checked for every host before any host is touched (run and validate alike): a
 * port of 'twenty-two', an empty ansible_host, an unknown connection type.
 */
export function checkConnectionSettings(
  inventory: Inventory,
  templar: TemplateApi,
  warn: (message: string) => void,
): void {
  for (const host of inventory.hosts()) {
    const vars = inventory.hostVars(host);
    try {
      connectionSpec(host, lazyVars(vars, templar), { connectTimeoutMs: 10_000 }, (n) =>
        inventory.varSource(host, n),
      );
    } catch (e) {
      // A connection variable that is a template failing to render: the variable's place and the reason.
      if (!(e instanceof TemplateError)) throw e;
      throw new UsageError(`host '${host}': a connection variable cannot be rendered: ${e.message}`);
    }
    for (const note of ignoredConnectionSettings(vars)) warn(`${host}: ${note}`);
  }
}

function describe(
  playbook: Playbook,
  inventory: Inventory,
  o: { hosts: boolean; tasks: boolean; tags?: boolean; limit?: string | undefined },
): string {
  // The layout of ansible-playbook's --list-hosts / --list-tasks / --list-tags, so the outputs compare.
  const out: string[] = ['', `playbook: ${playbook.file}`];
  const allowed = o.limit ? new Set(inventory.match(o.limit)) : undefined;
  for (const [i, play] of playbook.plays.entries()) {
    out.push('', `  play #${i + 1} (${play.hosts}): ${play.name}\tTAGS: [${play.tags.join(', ')}]`);
    if (o.hosts) {
      const hosts = inventory.match(play.hosts).filter((h) => !allowed || allowed.has(h));
      out.push(
        `    pattern: ['${play.hosts}']`,
        `    hosts (${hosts.length}):`,
        ...hosts.map((h) => `      ${h}`),
      );
    }
    if (o.tasks) {
      out.push('    tasks:');
      // A task's tags with those it inherits from its play and blocks, sorted, as Ansible lists them.
      const tagsOf = (own: string[], inherited: string[]) => [...new Set([...inherited, ...own])].sort();
      const walk = (nodes: Node[], inherited: string[]) => {
        for (const n of nodes) {
          const tags = tagsOf(n.tags, inherited);
          if (n.kind === 'task' && n.implicit) continue;
          if (n.kind === 'task') out.push(`      ${n.name ?? n.module}\tTAGS: [${tags.join(', ')}]`);
          else if (n.kind === 'block') for (const list of [n.block, n.rescue, n.always]) walk(list, tags);
          else if (n.tasks) walk(n.tasks, tags);
          else out.push(`      include_tasks: ${n.file}\tTAGS: [${tags.join(', ')}]`);
        }
      };
      walk(play.tasks, play.tags);
    }
    if (o.tags) {
      const tags = playbookTags({ ...playbook, plays: [play] });
      out.push(
        `      TASK TAGS: [${tags ? [...tags].sort().join(', ') : '(include_tasks with a templated file: unknown)'}]`,
      );
    }
  }
  return `${out.join('\n')}\n`;
}
