// `ewsplay validate`: every check a run makes before touching a host, and nothing else.
import { loadInventory } from '../inventory/inventory.js';
import { ExitCode, UserError } from '../load/problems.js';
import { validatePlaybook } from '../load/validate.js';
import { Secrets } from '../template/secrets.js';
import { passphraseSource } from '../vault/passphrase.js';
import { vaultReader } from '../vault/vars.js';
import { reportError } from './errors.js';

export async function validateCommand(
  playbookFile: string,
  opts: { inventory?: string[]; vaultPasswordFile?: string },
): Promise<number> {
  const secrets = new Secrets();
  try {
    const readVarsFile = vaultReader(passphraseSource({ passwordFile: opts.vaultPasswordFile }), secrets);
    const inventory = opts.inventory?.length
      ? await loadInventory(opts.inventory, { readVarsFile })
      : undefined;
    const { playbook, problems } = await validatePlaybook(playbookFile, inventory ? { inventory } : {});
    if (problems.length > 0) throw new UserError(problems);
    const tasks = countTasks(playbook.plays.flatMap((p) => [...p.tasks, ...p.handlers]));
    process.stdout.write(`${playbookFile}: ok (${playbook.plays.length} play(s), ${tasks} task(s))\n`);
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
