// Where a control-node file (report, JUnit, state, lock, vault) may be written: only as a regular file,
// replaced through a temp file and a rename in the same directory. A device, a directory, a FIFO, a symlink
// to any of these, anything under /proc or /sys, or a directory that cannot be written is refused, and a
// run checks its files this way before it touches a host: `--report /dev/null` as root must never replace
// the system's /dev/null with a regular file.

import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, lstat, open, realpath, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../core/problems.js';

/** A file that may not be written, or could not be: one sentence for people, exit code 2. */
export class WriteTargetError extends UsageError {
  override name = 'WriteTargetError';
}

const PSEUDO_FILE_SYSTEMS = ['/proc', '/sys'];

/** What an error of the file system means, in words (the code kept for searches). */
export function fsReason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const words: Record<string, string> = {
    ENOSPC: 'no space left on the device',
    EDQUOT: 'the disk quota is exceeded',
    EROFS: 'the file system is read-only',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EISDIR: 'it is a directory',
    ENOTDIR: 'a part of the path is not a directory',
    ENOENT: 'no such file or directory',
    EIO: 'an input/output error',
    ENAMETOOLONG: 'the name is too long',
  };
  const said = err?.code ? words[err.code] : undefined;
  if (said) return `${said} (${err.code})`;
  return err instanceof Error ? err.message : String(e);
}

function kindOf(info: {
  isDirectory(): boolean;
  isFile(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
}): string {
  if (info.isDirectory()) return 'a directory';
  if (info.isFile()) return 'a regular file';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  if (info.isFIFO()) return 'a FIFO';
  if (info.isSocket()) return 'a socket';
  return 'not a regular file';
}

function underPseudoFs(path: string): string | undefined {
  return PSEUDO_FILE_SYSTEMS.find((p) => path === p || path.startsWith(`${p}/`));
}

/**
 * The regular file a write of `path` replaces: `path` itself, or the file a symlink leads to (a symlink to
 * a regular file is written through, so it stays a symlink). Throws WriteTargetError, whose message starts
 * with `label` (a flag such as `--report`, or a description such as `state file`), for anything else.
 */
export async function writeTarget(label: string, path: string): Promise<string> {
  const given = resolve(path);
  const refuse = (what: string, hint?: string) =>
    new WriteTargetError(
      `${label} ${path} ${what}`,
      hint ?? 'give the path of a regular file (it is replaced whole)',
    );
  const pseudo = underPseudoFs(given);
  if (pseudo) throw refuse(`is under ${pseudo}, which holds no files to write reports or state to`);
  const link = await lstat(given).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return undefined;
    throw refuse(`cannot be examined: ${fsReason(e)}`);
  });
  if (!link) return given;
  let target = given;
  if (link.isSymbolicLink()) {
    target = await realpath(given).catch(() => '');
    if (!target) throw refuse('is a symbolic link to nothing');
    const real = underPseudoFs(target);
    if (real) throw refuse(`leads to ${target}, under ${real}`);
  }
  const info = link.isSymbolicLink() ? await stat(target) : link;
  if (!info.isFile()) {
    const kind = kindOf(info);
    throw refuse(
      link.isSymbolicLink()
        ? `is a symbolic link to ${kind} (${target}), not to a regular file`
        : `is ${kind}, not a regular file`,
      given === '/dev/null' || target === '/dev/null'
        ? 'ewsplay never writes to /dev/null: leave the flag out (the default report goes under .ewsplay/runs/)'
        : undefined,
    );
  }
  return target;
}

/** The nearest directory at or above `dir` that exists (where a missing path would be created). */
async function nearestExisting(dir: string): Promise<string> {
  let d = dir;
  for (;;) {
    const info = await stat(d).catch(() => undefined);
    if (info) return d;
    const up = dirname(d);
    if (up === d) return d;
    d = up;
  }
}

/**
 * Why files cannot be created in `dir` (or, when it does not exist yet, in the directory it would be
 * created in), or undefined when they can: a directory, writable, on a file system neither read-only nor
 * full. A small probe file is written, synced and removed: neither root's permissions nor access() tell
 * a full disk.
 */
async function dirProblem(dir: string): Promise<string | undefined> {
  const wanted = resolve(dir);
  const pseudo = underPseudoFs(wanted);
  if (pseudo) return `it is under ${pseudo}`;
  const existing = await nearestExisting(wanted);
  const info = await stat(existing);
  if (!info.isDirectory()) return `${existing} is ${kindOf(info)}, not a directory`;
  try {
    await access(existing, constants.W_OK);
  } catch (e) {
    return fsReason(e);
  }
  const probe = join(existing, `.ewsplay-probe-${randomBytes(6).toString('hex')}`);
  try {
    const fh = await open(probe, 'wx', 0o600);
    try {
      await fh.writeFile('ewsplay checks that it can write here\n');
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (e) {
    return fsReason(e);
  } finally {
    await rm(probe, { force: true }).catch(() => undefined);
  }
  return undefined;
}

const BEFORE_THE_RUN = 'make it writable (or free some space) and run again: nothing was done on any host';

/** Refuses a directory the run will create files in (state, locks, reports) when it cannot. */
export async function checkWritableDir(label: string, dir: string): Promise<void> {
  const problem = await dirProblem(dir);
  if (problem) throw new WriteTargetError(`${label} ${dir} cannot be written: ${problem}`, BEFORE_THE_RUN);
}

/** Refuses a file the run will write (`--report`, `--junit`, a state file) for what it is or where it is. */
export async function checkWritableFile(label: string, path: string): Promise<void> {
  const target = await writeTarget(label, path);
  const problem = await dirProblem(dirname(target));
  if (problem) throw new WriteTargetError(`${label} ${path} cannot be written: ${problem}`, BEFORE_THE_RUN);
}
