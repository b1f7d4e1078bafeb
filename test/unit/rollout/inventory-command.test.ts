// `ewsplay inventory` on a sites directory: each site as `run` sees it, never the sites merged (every site
// here has a host named `mail`, whose variables differ).
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SitesProject } from './fixture.js';

const BIN = resolve(import.meta.dirname, '../../../bin/ewsplay.js');

function ewsplay(args: string[], cwd: string): Promise<{ rc: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { cwd, timeout: 30_000 }, (err, stdout, stderr) =>
      done({ rc: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('ewsplay inventory on a sites directory', () => {
  const project = new SitesProject({ paris: { greeting: 'bonjour' }, lyon: { greeting: 'salut' } });

  it('--graph shows every site under its name', async () => {
    const r = await ewsplay(['inventory', '-i', 'inventory/sites', '--graph'], project.dir);
    expect(r.stderr).toBe('');
    expect(r.rc).toBe(0);
    expect(r.stdout).toMatch(/^site: lyon\n@all:\n[\s\S]*\|--mail\nsite: paris\n@all:/);
  });

  it('--host and --list show the one site --sites names', async () => {
    const paris = await ewsplay(
      ['inventory', '-i', 'inventory/sites', '--sites', 'paris', '--host', 'mail'],
      project.dir,
    );
    expect(paris.rc).toBe(0);
    expect(JSON.parse(paris.stdout)).toMatchObject({ greeting: 'bonjour' });
    const lyon = await ewsplay(
      ['inventory', '-i', 'inventory/sites', '--sites', 'lyon', '--list'],
      project.dir,
    );
    expect(lyon.rc).toBe(0);
    expect(JSON.parse(lyon.stdout)._meta.hostvars.mail).toMatchObject({ greeting: 'salut' });
  });

  it('--list over several sites is a usage error naming them, not a merge', async () => {
    const r = await ewsplay(['inventory', '-i', 'inventory/sites', '--list'], project.dir);
    expect(r.rc).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('is a sites directory (2 sites)');
    expect(r.stderr).toContain('--sites NAME (sites: lyon, paris)');
  });

  it('an unknown site is named with a suggestion; --sites on one inventory is refused', async () => {
    const unknown = await ewsplay(
      ['inventory', '-i', 'inventory/sites', '--sites', 'pariss', '--graph'],
      project.dir,
    );
    expect(unknown.rc).toBe(2);
    expect(unknown.stderr).toContain("no site 'pariss'");
    expect(unknown.stderr).toContain('paris');
    const single = await ewsplay(
      ['inventory', '-i', 'inventory/sites/paris', '--sites', 'paris', '--list'],
      project.dir,
    );
    expect(single.rc).toBe(2);
    expect(single.stderr).toContain('--sites needs a sites directory');
  });
});
