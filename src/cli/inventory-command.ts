// `ewsplay inventory`: the same JSON and graph as ansible-inventory, so both tools can be compared.
// A sites directory is shown site by site, as `run` sees it, never merged: its sites reuse host names.

import { ExitCode, UsageError } from '../core/problems.js';
import { Secrets } from '../core/secrets.js';
import { inventoryGraph, inventoryHost, inventoryList } from '../inventory/ansible-inventory.js';
import { loadInventory } from '../inventory/inventory.js';
import { pythonJson } from '../inventory/python-json.js';
import { inventoryLayout, selectSites } from '../rollout/sites.js';
import { passphraseSource } from '../vault/passphrase.js';
import { vaultReader } from '../vault/vars.js';
import { withInventoryDefaults } from './ansible-config.js';
import { reportError } from './errors.js';
import { checkFlagFiles } from './preflight.js';

export async function inventoryCommand(given: {
  inventory?: string[];
  list?: boolean;
  host?: string;
  graph?: string | boolean;
  vaultPasswordFile?: string;
  sites?: string[];
}): Promise<number> {
  // Vault values load (the inventory needs them) but print masked, like every other secret.
  const secrets = new Secrets();
  const print = (s: string) => process.stdout.write(`${secrets.mask(s)}\n`);
  try {
    const opts = await withInventoryDefaults(given);
    await checkFlagFiles(opts);
    if (!opts.inventory?.length)
      throw new UsageError('no inventory given', 'pass -i INVENTORY (or set inventory in ansible.cfg)');
    const modes = [opts.list, opts.host, opts.graph].filter((m) => m !== undefined && m !== false).length;
    if (modes !== 1)
      throw new UsageError(
        'give exactly one of --list, --host HOST, --graph',
        'e.g. ewsplay inventory -i inventory/example --list',
      );
    const layout = await inventoryLayout(opts.inventory);
    const names = (opts.sites ?? [])
      .flatMap((s) => s.split(','))
      .map((s) => s.trim())
      .filter(Boolean);
    if (layout.kind === 'single' && names.length)
      throw new UsageError('--sites needs a sites directory', 'leave --sites out for a single inventory');
    const sites = selectSites(layout, names);
    // --list and --host print one JSON document, as ansible-inventory does: one site's.
    if (layout.kind === 'sites' && sites.length > 1 && !opts.graph)
      throw new UsageError(
        `${opts.inventory.join(', ')} is a sites directory (${sites.length} sites): --list and --host show one site`,
        `pick it with --sites NAME (sites: ${sites.map((s) => s.name).join(', ')}), or use --graph for all`,
      );
    const readVarsFile = vaultReader(passphraseSource({ passwordFile: opts.vaultPasswordFile }), secrets);
    for (const site of sites) {
      const inv = await loadInventory(site.sources, { readVarsFile });
      if (opts.list) print(pythonJson(inventoryList(inv)));
      else if (opts.host) {
        if (!inv.hosts().includes(opts.host))
          throw new UsageError(
            `host '${opts.host}' is not in the inventory${layout.kind === 'sites' ? ` of site ${site.name}` : ''}`,
            `known hosts: ${inv.hosts().join(', ')}`,
          );
        print(pythonJson(inventoryHost(inv, opts.host)));
      } else {
        if (layout.kind === 'sites') print(`site: ${site.name}`);
        print(inventoryGraph(inv, typeof opts.graph === 'string' ? opts.graph : 'all'));
      }
    }
    return ExitCode.ok;
  } catch (e) {
    return reportError(e, (s) => secrets.mask(s));
  }
}
