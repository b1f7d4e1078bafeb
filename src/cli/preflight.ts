// Command-line choices that would make a run do nothing, or something else than asked, are refused before
// any host is touched, as Ansible refuses them: a --vault-password-file or --known-hosts that is missing or
// not a file, a --limit that leaves no host, a --start-at-task that names no task.

import { inputFileProblem } from '../core/input-file.js';
import type { Node, Playbook } from '../core/model.js';
import { UsageError } from '../core/problems.js';
import { closest } from '../core/suggest.js';
import type { Inventory } from '../inventory/inventory.js';
import { type VaultFlags, vaultIdOf } from './vault-flags.js';

/** Files named by flags: each must be a readable regular file (a known_hosts file may not exist yet). */
export async function checkFlagFiles(flags: VaultFlags & { knownHosts?: string }): Promise<void> {
  const id = vaultIdOf(flags);
  const vaultFile = id ? (id.source === 'prompt' ? undefined : id.source) : flags.vaultPasswordFile;
  if (vaultFile !== undefined) {
    const problem = await inputFileProblem(vaultFile);
    if (problem)
      throw new UsageError(
        `${id ? `--vault-id ${id.label}@` : '--vault-password-file '}${vaultFile}: ${problem.code === 'missing' ? 'no such file' : problem.reason}`,
        'name a file holding the vault passphrase (or an executable printing it)',
      );
  }
  if (flags.knownHosts !== undefined) {
    const problem = await inputFileProblem(flags.knownHosts);
    if (problem && problem.code !== 'missing')
      throw new UsageError(
        `--known-hosts ${flags.knownHosts}: ${problem.reason}`,
        'name a known_hosts file (it is created when --accept-new-host-keys records the first key)',
      );
  }
}

/** --limit must leave hosts and --start-at-task must name a task of the playbook (Ansible errors on both). */
export function checkRunSelection(
  playbook: Playbook,
  inventory: Inventory,
  options: { limit?: string | undefined; startAtTask?: string | undefined },
): void {
  if (options.limit !== undefined && inventory.match(options.limit).length === 0)
    throw limitProblem(options.limit, inventory);
  if (options.startAtTask !== undefined) {
    const names = taskNames(playbook);
    if (!names.has(options.startAtTask)) {
      const near = closest(options.startAtTask, [...names]);
      throw new UsageError(
        `--start-at-task: no task is named '${options.startAtTask}'`,
        near
          ? `did you mean '${near}'? (--start-at-task takes a task's name as written)`
          : '`ewsplay run PLAYBOOK --list-tasks` lists the tasks; only tasks of static imports and includes count',
      );
    }
  }
}

/**
 * A --limit that leaves no host, as --tags reports a tag the playbook lacks: the pattern, the names in it
 * that match nothing with the closest host or group name for each, and the names there are.
 */
export function limitProblem(limit: string, inventory: Inventory): UsageError {
  const names = [...inventory.groups(), ...inventory.hosts()];
  const guesses: string[] = [];
  // Ansible's pattern syntax: parts separated by ':' or ',', each maybe prefixed by '&' or '!'. Regexes
  // (~), files (@) and wildcards are left as they are: no name is "close" to them.
  for (const raw of limit.startsWith('@') || limit.startsWith('~') ? [] : limit.split(/[:,]/)) {
    const part = raw.trim().replace(/^[&!]/, '');
    if (!part || /[*?[\]~@]/.test(part) || inventory.match(part).length > 0) continue;
    const near = closest(part, names);
    guesses.push(
      near ? `'${part}' is no host or group: did you mean '${near}'?` : `'${part}' is no host or group`,
    );
  }
  const shown = (kind: string, list: string[]) =>
    `${kind}: ${list.slice(0, 20).join(', ')}${list.length > 20 ? `, ... (${list.length} in all)` : ''}`;
  return new UsageError(
    `--limit '${limit}' matches no host of the inventory: the run would have no hosts to target`,
    [
      ...guesses,
      `${shown('groups', inventory.groups())}; ${shown('hosts', inventory.hosts())}`,
      '(`ewsplay inventory -i INVENTORY --graph` shows the tree)',
    ].join(' '),
  );
}

function taskNames(playbook: Playbook): Set<string> {
  const names = new Set<string>();
  const walk = (nodes: Node[]) => {
    for (const n of nodes) {
      if (n.kind === 'task') {
        if (n.name !== undefined) names.add(n.name);
      } else if (n.kind === 'block') for (const list of [n.block, n.rescue, n.always]) walk(list);
      else walk(n.tasks ?? []);
    }
  };
  for (const play of playbook.plays) walk(play.tasks);
  return names;
}
