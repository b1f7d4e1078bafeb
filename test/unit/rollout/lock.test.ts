// Per-site locks: atomic, refused while held (exit code 5), stale ones of dead processes taken over.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../../src/core/problems.js';
import {
  acquireLock,
  bootTime,
  holderGone,
  lockPath,
  processStartTicks,
  SiteLockedError,
} from '../../../src/rollout/lock.js';
import { PLAYBOOK, SitesProject } from './fixture.js';

const root = () => mkdtempSync(join(tmpdir(), 'ewsplay-lock-'));

function refusal(f: () => unknown): SiteLockedError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(SiteLockedError);
    return e as SiteLockedError;
  }
  throw new Error('expected the lock to be refused');
}

function writeLock(dir: string, site: string, holder: Record<string, unknown>): string {
  const path = lockPath(dir, site);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(holder));
  return path;
}

describe('site locks', () => {
  it('records who holds the lock, refuses a second taker with who and since when, and releases', () => {
    const dir = root();
    const lock = acquireLock(dir, 'paris', 'ewsplay run x.yml -i sites', () => {});
    const held = JSON.parse(readFileSync(lockPath(dir, 'paris'), 'utf8'));
    expect(held).toMatchObject({
      pid: process.pid,
      hostname: hostname(),
      command: 'ewsplay run x.yml -i sites',
    });
    expect(held.user).toBeTruthy();
    const e = refusal(() => acquireLock(dir, 'paris', 'again', () => {}));
    expect(e.exitCode).toBe(ExitCode.locked);
    expect(e.message).toContain(
      `site 'paris' is locked by another run: ${held.user}@${hostname()} (pid ${process.pid}) since ${held.startedAt}`,
    );
    // Another site is not affected.
    acquireLock(dir, 'lyon', 'x', () => {}).release();
    lock.release();
    expect(existsSync(lockPath(dir, 'paris'))).toBe(false);
    acquireLock(dir, 'paris', 'x', () => {}).release();
  });

  it('takes over the stale lock of a dead process on this machine, with a warning', () => {
    const dir = root();
    const dead = spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim();
    writeLock(dir, 'paris', {
      pid: Number(dead),
      hostname: hostname(),
      user: 'ops',
      startedAt: '2024-01-01T00:00:00Z',
      command: 'old',
      token: 'x',
    });
    const warnings: string[] = [];
    const lock = acquireLock(dir, 'paris', 'new', (m) => warnings.push(m));
    expect(warnings).toEqual([
      `site 'paris': took over the stale lock of a run that is gone: ops@${hostname()} (pid ${dead}) since 2024-01-01T00:00:00Z: old`,
    ]);
    expect(JSON.parse(readFileSync(lockPath(dir, 'paris'), 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('takes over a lock whose pid now belongs to a process that started after the lock was taken', () => {
    const dir = root();
    // A live process with a reused pid: it started now, the lock says an hour ago.
    const reused = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const pid = reused.pid!;
      const since = new Date(Date.now() - 3600_000).toISOString();
      writeLock(dir, 'paris', {
        pid,
        hostname: hostname(),
        user: 'ops',
        startedAt: since,
        command: 'old',
        token: 'x',
      });
      const warnings: string[] = [];
      const lock = acquireLock(dir, 'paris', 'new', (m) => warnings.push(m));
      expect(warnings).toEqual([
        `site 'paris': took over the stale lock of a run that is gone: ops@${hostname()} (pid ${pid}) since ${since}: old`,
      ]);
      lock.release();
      // The same live pid with a recorded start time that is not its own: stale too.
      writeLock(dir, 'paris', {
        pid,
        hostname: hostname(),
        user: 'ops',
        startedAt: new Date().toISOString(),
        command: 'old',
        token: 'y',
        processStart: processStartTicks(pid)! - 1,
      });
      acquireLock(dir, 'paris', 'new', () => {}).release();
      // Its real start time: the holder is alive, the lock refuses.
      writeLock(dir, 'paris', {
        pid,
        hostname: hostname(),
        user: 'ops',
        startedAt: new Date().toISOString(),
        command: 'old',
        token: 'z',
        processStart: processStartTicks(pid),
        bootTime: bootTime(),
      });
      expect(refusal(() => acquireLock(dir, 'paris', 'new', () => {})).message).toContain(`(pid ${pid})`);
      expect(holderGone(JSON.parse(readFileSync(lockPath(dir, 'paris'), 'utf8')))).toBe(false);
    } finally {
      reused.kill();
    }
  });

  it('records its own start time and boot time, so a later process with its pid is not taken for it', () => {
    const dir = root();
    const lock = acquireLock(dir, 'paris', 'x', () => {});
    const held = JSON.parse(readFileSync(lockPath(dir, 'paris'), 'utf8'));
    expect(held.processStart).toBe(processStartTicks('self'));
    expect(held.bootTime).toBe(bootTime());
    expect(holderGone(held)).toBe(false);
    lock.release();
  });

  it('refuses a lock from another machine (its pid cannot be checked) and an unreadable lock file', () => {
    const dir = root();
    const path = writeLock(dir, 'paris', {
      pid: 1,
      hostname: 'elsewhere',
      user: 'ops',
      startedAt: 'then',
      command: 'c',
    });
    const e = refusal(() => acquireLock(dir, 'paris', 'x', () => {}));
    expect(e.hint).toContain(`remove ${path}`);
    writeFileSync(path, 'garbage');
    expect(refusal(() => acquireLock(dir, 'paris', 'x', () => {})).message).toContain(
      'is not an ewsplay lock',
    );
  });

  it('release leaves a lock that is no longer ours alone', () => {
    const dir = root();
    const lock = acquireLock(dir, 'paris', 'x', () => {});
    writeLock(dir, 'paris', {
      pid: process.pid,
      hostname: hostname(),
      user: 'u',
      startedAt: 's',
      command: 'c',
      token: 'other',
    });
    lock.release();
    expect(existsSync(lockPath(dir, 'paris'))).toBe(true);
  });

  it('a rollout takes every lock first: a held site refuses the whole rollout before any host is touched', async () => {
    const p = new SitesProject({ berlin: { greeting: 'a' }, paris: { greeting: 'b' } }, PLAYBOOK);
    const held = acquireLock(p.dir, 'paris', 'ewsplay run other', () => {});
    try {
      const e = await p.rollout().catch((x: unknown) => x);
      expect(e).toBeInstanceOf(SiteLockedError);
      expect(p.hostFile('berlin', 'greeting.txt')).toBeUndefined();
      expect(existsSync(lockPath(p.dir, 'berlin'))).toBe(false);
    } finally {
      held.release();
    }
  });
});
