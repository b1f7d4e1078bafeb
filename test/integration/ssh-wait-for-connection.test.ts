// wait_for_connection over SSH on a real sshd host that goes down (killed, as a crash or a reboot would)
// and comes back on the same port mid-wait: the run reconnects and goes on; nothing is unreachable.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answersSsh, type SshdLab, startSshdLab } from '../../src/lab/sshd.js';
import { changedPerHost, runOnLab } from './cli.js';

const PLAYBOOK = `- hosts: all
  gather_facts: false
  tasks:
    - name: before
      command: touch "{{ lab_dir }}/before"
    - name: wait
      wait_for_connection: { delay: 2, sleep: 1, connect_timeout: 2, timeout: 30 }
      register: waited
    - name: after
      copy: { content: "elapsed={{ waited.elapsed }}", dest: "{{ lab_dir }}/elapsed" }
`;

let lab: SshdLab;
let dir: string;
let restarted: ChildProcess | undefined;

beforeAll(async () => {
  lab = await startSshdLab(1);
  dir = await mkdtemp(join(tmpdir(), 'ewsplay-wait-conn-'));
  await writeFile(join(dir, 'wait.yml'), PLAYBOOK);
});

afterAll(async () => {
  restarted?.kill('SIGKILL');
  await lab?.stop();
});

describe('wait_for_connection over SSH', () => {
  it('waits through the host going down and coming back, then the next task runs on the new connection', async () => {
    const host = lab.hosts[0]!;
    const run = runOnLab(dir, lab, 'wait.yml');
    // Down as soon as the first task has run (the run holds a connection to it), up again 4s later.
    const marker = join(host.workDir, 'before');
    for (let i = 0; i < 200 && !existsSync(marker); i++) await sleep(50);
    expect(existsSync(marker)).toBe(true);
    await sleep(500); // the first task reports back; the wait is in its 2s delay
    host.kill();
    await sleep(4000);
    expect(await answersSsh(host.port)).toBe(false);
    restarted = spawn('/usr/sbin/sshd', ['-f', join(lab.dir, `${host.name}_sshd_config`), '-D', '-e'], {
      stdio: 'ignore',
    });
    const r = await run;
    expect(r.rc, r.stdout + r.stderr).toBe(0);
    expect(changedPerHost(r.stdout)).toEqual({ [host.name]: 2 });
    // The wait lasted past the restart: it really waited, it did not find the old connection alive.
    const elapsed = /^elapsed=(\d+)$/.exec(await readFile(join(host.workDir, 'elapsed'), 'utf8'));
    expect(Number(elapsed?.[1])).toBeGreaterThanOrEqual(3);
  });
});
