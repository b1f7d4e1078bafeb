// Connections opened while the playbook loads (issue 16): the hosts the plays name are connected before
// their play starts, each exactly once (the run takes the early connection); a host no play names is never
// connected to; an unreachable host is reported as before (recap, exit code 4); listings connect nowhere;
// a mistake in the playbook ends the run with exit 2 and no command on any host. Read from the sshd logs
// of real hosts (LogLevel VERBOSE: one "Accepted publickey" per login, one "Starting session" per channel).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type SshdLab, startSshdLab } from '../../src/lab/sshd.js';
import type { CliResult } from './cli.js';

const BIN = resolve(import.meta.dirname, '../../bin/ewsplay.js');

// The first play waits (a bounded retry, not a timer) until host2's sshd logged our login: with early
// connections it happens while the playbook loads; without them only when the second play starts.
const PLAYBOOK = (host2Log: string) => `- name: first
  hosts: host1
  gather_facts: false
  tasks:
    - name: the second play's host is connected already
      shell: "grep -c 'Accepted publickey' ${host2Log} || true"
      register: seen
      until: seen.stdout | int >= 1
      retries: 100
      delay: 0.1
      changed_when: false
      when: check_early | bool
- name: second
  hosts: host2:dead
  gather_facts: false
  tasks:
    - name: hello
      command: echo hello
      changed_when: false
`;

const BROKEN = `- hosts: host1
  gather_facts: false
  tasks:
    - name: fine
      command: echo fine
- hosts: host2
  gather_facts: false
  tasks:
    - name: a module that does not exist
      no_such_module: { x: 1 }
`;

let lab: SshdLab;
let dir: string;

beforeAll(async () => {
  lab = await startSshdLab(3);
  dir = await mkdtemp(join(tmpdir(), 'ewsplay-early-'));
  const [h1, h2, h3] = lab.hosts;
  const host = (name: string, port: number) => [
    `    ${name}:`,
    '      ansible_host: 127.0.0.1',
    `      ansible_port: ${port}`,
  ];
  await writeFile(
    join(dir, 'hosts.yml'),
    [
      'all:',
      '  vars:',
      `    ansible_user: ${JSON.stringify(lab.user)}`,
      `    ansible_ssh_private_key_file: ${JSON.stringify(lab.clientKeyFile)}`,
      '    ansible_ssh_common_args: "-F /dev/null"',
      '  hosts:',
      ...host('host1', h1!.port),
      ...host('host2', h2!.port),
      // In the inventory, in no play: never connected to.
      ...host('host3', h3!.port),
      // Nothing listens there: unreachable.
      ...host('dead', await freePort()),
      '',
    ].join('\n'),
  );
  await writeFile(join(dir, 'play.yml'), PLAYBOOK(h2!.logFile));
  await writeFile(join(dir, 'broken.yml'), BROKEN);
});

afterAll(async () => {
  await lab?.stop();
});

/** How many logins and channels each host's sshd has seen so far. */
function sshdCounts(): { logins: number[]; sessions: number[] } {
  const logs = lab.hosts.map((h) => readFileSync(h.logFile, 'utf8'));
  return {
    logins: logs.map((l) => l.split('Accepted publickey').length - 1),
    sessions: logs.map((l) => l.split('Starting session').length - 1),
  };
}

function delta(before: number[], after: number[]): number[] {
  return after.map((n, i) => n - before[i]!);
}

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const argv = [BIN, ...args, '--known-hosts', lab.knownHostsFile, '-o', 'plain'];
  return new Promise((done) => {
    execFile(
      process.execPath,
      argv,
      { cwd: dir, timeout: 60_000, env: { ...process.env, ...env } },
      (err, stdout, stderr) => done({ rc: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function recapLine(stdout: string, host: string): string | undefined {
  const recap = stdout.slice(stdout.lastIndexOf('PLAY RECAP'));
  return new RegExp(`^${host}\\s+:.*$`, 'm').exec(recap)?.[0].replace(/\s+/g, ' ');
}

describe('connections opened while the playbook loads', () => {
  it('connects the hosts of later plays early, once each, never a host no play names; results as before', async () => {
    const before = sshdCounts();
    const early = await run(['run', 'play.yml', '-i', 'hosts.yml', '-e', 'check_early=true']);
    const after = sshdCounts();
    expect(early.rc, early.stdout + early.stderr).toBe(4);
    expect(recapLine(early.stdout, 'host1')).toMatch(/ok=1 changed=0 unreachable=0 failed=0/);
    expect(recapLine(early.stdout, 'host2')).toMatch(/ok=1 changed=0 unreachable=0 failed=0/);
    expect(recapLine(early.stdout, 'dead')).toMatch(/ok=0 changed=0 unreachable=1 failed=0/);
    expect(early.stdout + early.stderr).toMatch(/dead: cannot connect to .*connection refused/);
    // One login per host used (the early connection is the run's), none on host3.
    expect(delta(before.logins, after.logins)).toEqual([1, 1, 0]);
    // The log does show channels (the last test counts on it).
    expect(delta(before.sessions, after.sessions)[1]).toBeGreaterThan(0);

    // The same run connecting as each play starts: the same results for host2 and dead, same exit code.
    const late = await run(['run', 'play.yml', '-i', 'hosts.yml', '-e', 'check_early=false'], {
      EWSPLAY_CONNECT_EARLY: '0',
    });
    expect(late.rc, late.stdout + late.stderr).toBe(4);
    for (const host of ['host2', 'dead'])
      expect(recapLine(late.stdout, host)).toBe(recapLine(early.stdout, host));
    // host1's only task is skipped (when:) before it connects, so this run never logs in there.
    expect(delta(after.logins, sshdCounts().logins)).toEqual([0, 1, 0]);
  });

  it('--list-hosts, --list-tasks and --syntax-check connect nowhere', async () => {
    const before = sshdCounts();
    for (const flag of ['--list-hosts', '--list-tasks', '--syntax-check']) {
      const r = await run(['run', 'play.yml', '-i', 'hosts.yml', flag]);
      expect(r.rc, r.stdout + r.stderr).toBe(0);
    }
    expect(sshdCounts().logins).toEqual(before.logins);
  });

  it('a mistake in the playbook: exit 2, no command on any host, nothing left open', async () => {
    const before = sshdCounts();
    const r = await run(['run', 'broken.yml', '-i', 'hosts.yml']);
    expect(r.rc, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(/no_such_module/);
    // Logins may have happened meanwhile; no channel was opened on any host.
    expect(sshdCounts().sessions).toEqual(before.sessions);
  });
});
