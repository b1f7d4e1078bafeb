// Run reports: the full JSON report (every run, default under .ewsplay/runs/) and JUnit XML for CI systems.
// Both pass through the secret masker as a whole, whatever the modules put in them.
import { join } from 'node:path';
import type { Secrets } from '../core/secrets.js';
import type { RunReport } from '../engine/results.js';
import { writeFileAtomic } from '../util/write-file-atomic.js';

export function defaultReportPath(root: string, site: string | undefined, startedAt: string): string {
  return join(root, '.ewsplay', 'runs', site ?? 'default', `${startedAt.replace(/[:.]/g, '-')}.json`);
}

export async function writeJsonReport(file: string, report: RunReport, secrets: Secrets): Promise<void> {
  await writeFileAtomic(file, `${secrets.mask(JSON.stringify(report, null, 2))}\n`, 'report');
}

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
      if ((r.status === 'failed' && !r.ignored) || r.status === 'unreachable') {
        failures++;
        cases.push(
          `    <testcase ${attrs}>\n      <failure message="${xml(r.msg ?? r.status)}" type="${r.status}">${xml(r.msg ?? '')}</failure>\n    </testcase>`,
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

export async function writeJunit(file: string, report: RunReport, secrets: Secrets): Promise<void> {
  // Masked before XML escaping too: an escaped secret (&amp;) would no longer match its value.
  await writeFileAtomic(file, secrets.mask(junitXml(secrets.maskDeep(report))), 'JUnit report');
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
