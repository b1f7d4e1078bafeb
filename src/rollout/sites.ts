// Which sites an -i argument names. A *sites directory* holds one inventory per site in its subdirectories
// (inventory/sites/SITE/hosts.yml + group_vars/ + host_vars/); anything else is one inventory, one site.
//
// The rule, for a directory D given with -i:
//   - D is an inventory of its own when it directly holds an inventory file (*.yml, *.yaml, *.json, or a
//     file without extension such as `hosts`) or a group_vars/ or host_vars/ directory: one site.
//   - Otherwise D is a sites directory when at least one subdirectory is an inventory of its own; then every
//     subdirectory must be one (a stray one is an error, not silently skipped), and each is a site named
//     after its directory.
//   - D that is an inventory of its own and also has a subdirectory that looks like a site (hosts.yml,
//     hosts.yaml, group_vars/ or host_vars/ in it) is ambiguous: an error.
// A single inventory's site name is its directory's name (so `-i inventory/sites/paris` and
// `-i inventory/sites --sites paris` share state and lock), or `default` for an inventory file.
import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join, relative, resolve } from 'node:path';
import { UsageError } from '../load/problems.js';
import { didYouMean } from '../load/suggest.js';

export interface SiteInventory {
  name: string;
  /** The -i sources of this site. */
  sources: string[];
}

export type InventoryLayout =
  | { kind: 'single'; site: SiteInventory }
  | { kind: 'sites'; root: string; sites: SiteInventory[] };

export const SITE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
export const DEFAULT_SITE = 'default';

const IGNORED = /^\.|^vars_plugins$/;
const INVENTORY_EXTENSIONS = ['.yml', '.yaml', '.json', ''];
const NOT_INVENTORY = /(\.(pyc|pyo|swp|bak|rpm|md|txt|rst|orig|ini|cfg|retry)|~)$/;
const SITE_MARKERS = ['hosts.yml', 'hosts.yaml', 'group_vars', 'host_vars'];

interface Entry {
  name: string;
  /** A directory, or a symbolic link to one (sites are often linked in). */
  dir: boolean;
}

async function entries(dir: string): Promise<Entry[]> {
  const list = (await readdir(dir, { withFileTypes: true })).filter((e) => !IGNORED.test(e.name));
  list.sort((a, b) => (a.name < b.name ? -1 : 1));
  return Promise.all(
    list.map(async (e) => ({
      name: e.name,
      dir: e.isSymbolicLink()
        ? ((await stat(join(dir, e.name)).catch(() => undefined))?.isDirectory() ?? false)
        : e.isDirectory(),
    })),
  );
}

/** What makes `list` an inventory of its own: its inventory files and vars directories. */
function ownInventoryEntries(list: Entry[]): string[] {
  return list
    .filter((e) =>
      e.dir
        ? e.name === 'group_vars' || e.name === 'host_vars'
        : INVENTORY_EXTENSIONS.includes(extname(e.name)) && !NOT_INVENTORY.test(e.name),
    )
    .map((e) => e.name);
}

export async function inventoryLayout(sources: string[]): Promise<InventoryLayout> {
  const dirs: { source: string; layout: InventoryLayout }[] = [];
  for (const source of sources) {
    const info = await stat(resolve(source)).catch(() => undefined);
    if (info?.isDirectory()) dirs.push({ source, layout: await directoryLayout(source) });
  }
  const sitesDir = dirs.find((d) => d.layout.kind === 'sites');
  if (sitesDir) {
    if (sources.length > 1)
      throw new UsageError(
        `${sitesDir.source} is a sites directory (one inventory per subdirectory) and cannot be combined with other -i sources`,
        'pass the sites directory alone; pick sites with --sites',
      );
    return sitesDir.layout;
  }
  const only = dirs.length === 1 && sources.length === 1 ? dirs[0]!.source : undefined;
  const name = only ? basename(resolve(only)) : DEFAULT_SITE;
  return { kind: 'single', site: { name: SITE_NAME.test(name) ? name : DEFAULT_SITE, sources } };
}

async function directoryLayout(dir: string): Promise<InventoryLayout> {
  const list = await entries(dir);
  const own = ownInventoryEntries(list);
  const subdirs = list.filter((e) => e.dir && e.name !== 'group_vars' && e.name !== 'host_vars');
  if (own.length > 0) {
    const siteLike: string[] = [];
    for (const d of subdirs) {
      const names = (await entries(join(dir, d.name))).map((e) => e.name);
      if (names.some((n) => SITE_MARKERS.includes(n))) siteLike.push(d.name);
    }
    if (siteLike.length > 0)
      throw new UsageError(
        `${dir} is ambiguous: it is an inventory (${own.join(', ')}) and also holds what look like site inventories (${siteLike.join(', ')})`,
        `either keep one inventory in ${dir}, or make it a sites directory: move ${own.join(', ')} into a subdirectory of their own`,
      );
    return single(dir);
  }
  const sites: SiteInventory[] = [];
  const stray: string[] = [];
  for (const d of subdirs) {
    const sub = join(dir, d.name);
    if (ownInventoryEntries(await entries(sub)).length > 0) sites.push({ name: d.name, sources: [sub] });
    else stray.push(d.name);
  }
  if (sites.length === 0) return single(dir);
  if (stray.length > 0)
    throw new UsageError(
      `${dir} is a sites directory, but ${stray.map((s) => `${s}/`).join(', ')} holds no inventory (no hosts.yml, group_vars/ or host_vars/)`,
      'a sites directory holds only site inventories: add a hosts.yml to it, or move it out',
    );
  const bad = sites.find((s) => !SITE_NAME.test(s.name));
  if (bad)
    throw new UsageError(
      `site directory name '${bad.name}' in ${dir} is not a plain name`,
      'name site directories with letters, digits, . _ - (the name is used for state, lock and report files)',
    );
  return { kind: 'sites', root: dir, sites };
}

function single(dir: string): InventoryLayout {
  const name = basename(resolve(dir));
  return { kind: 'single', site: { name: SITE_NAME.test(name) ? name : DEFAULT_SITE, sources: [dir] } };
}

/** The sites of a layout that `--sites a,b` names (all when not given), in the layout's order. */
export function selectSites(layout: InventoryLayout, names: string[]): SiteInventory[] {
  const all = layout.kind === 'sites' ? layout.sites : [layout.site];
  if (names.length === 0) return all;
  const known = all.map((s) => s.name);
  for (const n of names) {
    if (!known.includes(n)) {
      const where = layout.kind === 'sites' ? relative(process.cwd(), layout.root) || '.' : 'the inventory';
      const hint = didYouMean(n, known);
      throw new UsageError(
        `--sites: no site '${n}' in ${where}`,
        `${hint ? `${hint} ` : ''}known sites: ${known.join(', ')}`,
      );
    }
  }
  return all.filter((s) => names.includes(s.name));
}
