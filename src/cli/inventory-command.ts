// `ewsplay inventory`: the same JSON and graph as ansible-inventory, so both tools can be compared.
import { inventoryGraph, inventoryHost, inventoryList } from '../inventory/ansible-inventory.js';
import { loadInventory } from '../inventory/inventory.js';
import { ExitCode, UsageError } from '../load/problems.js';
import { Secrets } from '../template/secrets.js';
import { passphraseSource } from '../vault/passphrase.js';
import { vaultReader } from '../vault/vars.js';
import { reportError } from './errors.js';

export async function inventoryCommand(opts: {
  inventory?: string[];
  list?: boolean;
  host?: string;
  graph?: string | boolean;
  vaultPasswordFile?: string;
}): Promise<number> {
  // Vault values load (the inventory needs them) but print masked, like every other secret.
  const secrets = new Secrets();
  const print = (s: string) => process.stdout.write(`${secrets.mask(s)}\n`);
  try {
    if (!opts.inventory?.length) throw new UsageError('no inventory given', 'pass -i INVENTORY');
    const modes = [opts.list, opts.host, opts.graph].filter((m) => m !== undefined && m !== false).length;
    if (modes !== 1)
      throw new UsageError(
        'give exactly one of --list, --host HOST, --graph',
        'e.g. ewsplay inventory -i inventory/example --list',
      );
    const readVarsFile = vaultReader(passphraseSource({ passwordFile: opts.vaultPasswordFile }), secrets);
    const inv = await loadInventory(opts.inventory, { readVarsFile });
    if (opts.list) print(JSON.stringify(inventoryList(inv), null, 4));
    else if (opts.host) {
      if (!inv.hosts().includes(opts.host))
        throw new UsageError(
          `host '${opts.host}' is not in the inventory`,
          `known hosts: ${inv.hosts().join(', ')}`,
        );
      print(JSON.stringify(inventoryHost(inv, opts.host), null, 4));
    } else print(inventoryGraph(inv, typeof opts.graph === 'string' ? opts.graph : 'all'));
    return ExitCode.ok;
  } catch (e) {
    return reportError(e, (s) => secrets.mask(s));
  }
}
