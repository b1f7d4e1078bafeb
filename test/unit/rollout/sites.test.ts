// Telling a sites directory from an inventory directory, and picking sites.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/load/problems.js';
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
    expect(layout.sites).toEqual([
      { name: 'berlin', sources: [join(dir, 'berlin')] },
      { name: 'lyon', sources: [join(dir, 'lyon')] },
      { name: 'paris', sources: [join(dir, 'paris')] },
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
    expect(layout).toEqual({
      kind: 'single',
      site: { name: expect.stringMatching(/^ewsplay-sites-/), sources: [dir] },
    });
    const one = await inventoryLayout([join(dir, 'hosts.yml')]);
    expect(one).toEqual({ kind: 'single', site: { name: 'default', sources: [join(dir, 'hosts.yml')] } });
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
