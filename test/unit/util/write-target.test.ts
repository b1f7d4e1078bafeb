// Safe writes: only regular files are replaced (a symlink to one is written through), everything else is
// refused in one sentence naming the flag and the path; a read-only or full file system is told, not thrown
// as a stack. Real mounts (a read-only tmpfs, a 64 KiB tmpfs filled up) need root: skipped otherwise.
import { execFileSync } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../../src/util/write-file-atomic.js';
import {
  checkWritableDir,
  checkWritableFile,
  WriteTargetError,
  writeTarget,
} from '../../../src/util/write-target.js';

const scratch = mkdtempSync(join(tmpdir(), 'ewsplay-write-'));
const isRoot = process.getuid?.() === 0;
const mounts: string[] = [];

/** A tmpfs mounted at a new directory (root only): `ro` for read-only, `size=64k` to fill it up. */
function tmpfs(options: string): string {
  const dir = mkdtempSync(join(scratch, 'mnt-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
  mounts.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of mounts.reverse()) execFileSync('umount', [dir]);
});

async function refusal(p: Promise<unknown>): Promise<WriteTargetError> {
  const e = await p.catch((x: unknown) => x);
  expect(e).toBeInstanceOf(WriteTargetError);
  return e as WriteTargetError;
}

describe('writeTarget', () => {
  it('a new file or a regular file is written where it is', async () => {
    const file = join(scratch, 'report.json');
    expect(await writeTarget('--report', file)).toBe(file);
    writeFileSync(file, 'old');
    expect(await writeTarget('--report', file)).toBe(file);
  });

  it('a symlink to a regular file is written through: the link stays a link, its file gets the content', async () => {
    const real = join(scratch, 'real.json');
    const link = join(scratch, 'link.json');
    writeFileSync(real, 'old');
    symlinkSync(real, link);
    await writeFileAtomic(link, 'new', '--report');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(real);
    expect(readFileSync(real, 'utf8')).toBe('new');
  });

  it('refuses /dev/null, and leaves it a character device', async () => {
    const e = await refusal(writeFileAtomic('/dev/null', '{}', '--report'));
    expect(e.message).toBe('--report /dev/null is a device, not a regular file');
    expect(e.hint).toContain('leave the flag out');
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
  });

  it('refuses a directory, a symlink to a device or a directory, a dangling symlink, /proc and /sys', async () => {
    const dir = join(scratch, 'adir');
    mkdirSync(dir);
    expect((await refusal(writeTarget('--junit', dir))).message).toBe(
      `--junit ${dir} is a directory, not a regular file`,
    );
    const toDevice = join(scratch, 'to-null');
    symlinkSync('/dev/null', toDevice);
    expect((await refusal(writeFileAtomic(toDevice, 'x', '--report'))).message).toBe(
      `--report ${toDevice} is a symbolic link to a device (/dev/null), not to a regular file`,
    );
    expect(lstatSync(toDevice).isSymbolicLink()).toBe(true);
    const toDir = join(scratch, 'to-dir');
    symlinkSync(dir, toDir);
    expect((await refusal(writeTarget('--report', toDir))).message).toContain(
      'a symbolic link to a directory',
    );
    const dangling = join(scratch, 'dangling');
    symlinkSync(join(scratch, 'nothing-here'), dangling);
    expect((await refusal(writeTarget('--report', dangling))).message).toBe(
      `--report ${dangling} is a symbolic link to nothing`,
    );
    expect((await refusal(writeTarget('--report', '/proc/self/environ'))).message).toMatch(
      /^--report \/proc\/self\/environ is under \/proc/,
    );
    expect((await refusal(checkWritableFile('--junit', '/sys/kernel/x.xml'))).message).toMatch(/under \/sys/);
  });

  it('a file whose directory is missing is fine (it is created); one below a regular file is refused', async () => {
    await checkWritableFile('--report', join(scratch, 'new/deeper/report.json'));
    const file = join(scratch, 'plain');
    writeFileSync(file, 'x');
    expect((await refusal(checkWritableFile('--report', join(file, 'report.json')))).message).toBe(
      `--report ${join(file, 'report.json')} cannot be written: ${file} is a regular file, not a directory`,
    );
  });
});

describe.skipIf(!isRoot)('file systems that cannot be written (real tmpfs mounts, as root)', () => {
  it('a read-only file system is refused before the run, and a write there is one sentence', async () => {
    const ro = tmpfs('ro,size=64k');
    const e = await refusal(checkWritableDir('state directory', join(ro, 'state')));
    expect(e.message).toBe(
      `state directory ${join(ro, 'state')} cannot be written: the file system is read-only (EROFS)`,
    );
    expect(e.hint).toContain('nothing was done on any host');
    const w = await refusal(writeFileAtomic(join(ro, 'x.json'), '{}', 'state file'));
    expect(w.message).toBe(
      `state file ${join(ro, 'x.json')} could not be written: the file system is read-only (EROFS)`,
    );
  });

  it('a full file system is refused by the probe, and a write that fills it leaves the old file whole', async () => {
    const small = tmpfs('size=64k');
    const keep = join(small, 'state.json');
    writeFileSync(keep, 'old state\n');
    // Fill the rest of it.
    try {
      writeFileSync(join(small, 'filler'), Buffer.alloc(1024 * 1024));
    } catch {}
    const e = await refusal(checkWritableDir('state directory', small));
    expect(e.message).toMatch(/cannot be written: no space left on the device \(ENOSPC\)$/);
    const w = await refusal(writeFileAtomic(keep, 'new state '.repeat(10_000), 'state file'));
    expect(w.message).toBe(`state file ${keep} could not be written: no space left on the device (ENOSPC)`);
    expect(readFileSync(keep, 'utf8')).toBe('old state\n');
    // No temp file left behind.
    expect(readdirSync(small).sort()).toEqual(['filler', 'state.json']);
  });
});
