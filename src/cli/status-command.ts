// `ewsplay status [-i DIR] [--json]`: what each site's state file says (and which sites are running now).
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ExitCode } from '../core/problems.js';
import { holderGone, lockPath, readLock } from '../rollout/lock.js';
import { type InventoryLayout, inventoryLayout } from '../rollout/sites.js';
import { readState, statePath } from '../rollout/state.js';
import { renderStatus, type SiteStatus } from '../rollout/status.js';
import { reportError } from './errors.js';

export async function statusCommand(opts: { inventory?: string[]; json?: boolean }): Promise<number> {
  try {
    // With -i, the inventory's project (where its runs keep their state); without, this directory's.
    const layout = opts.inventory?.length ? await inventoryLayout(opts.inventory) : undefined;
    const root = layout?.project ?? process.cwd();
    const names = layout ? sitesOf(layout) : await sitesWithState(root);
    const sites: SiteStatus[] = [];
    for (const site of names) {
      const status: SiteStatus = { site };
      if (existsSync(statePath(root, site))) status.state = await readState(root, site);
      try {
        const lock = readLock(lockPath(root, site));
        if (lock && lock.hostname === hostname() && holderGone(lock))
          status.lockProblem = `stale lock of a run that is gone (pid ${lock.pid}): the next run takes it over`;
        else if (lock) status.lock = lock;
      } catch (e) {
        status.lockProblem = e instanceof Error ? e.message : String(e);
      }
      sites.push(status);
    }
    process.stdout.write(opts.json ? `${JSON.stringify({ sites }, null, 2)}\n` : `${renderStatus(sites)}\n`);
    return ExitCode.ok;
  } catch (e) {
    return reportError(e);
  }
}

function sitesOf(layout: InventoryLayout): string[] {
  return layout.kind === 'sites' ? layout.sites.map((s) => s.name) : [layout.site.name];
}

async function sitesWithState(root: string): Promise<string[]> {
  const dir = join(root, '.ewsplay', 'state');
  const files = await readdir(dir).catch(() => [] as string[]);
  return files
    .filter((f) => f.endsWith('.json') && !f.startsWith('.'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}
