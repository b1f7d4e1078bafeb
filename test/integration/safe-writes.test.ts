// What `ewsplay run` writes on the control node, end to end through the built CLI: reports, JUnit and state
// that cannot be written are refused before any host is touched (exit 2, one sentence); a write that fails
// during or after the run is told in one sentence and the run's own exit code stands; the lock is released.
// Lock, state and resume belong to the inventory, not to the directory the command runs in. The hosts are
// local-connection hosts confined to a directory (what is checked here is the control node's side); the
// read-only and full file systems are real tmpfs mounts, so those tests need root.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ewsplayIn } from './cli.js';

const BIN = join(import.meta.dirname, '../../bin/ewsplay.js');
const isRoot = process.getuid?.() === 0;
const mounts: string[] = [];

afterAll(() => {
  for (const dir of mounts.reverse()) execFileSync('umount', [dir]);
});

/** A project: inventory/hosts.yml with local hosts confined to hosts/NAME, and a playbook. */
function project(hosts: string[], playbook: string, inventory = 'inventory/hosts.yml'): string {
  const dir = mkdtempSync(join(tmpdir(), 'ewsplay-safe-'));
  const lines = hosts.map((h) => {
    mkdirSync(join(dir, 'hosts', h), { recursive: true });
    return `    ${h}: { ansible_connection: local, ewsplay_local_root: ${join(dir, 'hosts', h)} }\n`;
  });
  mkdirSync(join(dir, inventory, '..'), { recursive: true });
  writeFileSync(join(dir, inventory), `all:\n  hosts:\n${lines.join('')}`);
  writeFileSync(join(dir, 'play.yml'), playbook);
  return dir;
}

const TOUCH = `- hosts: all
  gather_facts: false
  tasks:
    - name: touch
      copy: { dest: touched.txt, content: "yes\\n" }
`;

function mount(at: string, options: string): void {
  mkdirSync(at, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', at]);
  mounts.push(at);
}

describe('files that cannot be written are refused before any host is touched', () => {
  it('--report /dev/null (as whoever runs it): exit 2, one sentence, /dev/null still a device, no host touched', async () => {
    const dir = project(['web1'], TOUCH);
    const r = await ewsplayIn(dir, ['run', 'play.yml', '-i', 'inventory/hosts.yml', '--report', '/dev/null']);
    expect(r.rc, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^error: --report \/dev\/null is a device, not a regular file\nhint: /);
    expect(r.stderr).not.toMatch(/internal error|\bat .+\.js:\d+/);
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
    expect(existsSync(join(dir, 'hosts/web1/touched.txt'))).toBe(false);
    expect(existsSync(join(dir, '.ewsplay/locks/hosts.lock'))).toBe(false);
  });

  it('--junit to a directory and --report under /proc: exit 2 naming the flag and path', async () => {
    const dir = project(['web1'], TOUCH);
    const junit = await ewsplayIn(dir, ['run', 'play.yml', '-i', 'inventory/hosts.yml', '--junit', dir]);
    expect(junit.rc).toBe(2);
    expect(junit.stderr).toContain(`error: --junit ${dir} is a directory, not a regular file`);
    const proc = await ewsplayIn(dir, [
      'run',
      'play.yml',
      '-i',
      'inventory/hosts.yml',
      '--report',
      '/proc/1/x',
    ]);
    expect(proc.rc).toBe(2);
    expect(proc.stderr).toContain('error: --report /proc/1/x is under /proc');
    expect(existsSync(join(dir, 'hosts/web1/touched.txt'))).toBe(false);
  });

  it.skipIf(!isRoot)('a read-only state directory (a read-only mount): exit 2 before the run', async () => {
    const dir = project(['web1'], TOUCH);
    const state = join(dir, '.ewsplay/state');
    mount(state, 'ro,size=64k');
    const r = await ewsplayIn(dir, ['run', 'play.yml', '-i', 'inventory/hosts.yml']);
    expect(r.rc, r.stderr).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(
        `^error: state directory ${state} cannot be written: the file system is read-only \\(EROFS\\)\\n`,
      ),
    );
    expect(existsSync(join(dir, 'hosts/web1/touched.txt'))).toBe(false);
    expect(existsSync(join(dir, '.ewsplay/locks/hosts.lock'))).toBe(false);
  });

  it.skipIf(!isRoot)('a full state directory: exit 2 before the run', async () => {
    const dir = project(['web1'], TOUCH);
    const state = join(dir, '.ewsplay/state');
    mount(state, 'size=64k');
    try {
      writeFileSync(join(state, 'filler'), Buffer.alloc(1024 * 1024));
    } catch {}
    const r = await ewsplayIn(dir, ['run', 'play.yml', '-i', 'inventory/hosts.yml']);
    expect(r.rc, r.stderr).toBe(2);
    expect(r.stderr).toContain('cannot be written: no space left on the device (ENOSPC)');
    expect(existsSync(join(dir, 'hosts/web1/touched.txt'))).toBe(false);
  });
});

describe.skipIf(!isRoot)(
  'writes that fail during or after the run (a tmpfs filled up by the run itself)',
  () => {
    // The first task fills the small file system the state (or the report) is on; the run goes on.
    const FILL = (target: string) => `- hosts: all
  gather_facts: false
  tasks:
    - name: fill the disk
      shell: head -c 1048576 /dev/zero > ${target}/filler || true
    - name: touch
      copy: { dest: touched.txt, content: "yes\\n" }
`;

    it('the state: one warning sentence, the run finishes, its report is written, exit 0, lock released', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'ewsplay-safe-'));
      const state = join(dir, '.ewsplay/state');
      mount(state, 'size=64k');
      const p = project(['web1'], FILL(state));
      // The project is `dir`: the inventory is moved into it.
      mkdirSync(join(dir, 'inventory'), { recursive: true });
      writeFileSync(join(dir, 'inventory/hosts.yml'), readFileSync(join(p, 'inventory/hosts.yml')));
      const r = await ewsplayIn(p, ['run', 'play.yml', '-i', join(dir, 'inventory/hosts.yml')]);
      expect(r.rc, r.stderr).toBe(0);
      expect(r.stderr).toContain(
        `[WARNING]: site 'hosts': state file ${join(state, 'hosts.json')} could not be written: no space left on the device (ENOSPC): the run goes on`,
      );
      expect(r.stderr).not.toMatch(/internal error|\bat .+\.js:\d+/);
      expect(readFileSync(join(p, 'hosts/web1/touched.txt'), 'utf8')).toBe('yes\n');
      const runs = readdirSync(join(dir, '.ewsplay/runs/hosts'));
      expect(runs).toHaveLength(1);
      expect(readdirSync(join(dir, '.ewsplay/locks'))).toEqual([]);
    });

    it('the report: one sentence, and the exit code is the run’s own (3 for a failed host)', async () => {
      const reports = mkdtempSync(join(tmpdir(), 'ewsplay-reports-'));
      mount(reports, 'size=64k');
      const dir = project(['web1'], `${FILL(reports)}    - name: fail\n      fail: { msg: planned }\n`);
      const report = join(reports, 'report.json');
      const r = await ewsplayIn(dir, ['run', 'play.yml', '-i', 'inventory/hosts.yml', '--report', report]);
      expect(r.rc, r.stderr).toBe(3);
      expect(r.stderr).toContain(
        `[WARNING]: report ${report} could not be written: no space left on the device (ENOSPC): the run's result stands (exit code 3)`,
      );
      expect(readFileSync(join(dir, 'hosts/web1/touched.txt'), 'utf8')).toBe('yes\n');
      expect(existsSync(report)).toBe(false);
      expect(readdirSync(join(dir, '.ewsplay/locks'))).toEqual([]);
    });
  },
);

describe('site identity: lock, state and resume belong to the inventory', () => {
  it('the same inventory run from two directories shares one lock: the second run is refused (exit 5)', async () => {
    const dir = project(['web1'], '- hosts: all\n  gather_facts: false\n  tasks:\n    - command: sleep 20\n');
    const elsewhere = mkdtempSync(join(tmpdir(), 'ewsplay-cwd-'));
    writeFileSync(join(elsewhere, 'play.yml'), TOUCH);
    const slow: ChildProcess = spawn(
      process.execPath,
      [BIN, 'run', 'play.yml', '-i', 'inventory/hosts.yml'],
      {
        cwd: dir,
        stdio: 'ignore',
      },
    );
    try {
      const lock = join(dir, '.ewsplay/locks/hosts.lock');
      for (let i = 0; i < 100 && !existsSync(lock); i++) await new Promise((r) => setTimeout(r, 100));
      expect(existsSync(lock)).toBe(true);
      const second = await ewsplayIn(elsewhere, ['run', 'play.yml', '-i', join(dir, 'inventory/hosts.yml')]);
      expect(second.rc, second.stderr).toBe(5);
      expect(second.stderr).toContain(`error: site 'hosts' is locked by another run`);
      expect(second.stderr).toContain(`(pid ${slow.pid})`);
      expect(existsSync(join(dir, 'hosts/web1/touched.txt'))).toBe(false);
      expect(existsSync(join(elsewhere, '.ewsplay'))).toBe(false);
    } finally {
      slow.kill('SIGTERM');
      await new Promise((r) => slow.once('exit', r));
    }
    expect(existsSync(join(dir, '.ewsplay/locks/hosts.lock'))).toBe(false);
  });

  it('runs from two directories share one history: status and --resume see both', async () => {
    const play = `- hosts: all
  gather_facts: false
  tasks:
    - name: one
      shell: echo one >> steps.log
    - name: two
      shell: echo two >> steps.log; test -e ok
`;
    const dir = project(['web1'], play);
    const elsewhere = mkdtempSync(join(tmpdir(), 'ewsplay-cwd-'));
    writeFileSync(join(elsewhere, 'play.yml'), play);
    const inv = join(dir, 'inventory/hosts.yml');
    expect((await ewsplayIn(dir, ['run', 'play.yml', '-i', 'inventory/hosts.yml'])).rc).toBe(3);
    writeFileSync(join(dir, 'hosts/web1/ok'), '');
    const resumed = await ewsplayIn(elsewhere, ['run', 'play.yml', '-i', inv, '--resume']);
    expect(resumed.rc, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain(
      '--resume: skipping what is done, on the hosts it was done on: all > one (web1)',
    );
    expect(readFileSync(join(dir, 'hosts/web1/steps.log'), 'utf8')).toBe('one\ntwo\ntwo\n');
    const status = await ewsplayIn(elsewhere, ['status', '-i', inv]);
    expect(status.rc).toBe(0);
    expect(status.stdout).toMatch(/^STEP +hosts$/m);
    expect(status.stdout).toMatch(/^ {2}two +done /m);
    expect(existsSync(join(elsewhere, '.ewsplay'))).toBe(false);
  });

  it('--resume with another inventory (other hosts) skips nothing on them', async () => {
    const play = `- hosts: all
  gather_facts: false
  tasks:
    - name: one
      shell: echo one >> steps.log
    - name: two
      shell: echo two >> steps.log
`;
    const dir = project(['web1'], play);
    mkdirSync(join(dir, 'hosts/web2'));
    writeFileSync(
      join(dir, 'inventory/other.yml'),
      `all:\n  hosts:\n    web2: { ansible_connection: local, ewsplay_local_root: ${join(dir, 'hosts/web2')} }\n`,
    );
    expect((await ewsplayIn(dir, ['run', 'play.yml', '-i', 'inventory/hosts.yml'])).rc).toBe(0);
    const other = await ewsplayIn(dir, ['run', 'play.yml', '-i', 'inventory/other.yml', '--resume']);
    expect(other.rc, other.stderr).toBe(0);
    expect(other.stdout).toContain('--resume: no step done before on these hosts: running every step');
    expect(readFileSync(join(dir, 'hosts/web2/steps.log'), 'utf8')).toBe('one\ntwo\n');
    expect(readdirSync(join(dir, '.ewsplay/state')).sort()).toEqual(['hosts.json', 'other.json']);
  });

  it('--resume after a run limited to some hosts skips the steps only on those hosts', async () => {
    const play = `- hosts: all
  gather_facts: false
  tasks:
    - name: one
      shell: echo one >> steps.log
`;
    const dir = project(['web1', 'web2'], play);
    expect(
      (await ewsplayIn(dir, ['run', 'play.yml', '-i', 'inventory/hosts.yml', '--limit', 'web1'])).rc,
    ).toBe(0);
    const r = await ewsplayIn(dir, ['run', 'play.yml', '-i', 'inventory/hosts.yml', '--resume']);
    expect(r.rc, r.stderr).toBe(0);
    expect(readFileSync(join(dir, 'hosts/web1/steps.log'), 'utf8')).toBe('one\n');
    expect(readFileSync(join(dir, 'hosts/web2/steps.log'), 'utf8')).toBe('one\n');
    const state = JSON.parse(readFileSync(join(dir, '.ewsplay/state/hosts.json'), 'utf8'));
    expect(state.steps['all > one'].hosts).toEqual({ web1: 'done', web2: 'done' });
    expect(state.inventory).toEqual(['inventory/hosts.yml']);
  });
});
