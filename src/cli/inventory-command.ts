// `ewsplay inventory`: the same JSON and graph as ansible-inventory, so both tools can be compared.
// A sites directory is shown site by site, as `run` sees it, never merged: its sites reuse host names.

import { ExitCode, UsageError } from '../core/problems.js';
import { Secrets } from '../core/secrets.js';
import { inventoryGraph, inventoryHost, inventoryList } from '../inventory/ansible-inventory.js';
import { type Inventory, loadInventory } from '../inventory/inventory.js';
import { pythonJson } from '../inventory/python-json.js';
import { inventoryLayout, selectSites } from '../rollout/sites.js';
import { niceYaml } from '../template/nice-yaml.js';
import { vaultReader } from '../vault/vars.js';
import { withInventoryDefaults } from './ansible-config.js';
import { reportError } from './errors.js';
import { checkFlagFiles } from './preflight.js';
import { type VaultFlags, vaultPassphrase } from './vault-flags.js';

export interface InventoryFlags extends VaultFlags {
  inventory?: string[];
  list?: boolean;
  host?: string;
  graph?: string | boolean;
  /** --vars: with --graph, the variables of each host and group under it (ansible-inventory --graph --vars). */
  vars?: boolean;
  /** -y: --list and --host as YAML, as ansible-inventory -y writes them. */
  yaml?: boolean;
  sites?: string[];
}

export async function inventoryCommand(given: InventoryFlags): Promise<number> {
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
    if (opts.yaml && opts.graph)
      throw new UsageError('-y/--yaml applies to --list and --host', 'leave -y out with --graph');
    if (opts.vars && !opts.graph)
      throw new UsageError('--vars applies to --graph', 'e.g. ewsplay inventory -i INVENTORY --graph --vars');
    const readVarsFile = vaultReader(await vaultPassphrase(opts), secrets);
    for (const site of sites) {
      const inv = await loadInventory(site.sources, { readVarsFile });
      if (opts.list)
        print(opts.yaml ? niceYaml(yamlInventory(inv), 2).trimEnd() : pythonJson(inventoryList(inv)));
      else if (opts.host) {
        if (!inv.hosts().includes(opts.host))
          throw new UsageError(
            `host '${opts.host}' is not in the inventory${layout.kind === 'sites' ? ` of site ${site.name}` : ''}`,
            `known hosts: ${inv.hosts().join(', ')}`,
          );
        const vars = inventoryHost(inv, opts.host);
        print(opts.yaml ? niceYaml(vars, 2).trimEnd() : pythonJson(vars));
      } else {
        if (layout.kind === 'sites') print(`site: ${site.name}`);
        print(inventoryGraph(inv, typeof opts.graph === 'string' ? opts.graph : 'all', opts.vars === true));
      }
    }
    return ExitCode.ok;
  } catch (e) {
    return reportError(e, (s) => secrets.mask(s));
  }
}

/**
 * ansible-inventory --list -y: groups nested under `all` with their children and hosts, each host with its
 * variables where it first appears (an empty mapping after that), empty groups kept as `{}`.
 */
export function yamlInventory(inv: Inventory): Record<string, unknown> {
  const seenHosts = new Set<string>();
  const seenGroups = new Set<string>();
  const format = (name: string): Record<string, unknown> => {
    const group = inv.group(name)!;
    const out: Record<string, unknown> = {};
    const children: Record<string, unknown> = {};
    for (const child of group.children) {
      if (child === 'all') continue;
      if (seenGroups.has(child)) children[child] = {};
      else {
        seenGroups.add(child);
        children[child] = format(child);
      }
    }
    if (Object.keys(children).length > 0) out.children = children;
    const hosts: Record<string, unknown> = {};
    if (name !== 'all')
      for (const host of group.hosts) {
        hosts[host] = seenHosts.has(host) ? {} : inventoryHost(inv, host);
        seenHosts.add(host);
      }
    if (Object.keys(hosts).length > 0) out.hosts = hosts;
    return out;
  };
  return { all: format('all') };
}
