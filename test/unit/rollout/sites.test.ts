// Telling a sites directory from an inventory directory, and picking sites.
import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/core/problems.js';
import { inventoryLayout, selectSites } from '../../../src/rollout/sites.js';

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ewsplay-sites-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

const HOSTS = 'all:\n  hosts:\n    mail: {}\n';

async function usageError(p: Promise<unknown>): Promise<UsageError> {
  const e = await p.catch((x: unknown) => x);
  expect(e).toBeInstanceOf(UsageError);
  return e as UsageError;
}

describe('inventoryLayout', () => {
  it('a directory of inventories is a sites directory; each site is named after its directory', async () => {
    const dir = tree({
      'paris/hosts.yml': HOSTS,
      'lyon/hosts.yaml': HOSTS,
      'berlin/group_vars/all.yml': 'x: 1\n',
      'berlin/main.yml': HOSTS,
      'README.md': 'notes\n',
      '.git/config': '',
    });
    const layout = await inventoryLayout([dir]);
    expect(layout.kind).toBe('sites');
    if (layout.kind !== 'sites') return;
    // Not in an `inventory` directory: the sites directory is its own project.
    expect(layout.project).toBe(realpathSync(dir));
    expect(layout.sites).toEqual([
      { name: 'berlin', sources: [join(dir, 'berlin')], identity: ['berlin'] },
      { name: 'lyon', sources: [join(dir, 'lyon')], identity: ['lyon'] },
      { name: 'paris', sources: [join(dir, 'paris')], identity: ['paris'] },
    ]);
  });

  it('a site may be a symbolic link to an inventory directory elsewhere', async () => {
    const elsewhere = tree({ 'hosts.yml': HOSTS });
    const dir = tree({ 'paris/hosts.yml': HOSTS });
    symlinkSync(elsewhere, join(dir, 'lyon'));
    const layout = await inventoryLayout([dir]);
    expect(layout.kind === 'sites' && layout.sites.map((s) => s.name)).toEqual(['lyon', 'paris']);
  });

  it('an inventory directory (files of its own, even with plain subdirectories) is one site named after it', async () => {
    const dir = tree({ 'hosts.yml': HOSTS, 'group_vars/all.yml': 'x: 1\n', 'files/README.md': 'x' });
    const layout = await inventoryLayout([dir]);
    const real = realpathSync(dir);
    expect(layout).toEqual({
      kind: 'single',
      project: dirname(real),
      site: { name: basename(real), sources: [dir], identity: [basename(real)] },
    });
    const site = tree({ 'sites/paris/hosts.yml': HOSTS });
    expect(await inventoryLayout([join(site, 'sites/paris')])).toMatchObject({ site: { name: 'paris' } });
  });

  it('an inventory that also holds site-like subdirectories is ambiguous', async () => {
    const dir = tree({ 'local.yml': HOSTS, 'paris/hosts.yml': HOSTS });
    const e = await usageError(inventoryLayout([dir]));
    expect(e.message).toContain('is ambiguous: it is an inventory (local.yml)');
    expect(e.message).toContain('site inventories (paris)');
    expect(e.hint).toContain('move local.yml into a subdirectory');
  });

  it('a subdirectory of a sites directory without an inventory is an error, not skipped', async () => {
    const dir = tree({ 'paris/hosts.yml': HOSTS, 'lyon/hots.yml.bak': HOSTS });
    const e = await usageError(inventoryLayout([dir]));
    expect(e.message).toContain('lyon/ holds no inventory');
  });

  it('a sites directory is given alone', async () => {
    const dir = tree({ 'paris/hosts.yml': HOSTS, 'other.yml': HOSTS });
    const sites = join(dir, 'x');
    mkdirSync(join(sites, 'paris'), { recursive: true });
    writeFileSync(join(sites, 'paris', 'hosts.yml'), HOSTS);
    const e = await usageError(inventoryLayout([sites, join(dir, 'other.yml')]));
    expect(e.message).toContain('cannot be combined with other -i sources');
  });
});

describe('site identity', () => {
  it('an inventory file is a site of its own, named after its path in the project, wherever the command runs', async () => {
    const dir = tree({ 'inventory/prod/hosts.yml': HOSTS, 'inventory/staging/hosts.yml': HOSTS });
    const real = realpathSync(dir);
    const prod = await inventoryLayout([join(dir, 'inventory/prod/hosts.yml')]);
    const staging = await inventoryLayout([join(dir, 'inventory/staging/hosts.yml')]);
    expect(prod).toMatchObject({
      kind: 'single',
      project: real,
      site: { name: 'prod.hosts', identity: ['inventory/prod/hosts.yml'] },
    });
    expect(staging).toMatchObject({ project: real, site: { name: 'staging.hosts' } });
    // The same inventory by another spelling (relative, through a symbolic link): the same site and project.
    const link = join(tree({}), 'linked');
    symlinkSync(join(dir, 'inventory'), link);
    for (const other of [
      relative(process.cwd(), join(dir, 'inventory/prod/hosts.yml')),
      join(link, 'prod/hosts.yml'),
    ]) {
      const again = await inventoryLayout([other]);
      expect(again).toMatchObject({
        project: real,
        site: { name: 'prod.hosts', identity: ['inventory/prod/hosts.yml'] },
      });
    }
  });

  it('a site given alone and through its sites directory is one site of one project', async () => {
    const dir = tree({ 'inventory/sites/paris/hosts.yml': HOSTS, 'inventory/sites/lyon/hosts.yml': HOSTS });
    const all = await inventoryLayout([join(dir, 'inventory/sites')]);
    const one = await inventoryLayout([join(dir, 'inventory/sites/paris')]);
    expect(all.kind === 'sites' && all.sites.find((s) => s.name === 'paris')).toMatchObject({
      identity: ['inventory/sites/paris'],
    });
    expect(one).toMatchObject({
      project: all.project,
      site: { name: 'paris', identity: ['inventory/sites/paris'] },
    });
    expect(all.project).toBe(realpathSync(dir));
  });

  it('several -i sources are one site named after a digest of their paths', async () => {
    const dir = tree({ 'a.yml': HOSTS, 'b.yml': HOSTS });
    const ab = await inventoryLayout([join(dir, 'a.yml'), join(dir, 'b.yml')]);
    const ba = await inventoryLayout([join(dir, 'b.yml'), join(dir, 'a.yml')]);
    expect(ab.kind === 'single' && ab.site.name).toMatch(/^inventory-[0-9a-f]{8}$/);
    expect(ba.kind === 'single' && ba.site.name).toBe(ab.kind === 'single' && ab.site.name);
  });
});

describe('selectSites', () => {
  it('keeps the layout order and refuses an unknown site with a suggestion', async () => {
    const dir = tree({ 'paris/hosts.yml': HOSTS, 'lyon/hosts.yml': HOSTS, 'berlin/hosts.yml': HOSTS });
    const layout = await inventoryLayout([dir]);
    expect(selectSites(layout, ['paris', 'berlin']).map((s) => s.name)).toEqual(['berlin', 'paris']);
    expect(selectSites(layout, []).map((s) => s.name)).toEqual(['berlin', 'lyon', 'paris']);
    const e = (() => {
      try {
        selectSites(layout, ['pariss']);
      } catch (x) {
        return x as UsageError;
      }
    })();
    expect(e?.message).toMatch(/--sites: no site 'pariss' in /);
    expect(e?.hint).toBe("did you mean 'paris'? known sites: berlin, lyon, paris");
  });
});
