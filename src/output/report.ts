// Run reports: the full JSON report (every run, default under .ewsplay/runs/) and JUnit XML for CI systems.
// Both pass through the secret masker as a whole, whatever the modules put in them.
import { join } from 'node:path';
import type { Secrets } from '../core/secrets.js';
import type { HostStats, HostTaskResult, RunReport } from '../engine/results.js';
import { writeFileAtomic } from '../util/write-file-atomic.js';

export function defaultReportPath(root: string, site: string | undefined, startedAt: string): string {
  return join(root, '.ewsplay', 'runs', site ?? 'default', `${startedAt.replace(/[:.]/g, '-')}.json`);
}

// Reports are written without fsync (see writeFileAtomic): the state file is what must survive a crash.
export async function writeJsonReport(file: string, report: RunReport, secrets: Secrets): Promise<void> {
  await writeFileAtomic(file, `${secrets.mask(JSON.stringify(report, null, 2))}\n`, 'report', {
    durable: false,
  });
}

/**
 * JUnit XML: one test case per task per host. A failure is what fails the run: a failure that was ignored
 * (ignore_errors) or rescued (a block's rescue:) is a passed case with the failure in its system-out, so a
 * run that exits 0 is never "unstable" in Jenkins or GitLab.
 */
export function junitXml(report: RunReport): string {
  const cases: string[] = [];
  let failures = 0;
  let skipped = 0;
  let count = 0;
  for (const t of report.tasks) {
    for (const [host, r] of Object.entries(t.hosts)) {
      count++;
      const name = `[${host}] ${t.task}`;
      const attrs = `classname="${xml(`${t.play}`)}" name="${xml(name)}" file="${xml(t.file)}" line="${t.line}" time="${(r.durationMs / 1000).toFixed(3)}"`;
      if ((r.status === 'failed' && !r.ignored && !r.rescued) || r.status === 'unreachable') {
        failures++;
        cases.push(
          `    <testcase ${attrs}>\n      <failure message="${xml(r.msg ?? r.status)}" type="${r.status}">${xml(failureText(r))}</failure>\n    </testcase>`,
        );
      } else if (r.status === 'failed') {
        const why = r.rescued ? 'rescued' : 'ignored';
        cases.push(
          `    <testcase ${attrs}>\n      <system-out>${xml(`${why}: ${failureText(r)}`)}</system-out>\n    </testcase>`,
        );
      } else if (r.status === 'skipped') {
        skipped++;
        cases.push(`    <testcase ${attrs}>\n      <skipped/>\n    </testcase>`);
      } else {
        cases.push(`    <testcase ${attrs}/>`);
      }
    }
  }
  const time = ((report.durationMs ?? 0) / 1000).toFixed(3);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="ewsplay" tests="${count}" failures="${failures}" skipped="${skipped}" time="${time}">`,
    `  <testsuite name="${xml(report.playbook)}" tests="${count}" failures="${failures}" skipped="${skipped}" time="${time}" timestamp="${report.startedAt}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

/** Characters of each of stdout and stderr a failure's text keeps (the JSON report has them whole). */
export const FAILURE_OUTPUT_CHARS = 4000;

/**
 * A failure as a person reads it: the message, then what the command said (rc, cmd, stderr, stdout,
 * each output bounded to its last FAILURE_OUTPUT_CHARS), for the task and for each failed loop item.
 */
export function failureText(r: HostTaskResult): string {
  const parts = [r.msg ?? r.status];
  const data = r.data ?? {};
  parts.push(...commandFields(data));
  const results = Array.isArray(data.results) ? (data.results as unknown[]) : [];
  for (const item of results) {
    if (!item || typeof item !== 'object') continue;
    const it = item as Record<string, unknown>;
    if (it.failed !== true) continue;
    const label =
      it.item === undefined
        ? ''
        : ` (item=${typeof it.item === 'string' ? it.item : JSON.stringify(it.item)})`;
    parts.push(
      `failed item${label}: ${typeof it.msg === 'string' ? it.msg : 'failed'}`,
      ...commandFields(it),
    );
  }
  return parts.join('\n');
}

function commandFields(data: Record<string, unknown>): string[] {
  const out: string[] = [];
  if (typeof data.rc === 'number') out.push(`rc: ${data.rc}`);
  if (data.cmd !== undefined)
    out.push(`cmd: ${Array.isArray(data.cmd) ? data.cmd.map(String).join(' ') : String(data.cmd)}`);
  for (const key of ['stderr', 'stdout'] as const) {
    const v = data[key];
    if (typeof v !== 'string' || v === '') continue;
    const cut = v.length > FAILURE_OUTPUT_CHARS;
    out.push(
      `${key}:${cut ? ` (last ${FAILURE_OUTPUT_CHARS} of ${v.length} characters)` : ''}\n${cut ? v.slice(-FAILURE_OUTPUT_CHARS) : v}`,
    );
  }
  return out;
}

/**
 * The run's last line: hosts by outcome, task results summed over the hosts, and the time taken, e.g.
 * `hosts: 3 ok, 1 failed · tasks: 40 ok, 12 changed, 3 skipped, 1 failed, 1 rescued · 12.3 s`.
 */
export function totalLine(report: RunReport): string {
  const stats = Object.values(report.stats);
  const hosts = { ok: 0, failed: 0, unreachable: 0 };
  for (const s of stats) {
    if (s.unreachable > 0) hosts.unreachable++;
    else if (s.failed > 0) hosts.failed++;
    else hosts.ok++;
  }
  const sum = (k: keyof HostStats) => stats.reduce((n, s) => n + s[k], 0);
  const counts = (pairs: [string, number][], always: string) =>
    pairs
      .filter(([k, n]) => n > 0 || k === always)
      .map(([k, n]) => `${n} ${k}`)
      .join(', ');
  const hostPart = counts(
    [
      ['ok', hosts.ok],
      ['failed', hosts.failed],
      ['unreachable', hosts.unreachable],
    ],
    'ok',
  );
  const taskPart = counts(
    (['ok', 'changed', 'skipped', 'failed', 'unreachable', 'rescued', 'ignored'] as const).map((k) => [
      k,
      sum(k),
    ]),
    'ok',
  );
  const seconds = ((report.durationMs ?? 0) / 1000).toFixed(1);
  return `hosts: ${hostPart} · tasks: ${taskPart} · ${seconds} s${report.interrupted ? ' (interrupted)' : ''}`;
}

export async function writeJunit(file: string, report: RunReport, secrets: Secrets): Promise<void> {
  // Masked before XML escaping too: an escaped secret (&amp;) would no longer match its value.
  await writeFileAtomic(file, secrets.mask(junitXml(secrets.maskDeep(report))), 'JUnit report', {
    durable: false,
  });
}

function xml(s: string): string {
  return (
    s
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      // biome-ignore lint/suspicious/noControlCharactersInRegex: XML 1.0 forbids these characters
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
  );
}
