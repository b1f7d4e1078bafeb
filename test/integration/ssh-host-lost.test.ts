// The CLI when a host's sshd is killed in the middle of a task: that host is unreachable for the rest of the
// play, the other hosts finish every task, the recap and the JSON report say so, and the exit code is 4.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SshdLab, startSshdLab } from '../../src/lab/sshd.js';
import { runOnLab } from './cli.js';

const PLAYBOOK = `- hosts: all
  gather_facts: false
  tasks:
    - name: long task
      shell: touch "{{ lab_dir }}/started" && sleep 3
    - name: after the long task
      copy:
        content: "done\\n"
        dest: "{{ lab_dir }}/after.txt"
`;

interface Report {
  stats: Record<string, { ok: number; changed: number; failed: number; unreachable: number }>;
  tasks: { task: string; hosts: Record<string, { status: string; msg?: string }> }[];
  exitCode?: number;
}

let lab: SshdLab;
let dir: string;

beforeAll(async () => {
  lab = await startSshdLab(3);
  dir = await mkdtemp(join(tmpdir(), 'ewsplay-host-lost-'));
  await writeFile(join(dir, 'site.yml'), PLAYBOOK);
});

afterAll(async () => {
  await lab?.stop();
});

describe('a host whose sshd is killed mid-task', () => {
  it('is unreachable for the rest of the play; the others finish; recap, report and exit code say so', async () => {
    const [victim, ...others] = lab.hosts;
    const reportFile = join(dir, 'report.json');
    const run = runOnLab(dir, lab, 'site.yml', '-o', 'plain', '--report', reportFile);
    // Kill the victim's sshd (and its sessions) while the long task sleeps there.
    const started = join(victim!.workDir, 'started');
    for (let i = 0; i < 200 && !existsSync(started); i++) await sleep(25);
    expect(existsSync(started)).toBe(true);
    victim!.kill();
    const r = await run;

    expect(r.rc).toBe(4);
    expect(r.stdout).toMatch(
      new RegExp(`^${victim!.name}\\s+: ok=0\\s+changed=0\\s+unreachable=1\\s+failed=0`, 'm'),
    );
    for (const h of others) {
      expect(r.stdout).toMatch(
        new RegExp(`^${h.name}\\s+: ok=2\\s+changed=2\\s+unreachable=0\\s+failed=0`, 'm'),
      );
      expect(await readFile(join(h.workDir, 'after.txt'), 'utf8')).toBe('done\n');
    }
    expect(existsSync(join(victim!.workDir, 'after.txt'))).toBe(false);

    const report = JSON.parse(await readFile(reportFile, 'utf8')) as Report;
    expect(report.exitCode).toBe(4);
    expect(report.stats[victim!.name]).toMatchObject({ unreachable: 1, failed: 0 });
    const long = report.tasks.find((t) => t.task === 'long task')!;
    expect(long.hosts[victim!.name]).toMatchObject({ status: 'unreachable' });
    expect(long.hosts[victim!.name]!.msg).toMatch(/SSH connection lost/);
    for (const h of others) expect(long.hosts[h.name]).toMatchObject({ status: 'changed' });
  });
});
