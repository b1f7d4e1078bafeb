// `ewsplay validate`: every check a run makes before touching a host, and nothing else.

import type { Playbook } from '../core/model.js';
import { ExitCode, UserError } from '../core/problems.js';
import { Secrets } from '../core/secrets.js';
import { loadInventory } from '../inventory/inventory.js';
import { validatePlaybook } from '../load/validate.js';
import { inventoryLayout } from '../rollout/sites.js';
import { createTemplar } from '../template/templar.js';
import { passphraseSource } from '../vault/passphrase.js';
import { vaultReader } from '../vault/vars.js';
import { withInventoryDefaults } from './ansible-config.js';
import { reportError } from './errors.js';
import { checkFlagFiles } from './preflight.js';
import { checkConnectionSettings } from './project.js';

export async function validateCommand(
  playbookFile: string,
  given: { inventory?: string[]; vaultPasswordFile?: string },
): Promise<number> {
  const secrets = new Secrets();
  try {
    const opts = await withInventoryDefaults(given);
    await checkFlagFiles(opts);
    const readVarsFile = vaultReader(passphraseSource({ passwordFile: opts.vaultPasswordFile }), secrets);
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
