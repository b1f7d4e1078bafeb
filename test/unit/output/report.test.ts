// Reports for CI (issue 15): a rescued or ignored failure is no JUnit failure (a run that exits 0 is never
// "unstable"), a failure's text carries rc, cmd, stderr and stdout (bounded), and the run's total line.
import { describe, expect, it } from 'vitest';
import type { HostTaskResult, RunReport } from '../../../src/engine/results.js';
import { emptyStats } from '../../../src/engine/results.js';
import { FAILURE_OUTPUT_CHARS, failureText, junitXml, totalLine } from '../../../src/output/report.js';
import { Scratch } from '../engine/harness.js';

function report(results: Record<string, HostTaskResult>, extra: Partial<RunReport> = {}): RunReport {
  return {
    tool: 'ewsplay',
    version: 'test',
    playbook: 'site.yml',
    inventory: ['hosts.yml'],
    startedAt: '2026-01-01T00:00:00.000Z',
    durationMs: 12_345,
    check: false,
    diff: false,
    interrupted: false,
    tasks: [
      {
        task: 'step',
        module: 'command',
        file: 'site.yml',
        line: 3,
        play: 'p',
        handler: false,
        hosts: results,
      },
    ],
    stats: {},
    ...extra,
  };
}

const failed = (extra: Partial<HostTaskResult> = {}): HostTaskResult => ({
  status: 'failed',
  changed: false,
  msg: 'non-zero return code',
  durationMs: 5,
  ...extra,
});

describe('JUnit report', () => {
  it('counts neither rescued nor ignored failures as failures, and says what they were', () => {
    const xml = junitXml(report({ a: failed({ rescued: true }), b: failed({ ignored: true }), c: failed() }));
    expect(xml).toContain('<testsuites name="ewsplay" tests="3" failures="1" skipped="0"');
    expect(xml.match(/<failure /g)).toHaveLength(1);
    expect(xml).toContain('name="[c] step"');
    expect(xml).toMatch(/name="\[a\] step"[^>]*>\s*<system-out>rescued: non-zero return code/);
    expect(xml).toMatch(/name="\[b\] step"[^>]*>\s*<system-out>ignored: non-zero return code/);
  });

  it("puts rc, cmd, stderr and stdout in a failure's text, each output bounded", () => {
    const long = `${'x'.repeat(FAILURE_OUTPUT_CHARS)}THE END`;
    const r = failed({
      data: { rc: 2, cmd: ['ls', '/nope'], stderr: 'ls: cannot access <x>', stdout: long },
    });
    const text = failureText(r);
    expect(text).toContain('non-zero return code\nrc: 2\ncmd: ls /nope\nstderr:\nls: cannot access <x>');
    expect(text).toContain(`stdout: (last ${FAILURE_OUTPUT_CHARS} of ${long.length} characters)`);
    expect(text).toContain('THE END');
    expect(text.length).toBeLessThan(FAILURE_OUTPUT_CHARS + 200);
    const xml = junitXml(report({ a: r }));
    expect(xml).toContain('stderr:\nls: cannot access &lt;x&gt;\nstdout');
  });

  it("names a loop's failed items with their own rc and stderr", () => {
    const text = failureText(
      failed({
        msg: 'One or more items failed',
        data: {
          results: [
            { item: 'ok-one', rc: 0, failed: false },
            { item: 'bad', rc: 3, cmd: 'false', stderr: 'boom', failed: true, msg: 'non-zero return code' },
          ],
        },
      }),
    );
    expect(text).toBe(
      'One or more items failed\nfailed item (item=bad): non-zero return code\nrc: 3\ncmd: false\nstderr:\nboom',
    );
  });
});

describe('total line', () => {
  it('sums hosts by outcome and task results over hosts, with the time taken', () => {
    const stats = {
      a: { ...emptyStats(), ok: 5, changed: 2, skipped: 1 },
      b: { ...emptyStats(), ok: 4, changed: 1, failed: 1 },
      c: { ...emptyStats(), ok: 3, rescued: 1 },
      d: { ...emptyStats(), unreachable: 1 },
    };
    expect(totalLine(report({}, { stats }))).toBe(
      'hosts: 2 ok, 1 failed, 1 unreachable · tasks: 12 ok, 3 changed, 1 skipped, 1 failed, 1 unreachable, 1 rescued · 12.3 s',
    );
    expect(totalLine(report({}, { stats: {}, durationMs: 0 }))).toBe('hosts: 0 ok · tasks: 0 ok · 0.0 s');
  });
});

describe('a run marks the failures its rescue: caught', () => {
  it('rescued in the report and in JUnit, with the stderr of what failed', async () => {
    const s = new Scratch(['alpha']);
    const { report: r } = await s.run(`- hosts: all
  gather_facts: false
  tasks:
    - block:
        - name: breaks
          command: sh -c 'echo to-stderr >&2; exit 4'
      rescue:
        - name: mends
          debug:
            msg: mended
    - name: tolerated
      command: /bin/false
      ignore_errors: true
`);
    const breaks = r.tasks.find((t) => t.task === 'breaks')!.hosts.alpha!;
    expect(breaks).toMatchObject({ status: 'failed', rescued: true });
    expect(r.stats.alpha).toMatchObject({ failed: 0, rescued: 1, ignored: 1 });
    const xml = junitXml(r);
    expect(xml).toContain('failures="0"');
    expect(xml).toContain('to-stderr');
  });
});
