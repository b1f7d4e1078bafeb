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
//
// Site identity: a site is its inventory, by resolved real path, wherever the command runs from. Its
// project directory (which holds .ewsplay/{state,locks,runs}) is the parent of the nearest directory named
// `inventory` or `inventories` on that path, else the directory holding the inventory (a sites directory
// itself, so that its sites given one by one are in the same project). A directory
// inventory's site is named after the directory (so `-i inventory/sites/paris` and `-i inventory/sites
// --sites paris` are one site); an inventory file's after its path in the project (inventory/prod.yml:
// `prod`); several -i sources' after a digest of their paths. The state file records the inventory, so two
// inventories that would share a name in one project are told apart instead of mixing their histories.
import { createHash } from 'node:crypto';
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { UsageError } from '../core/problems.js';
import { didYouMean } from '../core/suggest.js';

export interface SiteInventory {
  name: string;
  /** The -i sources of this site. */
  sources: string[];
  /** The resolved real paths of its sources, relative to the project directory when inside it. */
  identity: string[];
}

export type InventoryLayout =
  | { kind: 'single'; project: string; site: SiteInventory }
  | { kind: 'sites'; project: string; root: string; sites: SiteInventory[] };

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
  if (dirs.length === 1 && sources.length === 1) return dirs[0]!.layout;
  return singleFiles(sources);
}

/** The real path of an -i source; undefined for what is no file (a host list such as `a,b,`). */
async function real(source: string): Promise<string | undefined> {
  return realpath(resolve(source)).catch(() => undefined);
}

/**
 * Where .ewsplay/ of an inventory lives: see the identity rule at the top of this file. `fallback` is the
 * directory holding the inventory (a sites directory holds its sites: it is its own).
 */
export function projectDirOf(realPath: string, fallback = dirname(realPath)): string {
  const parts = realPath.split(sep);
  for (let i = parts.length - 1; i > 0; i--)
    if (/^inventor(y|ies)$/.test(parts[i]!)) return parts.slice(0, i).join(sep) || sep;
  return fallback;
}

function relativeTo(project: string, path: string): string {
  const rel = relative(project, path);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

/** A site name made of `text`: letters, digits, . _ - (it names state, lock and report files). */
function siteName(text: string): string {
  const name = text.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[^A-Za-z0-9]+/, '');
  return name || 'inventory';
}

/** One site of inventory files (or host lists): named after the file's path in the project. */
async function singleFiles(sources: string[]): Promise<InventoryLayout> {
  if (sources.length === 0)
    return {
      kind: 'single',
      project: process.cwd(),
      site: { name: DEFAULT_SITE, sources, identity: [] },
    };
  const reals = await Promise.all(sources.map(real));
  const first = reals[0];
  // A host list (no file) has nothing to anchor to but the directory the command runs in.
  const project = first ? projectDirOf(first) : process.cwd();
  const identity = reals.map((r, i) => (r ? relativeTo(project, r) : sources[i]!));
  let name: string;
  if (identity.length === 1 && first) {
    const rel = identity[0]!;
    const inProject = rel !== first;
    const parts = (inProject ? rel : basename(rel)).split(sep);
    if (parts.length > 1 && /^inventor(y|ies)$/.test(parts[0]!)) parts.shift();
    const last = parts.length - 1;
    parts[last] = parts[last]!.slice(0, parts[last]!.length - extname(parts[last]!).length) || parts[last]!;
    name = siteName(parts.join('.'));
  } else {
    const digest = createHash('sha256')
      .update(JSON.stringify([...identity].sort()))
      .digest('hex');
    name = `inventory-${digest.slice(0, 8)}`;
  }
  return { kind: 'single', project, site: { name, sources, identity } };
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
  const found: string[] = [];
  const stray: string[] = [];
  for (const d of subdirs) {
    if (ownInventoryEntries(await entries(join(dir, d.name))).length > 0) found.push(d.name);
    else stray.push(d.name);
  }
  if (found.length === 0) return single(dir);
  if (stray.length > 0)
    throw new UsageError(
      `${dir} is a sites directory, but ${stray.map((s) => `${s}/`).join(', ')} holds no inventory (no hosts.yml, group_vars/ or host_vars/)`,
      'a sites directory holds only site inventories: add a hosts.yml to it, or move it out',
    );
  const bad = found.find((name) => !SITE_NAME.test(name));
  if (bad)
    throw new UsageError(
      `site directory name '${bad}' in ${dir} is not a plain name`,
      'name site directories with letters, digits, . _ - (the name is used for state, lock and report files)',
    );
  const realDir = (await real(dir)) ?? resolve(dir);
  const project = projectDirOf(realDir, realDir);
  const sites: SiteInventory[] = [];
  for (const name of found) {
    const source = join(dir, name);
    const identity = [relativeTo(project, (await real(source)) ?? join(realDir, name))];
    sites.push({ name, sources: [source], identity });
  }
  return { kind: 'sites', project, root: dir, sites };
}

/** A directory that is one inventory: the site of its name (a site of a sites directory keeps its name). */
async function single(dir: string): Promise<InventoryLayout> {
  const realDir = (await real(dir)) ?? resolve(dir);
  const project = projectDirOf(realDir);
  return {
    kind: 'single',
    project,
    site: { name: siteName(basename(realDir)), sources: [dir], identity: [relativeTo(project, realDir)] },
  };
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
