// Command-line choices that would make a run do nothing, or something else than asked, are refused before
// any host is touched, as Ansible refuses them: a --vault-password-file or --known-hosts that is missing or
// not a file, a --limit that leaves no host, a --start-at-task that names no task.

import { inputFileProblem } from '../core/input-file.js';
import type { Node, Playbook } from '../core/model.js';
import { UsageError } from '../core/problems.js';
import { closest } from '../core/suggest.js';
import type { Inventory } from '../inventory/inventory.js';

/** Files named by flags: each must be a readable regular file (a known_hosts file may not exist yet). */
export async function checkFlagFiles(flags: {
  vaultPasswordFile?: string;
  knownHosts?: string;
}): Promise<void> {
  if (flags.vaultPasswordFile !== undefined) {
    const problem = await inputFileProblem(flags.vaultPasswordFile);
    if (problem)
      throw new UsageError(
        `--vault-password-file ${flags.vaultPasswordFile}: ${problem.code === 'missing' ? 'no such file' : problem.reason}`,
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
    throw new UsageError(
      `--limit '${options.limit}' matches no host of the inventory: the run would have no hosts to target`,
      '`ewsplay inventory -i INVENTORY --graph` shows the groups and hosts',
    );
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
