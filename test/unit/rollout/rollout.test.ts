// Rollouts across a sites directory: isolation, canary, --max-fail-sites, --resume, state and history.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../../src/core/problems.js';
import type { RolloutProgress } from '../../../src/core/progress.js';
import type { RunReport } from '../../../src/engine/results.js';
import { readState } from '../../../src/rollout/state.js';
import { renderStatus } from '../../../src/rollout/status.js';
import { PLAYBOOK, SitesProject } from './fixture.js';

const THREE = { berlin: { greeting: 'hallo' }, lyon: { greeting: 'bonjour' }, paris: { greeting: 'salut' } };
const STEP1 = 'Migrate > Record greeting';
const STEP2 = 'Migrate > Check the fault is fixed';
const STEP3 = 'Migrate > Finish';

describe('rollout', () => {
  it('runs every site with its own inventory: a variable of all sites has each site its own value', async () => {
    const p = new SitesProject(THREE);
    for (const s of ['berlin', 'lyon', 'paris']) p.fix(s);
    const r = await p.rollout();
    expect(r.exitCode).toBe(ExitCode.ok);
    expect(r.outcomes.map((o) => [o.site, o.result])).toEqual([
      ['berlin', 'ok'],
      ['lyon', 'ok'],
      ['paris', 'ok'],
    ]);
    // Each site's host is named `mail`: the values still do not cross sites.
    expect(p.hostFile('berlin', 'greeting.txt')).toBe('hallo\n');
    expect(p.hostFile('lyon', 'greeting.txt')).toBe('bonjour\n');
    expect(p.hostFile('paris', 'greeting.txt')).toBe('salut\n');
    // Output grouped by site, and a summary table with each site's report.
    expect(r.out).toMatch(/^\[lyon\] TASK \[Record greeting\]/m);
    expect(r.out).toMatch(/^\[paris\] mail +: ok=3 +changed=3/m);
    const summary = r.out.slice(r.out.indexOf('ROLLOUT SUMMARY'));
    expect(summary).toMatch(/^paris +ok +3 +0 +\.ewsplay\/runs\/paris\/.+\.json$/m);
    for (const o of r.outcomes) {
      const report = JSON.parse(p.read(o.report!)) as RunReport;
      expect(report.site).toBe(o.site);
      expect(report.steps?.map((s) => s.status)).toEqual(['done', 'done', 'done']);
      const state = await readState(p.dir, o.site);
      expect(Object.values(state.steps).map((s) => s.status)).toEqual(['done', 'done', 'done']);
      expect(state.lastRun).toMatchObject({ result: 'ok', exitCode: 0, report: o.report });
    }
  });

  it('a failed canary stops the rollout; after the fix, --resume finishes it from the failed step', async () => {
    const p = new SitesProject(THREE);
    p.fix('berlin');
    p.fix('paris');
    const first = await p.rollout({ canary: 'lyon' });
    expect(first.exitCode).toBe(ExitCode.hostFailed);
    expect(first.outcomes.map((o) => [o.site, o.result])).toEqual([
      ['berlin', 'not run'],
      ['lyon', 'failed'],
      ['paris', 'not run'],
    ]);
    expect(first.out).toMatch(/^berlin +not run +0 +0 +canary lyon did not succeed$/m);
    expect(p.hostFile('berlin', 'greeting.txt')).toBeUndefined();
    const lyon = await readState(p.dir, 'lyon');
    expect(lyon.steps[STEP1]?.status).toBe('done');
    expect(lyon.steps[STEP2]).toMatchObject({ status: 'failed', failedHosts: ['mail'] });
    // Per host: what --resume goes by.
    expect(lyon.steps[STEP1]?.hosts).toEqual({ mail: 'done' });
    expect(lyon.steps[STEP2]?.hosts).toEqual({ mail: 'failed' });
    expect(lyon.steps[STEP3]).toBeUndefined();
    expect(existsSync(join(p.dir, '.ewsplay/state/berlin.json'))).toBe(false);

    const status = renderStatus(
      await Promise.all(
        ['berlin', 'lyon'].map(async (site) => ({ site, state: await readState(p.dir, site) })),
      ),
    );
    expect(status).toMatch(/^ {2}Check the fault is fixed +not run +failed \d\d-\d\d \d\d:\d\d$/m);
    expect(status).toMatch(/^ {2}Finish +not run +not run$/m);

    p.fix('lyon');
    const second = await p.rollout({ canary: 'lyon', resume: true });
    expect(second.exitCode).toBe(ExitCode.ok);
    expect(second.outcomes.map((o) => o.result)).toEqual(['ok', 'ok', 'ok']);
    expect(second.out).toContain(
      `[lyon] --resume: skipping what is done, on the hosts it was done on: ${STEP1} (mail)`,
    );
    const report = JSON.parse(p.read(second.outcomes[1]!.report!)) as RunReport;
    expect(report.steps?.map((s) => s.status)).toEqual(['skipped', 'done', 'done']);
    expect(report.tasks.map((t) => t.task)).toEqual(['Check the fault is fixed', 'Finish']);
    expect(p.hostFile('lyon', 'final.txt')).toBe('done bonjour\n');
    // Sites that never ran do everything.
    expect(second.out).toContain('[berlin] --resume: no step done before on these hosts: running every step');
    expect(p.hostFile('berlin', 'final.txt')).toBe('done hallo\n');
    const after = await readState(p.dir, 'lyon');
    expect(Object.values(after.steps).map((s) => s.status)).toEqual(['done', 'done', 'done']);
    // Two runs of lyon, two reports.
    expect(readdirSync(join(p.dir, '.ewsplay/runs/lyon'))).toHaveLength(2);
  });

  it('--max-fail-sites stops starting sites once that many failed; the exit code is the worst site', async () => {
    const p = new SitesProject(THREE);
    p.fix('paris');
    const r = await p.rollout({ maxFailSites: 1 });
    expect(r.exitCode).toBe(ExitCode.hostFailed);
    expect(r.outcomes.map((o) => o.result)).toEqual(['failed', 'not run', 'not run']);
    expect(r.out).toMatch(/^lyon +not run .*--max-fail-sites 1/m);
  });

  it('tells its progress as sites start and end: sites done of total, failures, the sites running', async () => {
    const p = new SitesProject(THREE);
    p.fix('berlin');
    p.fix('paris');
    const events: RolloutProgress[] = [];
    await p.rollout({ progress: (e) => events.push(e) });
    expect(events.map(({ done, failed, running }) => [done, failed, running.join()])).toEqual([
      [0, 0, ''],
      [0, 0, 'berlin'],
      [1, 0, ''],
      [1, 0, 'lyon'],
      [2, 1, ''],
      [2, 1, 'paris'],
      [3, 1, ''],
    ]);
    expect(events.every((e) => e.total === 3 && e.startedAt === events[0]!.startedAt)).toBe(true);
    // A failed canary: the sites not run are done too.
    events.length = 0;
    await p.rollout({ canary: 'lyon', progress: (e) => events.push(e) });
    expect(events.at(-1)).toMatchObject({ done: 3, failed: 1, running: [] });
  });

  it('--serial 3 runs the sites at once, each line prefixed by its site', async () => {
    const p = new SitesProject(THREE, PLAYBOOK.replace('command: cat fixed', 'command: sleep 1'));
    const r = await p.rollout({ serial: 3 });
    expect(r.exitCode).toBe(ExitCode.ok);
    // At once: every site started before any finished (overlap, not a time bound on a busy machine).
    const runs = ['berlin', 'lyon', 'paris'].map((site) => {
      const dir = join(p.dir, '.ewsplay/runs', site);
      const report = JSON.parse(readFileSync(join(dir, readdirSync(dir)[0]!), 'utf8')) as {
        startedAt: string;
        finishedAt: string;
      };
      return { start: Date.parse(report.startedAt), end: Date.parse(report.finishedAt) };
    });
    expect(Math.max(...runs.map((x) => x.start))).toBeLessThan(Math.min(...runs.map((x) => x.end)));
    for (const line of r.out.split('\n').filter((l) => l && !/ROLLOUT|^SITE|^(berlin|lyon|paris) /.test(l)))
      expect(line).toMatch(/^\[(berlin|lyon|paris)\] /);
  });

  it('--resume re-runs a done step tagged always (it may set facts later steps need)', async () => {
    const tagged = PLAYBOOK.replace(
      '    - name: Check the fault is fixed',
      '    - name: Read settings\n      set_fact:\n        word: "{{ greeting }}!"\n      tags: [always]\n    - name: Check the fault is fixed',
    ).replace('done {{ greeting }}', 'done {{ word }}');
    const p = new SitesProject({ lyon: { greeting: 'bonjour' } }, tagged);
    await p.rollout();
    p.fix('lyon');
    const r = await p.rollout({ resume: true });
    expect(r.exitCode).toBe(ExitCode.ok);
    const report = JSON.parse(p.read(r.outcomes[0]!.report!)) as RunReport;
    expect(report.steps?.map((s) => s.status)).toEqual(['skipped', 'done', 'done', 'done']);
    expect(p.hostFile('lyon', 'final.txt')).toBe('done bonjour!\n');
  });

  it('Ctrl-C stops the rollout: the report is marked interrupted, the state keeps the steps done', async () => {
    const p = new SitesProject(THREE, PLAYBOOK.replace('command: cat fixed', 'command: sleep 20'));
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 1500);
    const r = await p.rollout({ abort });
    expect(r.exitCode).toBe(ExitCode.interrupted);
    expect(r.outcomes.map((o) => o.result)).toEqual(['interrupted', 'not run', 'not run']);
    const report = JSON.parse(p.read(r.outcomes[0]!.report!)) as RunReport;
    expect(report.interrupted).toBe(true);
    const state = await readState(p.dir, 'berlin');
    expect(state.steps[STEP1]?.status).toBe('done');
    expect(state.steps[STEP2]?.status).toBe('interrupted');
    expect(state.lastRun?.interrupted).toBe(true);
    expect(readdirSync(join(p.dir, '.ewsplay/locks'))).toEqual([]);
  });

  it('--limit selects hosts within sites; a site with no matching host is skipped', async () => {
    const p = new SitesProject(THREE);
    p.write(
      'inventory/sites/lyon/hosts.yml',
      `all:\n  hosts:\n    mail:\n      ansible_connection: local\n      ewsplay_local_root: ${p.hostDir('lyon')}\n    lyon-extra:\n      ansible_connection: local\n      ewsplay_local_root: ${p.hostDir('lyon')}/extra\n`,
    );
    p.fix('lyon');
    const r = await p.rollout({ options: { limit: 'lyon-*' } });
    expect(r.outcomes.map((o) => o.result)).toEqual(['skipped', 'failed', 'skipped']);
    expect(r.out).toMatch(/^berlin +skipped .*no host matches --limit lyon-\*/m);
    expect(p.hostFile('lyon', 'greeting.txt')).toBeUndefined();
  });

  it("the site state carries calendar_sync's mailbox outcomes, from the state file its state_key names", async () => {
    const sync = `- name: Sync
  hosts: all
  tasks:
    - name: Sync calendars
      calendar_sync:
        operation: sync
        mailboxes: [anna@example.test, bob@example.test]
        script_dir: "{{ scripts }}"
        state_key: "{{ site_name }}"
`;
    const p = new SitesProject({ paris: { greeting: 'salut', site_name: 'paris-2024' } }, sync);
    // The vendor's script stand-in: bob's calendar cannot be synced.
    const scripts = p.write(
      'scripts/sync_all.sh',
      'for m in "$@"; do [ "$m" = bob@example.test ] && exit 1; done; exit 0\n',
    );
    p.write(
      'inventory/sites/paris/group_vars/all.yml',
      `greeting: salut\nsite_name: paris-2024\nscripts: ${join(scripts, '..')}\n`,
    );
    const r = await p.rollout();
    expect(r.exitCode).toBe(ExitCode.hostFailed);
    const state = await readState(p.dir, 'paris');
    expect(state.mailboxes).toEqual([
      {
        file: '.ewsplay/state/paris-2024/calendar-sync.json',
        operations: {
          sync: {
            'anna@example.test': expect.objectContaining({ status: 'done', host: 'mail' }),
            'bob@example.test': expect.objectContaining({ status: 'failed', error: 'exit 1' }),
          },
        },
      },
    ]);
    expect(renderStatus([{ site: 'paris', state }])).toMatch(/^mailboxes: sync +1 done, 1 failed$/m);
  });

  it('check mode writes a report but leaves the state alone', async () => {
    const p = new SitesProject({ paris: { greeting: 'salut' } });
    const r = await p.rollout({ options: { check: true } });
    expect(r.outcomes[0]!.report).toMatch(/^\.ewsplay\/runs\/paris\//);
    expect(existsSync(join(p.dir, '.ewsplay/state/paris.json'))).toBe(false);
  });
});
