// State files: corrupt ones are clear errors (never replaced), resume plans, the status table.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/core/problems.js';
import type { StepInfo } from '../../../src/engine/steps.js';
import { emptyState, readState, resumeSkips, type SiteState, statePath } from '../../../src/rollout/state.js';
import { renderStatus } from '../../../src/rollout/status.js';
import { SitesProject } from './fixture.js';

function corrupt(text: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ewsplay-state-'));
  const file = statePath(dir, 'paris');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  return { dir, file };
}

const step = (id: string, index: number, tags: string[] = []): StepInfo => ({
  id,
  play: 'P',
  playIndex: 0,
  index,
  name: id,
  tags,
});

function withSteps(statuses: Record<string, 'done' | 'failed' | 'interrupted'>): SiteState {
  const s = emptyState('paris');
  for (const [i, [id, status]] of Object.entries(statuses).entries())
    s.steps[id] = {
      play: 'P',
      name: id,
      playbook: 'p.yml',
      order: [0, i],
      status,
      at: '2024-05-12T14:03:00Z',
      report: 'r.json',
    };
  return s;
}

describe('state files', () => {
  it('a file that is not JSON is an error at its position, with how to fix it', async () => {
    const { dir, file } = corrupt('{\n  "version": 1,\n  "steps": {,\n}');
    const e = (await readState(dir, 'paris').catch((x: unknown) => x)) as UserError;
    expect(e).toBeInstanceOf(UserError);
    const p = e.problems[0]!;
    expect(p).toMatchObject({ file, line: 3 });
    expect(p.message).toMatch(/^state file is not valid JSON/);
    expect(p.hint).toContain(`move it aside (mv ${file} ${file}.broken)`);
  });

  it('JSON that is not a state file is an error too', async () => {
    const { dir } = corrupt('{"version": 1, "steps": {"a": {"status": "maybe"}}}');
    const e = (await readState(dir, 'paris').catch((x: unknown) => x)) as UserError;
    expect(e.problems[0]!.message).toBe(`not an ewsplay state file: step 'a' has status "maybe"`);
  });

  it('a rollout refuses to start on a corrupt state file and leaves the file as it was', async () => {
    const p = new SitesProject({ berlin: { greeting: 'a' }, paris: { greeting: 'b' } });
    const file = p.write('.ewsplay/state/paris.json', '{"version": 1, "steps": [');
    const e = await p.rollout().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UserError);
    expect(p.hostFile('berlin', 'greeting.txt')).toBeUndefined();
    expect(readFileSync(file, 'utf8')).toBe('{"version": 1, "steps": [');
    // The locks it took to read the state files under are released.
    expect(readdirSync(join(p.dir, '.ewsplay/locks'))).toEqual([]);
  });
});

describe('resumeSkips', () => {
  const steps = [step('a', 0), step('b', 1, ['always']), step('c', 2), step('d', 3)];
  const on = (state: SiteState, hosts: Record<string, Record<string, 'done' | 'failed' | 'interrupted'>>) => {
    for (const [id, h] of Object.entries(hosts)) state.steps[id]!.hosts = h;
    return state;
  };
  const plan = (skip: Map<string, Set<string>>) =>
    Object.fromEntries([...skip].map(([id, hosts]) => [id, [...hosts].sort()]));

  it('skips, per host, the leading steps done on that host, except those tagged always', () => {
    const state = on(withSteps({ a: 'done', b: 'done', c: 'failed', d: 'done' }), {
      a: { web1: 'done', web2: 'done' },
      b: { web1: 'done', web2: 'done' },
      c: { web1: 'done', web2: 'failed' },
      d: { web1: 'done' },
    });
    expect(plan(resumeSkips(state, steps))).toEqual({ a: ['web1', 'web2'], c: ['web1'], d: ['web1'] });
    const interrupted = on(withSteps({ a: 'done', b: 'interrupted' }), {
      a: { web1: 'done' },
      b: { web1: 'interrupted' },
    });
    expect(plan(resumeSkips(interrupted, steps))).toEqual({ a: ['web1'] });
    expect(plan(resumeSkips(emptyState('x'), steps))).toEqual({});
  });

  it('passes over a step done on other hosts only (its play does not target the host)', () => {
    // a on every host; c only on mail (A3 runs on the mail server); d on the hypervisor: the hypervisor's
    // chain goes on past c.
    const state = on(withSteps({ a: 'done', b: 'done', c: 'done', d: 'done' }), {
      a: { mail: 'done', hv: 'done' },
      b: { mail: 'done', hv: 'done' },
      c: { mail: 'done' },
      d: { hv: 'done' },
    });
    expect(plan(resumeSkips(state, steps))).toEqual({ a: ['hv', 'mail'], c: ['mail'], d: ['hv'] });
  });

  it('never skips a step for a host the state does not name as done (another inventory, another --limit)', () => {
    const state = on(withSteps({ a: 'done', b: 'done', c: 'done' }), {
      a: { mail: 'done' },
      b: { mail: 'done' },
      c: { mail: 'done' },
    });
    const skip = resumeSkips(state, steps);
    expect(plan(skip)).toEqual({ a: ['mail'], c: ['mail'] });
    expect(skip.get('a')!.has('other')).toBe(false);
  });

  it('reads a state written before hosts were recorded as not done anywhere', () => {
    expect(plan(resumeSkips(withSteps({ a: 'done', b: 'done', c: 'done' }), steps))).toEqual({});
  });
});

describe('renderStatus', () => {
  it('fits 100 columns: steps are rows, sites columns in groups; not run for steps a site never did', () => {
    const sites = ['amsterdam', 'berlin', 'copenhagen', 'dublin', 'edinburgh', 'frankfurt', 'geneva'].map(
      (site, i) => {
        const state = withSteps({
          'a very long step name that goes on and on about what it does in detail': 'done',
          second: i % 2 ? 'failed' : 'done',
        });
        state.site = site;
        state.lastRun = {
          playbook: 'p.yml',
          startedAt: '2024-05-12T14:03:00Z',
          result: i % 2 ? 'failed' : 'ok',
          exitCode: i % 2 ? 3 : 0,
          interrupted: false,
          changed: 1,
          failed: i % 2,
          report: `.ewsplay/runs/${site}/2024-05-12T14-03-00-000Z.json`,
        };
        return { site, state };
      },
    );
    sites.push({ site: 'helsinki' } as (typeof sites)[number]);
    const text = renderStatus(sites);
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(100);
    expect(text).toMatch(/^STEP +amsterdam +berlin +copenhagen$/m);
    expect(text).toMatch(/^STEP +dublin +edinburgh +frankfurt$/m);
    expect(text).toMatch(/^STEP +geneva +helsinki$/m);
    expect(text).toMatch(/^ {2}second +done \d\d-\d\d \d\d:\d\d +failed \d\d-\d\d \d\d:\d\d +done/m);
    expect(text).toMatch(/^ {2}second +done \d\d-\d\d \d\d:\d\d +not run$/m);
    expect(text).toMatch(/^ {2}a very long step.*\.\.\. +done/m);
    expect(text).toMatch(/^last run +ok \d\d-\d\d \d\d:\d\d +never$/m);
  });
});
