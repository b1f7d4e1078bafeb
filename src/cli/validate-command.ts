// `ewsplay validate`: every check a run makes before touching a host, and nothing else.

import { dirname, isAbsolute, join, resolve } from 'node:path';
import { inputFileProblem } from '../core/input-file.js';
import type { Playbook, Vars } from '../core/model.js';
import { ExitCode, type Problem, UserError } from '../core/problems.js';
import { Secrets } from '../core/secrets.js';
import { lazyVars } from '../engine/vars.js';
import { loadInventory } from '../inventory/inventory.js';
import { validatePlaybook } from '../load/validate.js';
import { inventoryLayout } from '../rollout/sites.js';
import { createTemplar } from '../template/templar.js';
import { vaultReader } from '../vault/vars.js';
import { withInventoryDefaults } from './ansible-config.js';
import { reportError } from './errors.js';
import { parseExtraVars } from './extra-vars.js';
import { checkFlagFiles } from './preflight.js';
import { checkConnectionSettings } from './project.js';
import { type VaultFlags, vaultPassphrase } from './vault-flags.js';

export interface ValidateFlags extends VaultFlags {
  inventory?: string[];
  /** -e as run takes it: checked, and used to name templated vars_files. */
  extraVars?: string[];
}

export async function validateCommand(playbookFile: string, given: ValidateFlags): Promise<number> {
  const secrets = new Secrets();
  try {
    const opts = await withInventoryDefaults(given);
    await checkFlagFiles(opts);
    const extraVars = parseExtraVars(opts.extraVars);
    const readVarsFile = vaultReader(await vaultPassphrase(opts), secrets);
    // A sites directory is checked against each site's inventory.
    const layout = opts.inventory?.length ? await inventoryLayout(opts.inventory) : undefined;
    const sources = layout?.kind === 'sites' ? layout.sites.map((s) => s.sources) : [opts.inventory ?? []];
    let checked: Playbook | undefined;
    for (const inv of sources) {
      const inventory = inv.length ? await loadInventory(inv, { readVarsFile }) : undefined;
      const { playbook, problems } = await validatePlaybook(playbookFile, inventory ? { inventory } : {});
      if (problems.length > 0) throw new UserError(problems);
      // What `run` checks of the inventory before connecting, validate checks too.
      if (inventory)
        checkConnectionSettings(inventory, createTemplar({ secrets }), (m) =>
          process.stderr.write(`[WARNING]: ${secrets.mask(m)}\n`),
        );
      checked = playbook;
    }
    await checkTemplatedVarsFiles(checked!, extraVars, secrets);
    const playbook = checked!;
    const tasks = countTasks(playbook.plays.flatMap((p) => [...p.tasks, ...p.handlers]));
    const sites = layout?.kind === 'sites' ? `, ${layout.sites.length} site(s)` : '';
    process.stdout.write(
      `${playbookFile}: ok (${playbook.plays.length} play(s), ${tasks} task(s)${sites})\n`,
    );
    return ExitCode.ok;
  } catch (e) {
    return reportError(e, (s) => secrets.mask(s));
  }
}

/**
 * vars_files whose names are templates wait for the run when loading; with the play's vars and -e they can
 * be named now: each must be a file there (run would stop at that play otherwise). A name that needs more
 * (facts, registered values) still waits for the run.
 */
async function checkTemplatedVarsFiles(playbook: Playbook, extraVars: Vars, secrets: Secrets): Promise<void> {
  const templar = createTemplar({ secrets });
  const dir = dirname(resolve(playbook.file));
  const problems: Problem[] = [];
  for (const play of playbook.plays) {
    const vars = lazyVars({ ...play.vars, ...extraVars, playbook_dir: dir }, templar);
    for (const entry of play.varsFiles) {
      if (!entry.includes('{{') && !entry.includes('{%')) continue;
      let name: string;
      try {
        name = String(templar.render(entry, vars));
      } catch {
        continue;
      }
      const file = isAbsolute(name) ? name : join(dir, name);
      const problem = await inputFileProblem(file);
      if (problem)
        problems.push({
          ...play.pos,
          message: `vars file '${entry}' is '${name}' with these variables: ${problem.code === 'missing' ? `not found (looked for ${file})` : problem.reason}`,
          hint: 'vars_files are relative to the playbook; check the name and the -e values',
        });
    }
  }
  if (problems.length > 0) throw new UserError(problems);
}

type AnyNode = { kind: string; block?: AnyNode[]; rescue?: AnyNode[]; always?: AnyNode[]; tasks?: AnyNode[] };

function countTasks(nodes: AnyNode[]): number {
  let n = 0;
  for (const node of nodes) {
    if (node.kind === 'task') n++;
    else
      n += countTasks([
        ...(node.block ?? []),
        ...(node.rescue ?? []),
        ...(node.always ?? []),
        ...(node.tasks ?? []),
      ]);
  }
  return n;
}
