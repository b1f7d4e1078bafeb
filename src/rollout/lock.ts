// Per-site lock: .ewsplay/locks/SITE.lock, created atomically (a complete file is hard-linked into place,
// which fails when one exists), held for the whole run, removed on exit, Ctrl-C and errors. A lock left by
// a run on this machine that is gone is taken over with a warning: its pid is not running, or it now
// belongs to a process that started after the lock was taken (pids are reused; /proc tells when a process
// started). Any other lock refuses the run.
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { ExitCode, UsageError } from '../core/problems.js';
import { fsReason, WriteTargetError } from '../util/write-target.js';

export interface LockInfo {
  pid: number;
  hostname: string;
  user: string;
  startedAt: string;
  command: string;
  /** Tells this process's lock from a later one with the same pid. */
  token: string;
  /** The holder's start time, clock ticks after boot (/proc/PID/stat), to tell a reused pid. */
  processStart?: number;
  /** The machine's boot time (btime of /proc/stat, seconds): a lock from before a reboot is stale. */
  bootTime?: number;
}

/** Ticks per second of /proc's times (USER_HZ: 100 on every Linux architecture). */
const USER_HZ = 100;

/** When process `pid` started, in clock ticks after boot; undefined without /proc or such a process. */
export function processStartTicks(pid: number | 'self'): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses; starttime is field 22.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    return Number.isFinite(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

export function bootTime(): number | undefined {
  try {
    const m = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether the run that took lock `h` (on this machine) is gone: its pid runs no process, or a process that
 * is not the one that took the lock (another boot, another start time, or one started after the lock).
 */
export function holderGone(h: LockInfo): boolean {
  if (!isAlive(h.pid)) return true;
  const boot = bootTime();
  if (h.bootTime !== undefined && boot !== undefined && h.bootTime !== boot) return true;
  const started = processStartTicks(h.pid);
  if (started === undefined) return false;
  if (h.processStart !== undefined) return started !== h.processStart;
  // A lock written before start times were recorded: compare with when it was taken (1 s of rounding).
  const taken = Date.parse(h.startedAt);
  if (boot === undefined || Number.isNaN(taken)) return false;
  return (boot + started / USER_HZ) * 1000 > taken + 1000;
}

/** Another run holds the site's lock (exit code 5). */
export class SiteLockedError extends UsageError {
  override name = 'SiteLockedError';
  override readonly exitCode: number = ExitCode.locked;
}

export function lockPath(root: string, site: string): string {
  return join(root, '.ewsplay', 'locks', `${site}.lock`);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lock's holder; undefined when there is no lock; throws on a lock file that cannot be read. */
export function readLock(path: string): LockInfo | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const info = JSON.parse(text) as LockInfo;
    if (typeof info.pid === 'number' && typeof info.hostname === 'string') return info;
  } catch {}
  throw new SiteLockedError(
    `lock file ${path} is not an ewsplay lock (unreadable content)`,
    `if no ewsplay run of this site is active, remove ${path}`,
  );
}

export function describeHolder(h: LockInfo): string {
  return `${h.user}@${h.hostname} (pid ${h.pid}) since ${h.startedAt}: ${h.command}`;
}

export class SiteLock {
  private held = true;
  constructor(
    readonly site: string,
    readonly path: string,
    readonly info: LockInfo,
  ) {}

  /** Removes the lock if it is still ours. Synchronous so it can run in an exit handler. */
  release(): void {
    if (!this.held) return;
    this.held = false;
    try {
      if (readLock(this.path)?.token === this.info.token) unlinkSync(this.path);
    } catch {}
  }
}

export function acquireLock(
  root: string,
  site: string,
  command: string,
  warn: (message: string) => void,
): SiteLock {
  const path = lockPath(root, site);
  try {
    mkdirSync(join(root, '.ewsplay', 'locks'), { recursive: true });
  } catch (e) {
    throw new WriteTargetError(
      `lock directory ${join(root, '.ewsplay', 'locks')} cannot be created: ${fsReason(e)}`,
    );
  }
  const info: LockInfo = {
    pid: process.pid,
    hostname: hostname(),
    user: userInfo().username,
    startedAt: new Date().toISOString(),
    command,
    token: randomBytes(8).toString('hex'),
  };
  const started = processStartTicks('self');
  const boot = bootTime();
  if (started !== undefined) info.processStart = started;
  if (boot !== undefined) info.bootTime = boot;
  const tmp = `${path}.${info.token}.tmp`;
  try {
    const fd = openSync(tmp, 'wx', 0o644);
    try {
      writeSync(fd, `${JSON.stringify(info, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {}
    throw new WriteTargetError(`lock file ${path} cannot be written: ${fsReason(e)}`);
  }
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        linkSync(tmp, path);
        return new SiteLock(site, path, info);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const holder = readLock(path);
      if (!holder) continue;
      if (holder.hostname !== info.hostname || !holderGone(holder))
        throw new SiteLockedError(
          `site '${site}' is locked by another run: ${describeHolder(holder)}`,
          holder.hostname === info.hostname
            ? 'wait for that run to finish (or stop it)'
            : `wait for that run to finish; if it is gone (its machine crashed), remove ${path}`,
        );
      if (takeOverStale(path, holder))
        warn(`site '${site}': took over the stale lock of a run that is gone: ${describeHolder(holder)}`);
    }
    throw new SiteLockedError(
      `site '${site}': could not take the lock ${path} (other runs keep racing for it)`,
    );
  } finally {
    unlinkSync(tmp);
  }
}

/** Moves a dead run's lock aside; puts it back if, in between, another run had replaced it. */
function takeOverStale(path: string, stale: LockInfo): boolean {
  const aside = `${path}.${randomBytes(6).toString('hex')}.stale`;
  try {
    renameSync(path, aside);
  } catch {
    return false;
  }
  const moved = readLock(aside);
  if (moved?.token !== stale.token || moved.pid !== stale.pid) {
    try {
      linkSync(aside, path);
    } catch {}
    unlinkSync(aside);
    return false;
  }
  unlinkSync(aside);
  return true;
}
