import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { archiveFormat, tarDiffers, unarchiveModule } from '../../../src/modules/unarchive.js';
import { makeContext, makeTempDir, snapshotTree } from './context.js';

let dir: string;
let cleanup: () => Promise<void>;
let src: string;
let dest: string;
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
  src = join(dir, 'src');
  dest = join(dir, 'dest');
  await mkdir(join(src, 'app/bin'), { recursive: true });
  await writeFile(join(src, 'app/README'), 'readme\n');
  await writeFile(join(src, 'app/bin/run'), '#!/bin/sh\necho run\n', { mode: 0o755 });
  await mkdir(dest);
});
afterEach(() => cleanup());

const tarball = (name: string, flag: string) => {
  execFileSync('tar', ['-c', ...(flag ? [flag] : []), '-f', join(dir, name), '-C', src, 'app']);
  return join(dir, name);
};
const run = (args: Record<string, unknown>, check = false) =>
  unarchiveModule.run(makeContext({ check, baseDir: dir }), args);

describe('unarchive', () => {
  it('knows formats by name and reads tar --diff as Ansible does', () => {
    expect(archiveFormat('a.tgz')).toEqual({ kind: 'tar', flag: '-z' });
    expect(archiveFormat('a.tar.xz')).toEqual({ kind: 'tar', flag: '-J' });
    expect(archiveFormat('a.ZIP')).toEqual({ kind: 'zip' });
    const out = 'app/README: Mod time differs\napp/bin/run: Mode differs\napp/x: Uid differs\n';
    expect(tarDiffers(out, { root: true, attrs: {} })).toHaveLength(3);
    expect(tarDiffers(out, { root: true, attrs: { mode: '0644', owner: 'root' } })).toEqual([
      'app/README: Mod time differs',
    ]);
    expect(tarDiffers(out, { root: false, attrs: {} })).toHaveLength(2);
  });

  for (const [name, flag] of [
    ['app.tar.gz', '-z'],
    ['app.tar.bz2', '-j'],
    ['app.tar.xz', '-J'],
    ['app.tar', ''],
  ] as const)
    it(`${name}: check mode predicts and changes nothing, the first run unpacks, the second changes nothing`, async () => {
      const archive = tarball(name, flag);
      const before = await snapshotTree(dest);
      const check = await run({ src: archive, dest, list_files: true }, true);
      expect(check.changed, check.msg).toBe(true);
      expect([...((check.data?.files as string[] | undefined) ?? [])].sort()).toEqual([
        'app/',
        'app/README',
        'app/bin/',
        'app/bin/run',
      ]);
      expect(await snapshotTree(dest)).toEqual(before);

      const first = await run({ src: archive, dest });
      expect(first.changed, first.msg).toBe(true);
      expect(await readFile(join(dest, 'app/bin/run'), 'utf8')).toBe('#!/bin/sh\necho run\n');
      expect((await stat(join(dest, 'app/bin/run'))).mode & 0o777).toBe(0o755);

      const second = await run({ src: archive, dest });
      expect(second.changed, second.msg).toBe(false);
      expect((await run({ src: archive, dest }, true)).changed).toBe(false);
    });

  it('unpacks again when a file was changed or removed on disk (size, mtime, missing)', async () => {
    const archive = tarball('app.tgz', '-z');
    await run({ src: archive, dest });
    await writeFile(join(dest, 'app/README'), 'edited by hand\n');
    const r = await run({ src: archive, dest });
    expect(r.changed).toBe(true);
    expect(await readFile(join(dest, 'app/README'), 'utf8')).toBe('readme\n');
    // Same size, other mtime.
    await utimes(join(dest, 'app/README'), 1000, 1000);
    expect((await run({ src: archive, dest }, true)).changed).toBe(true);
    await run({ src: archive, dest });
    expect((await stat(join(dest, 'app/README'))).mtimeMs).not.toBe(1_000_000);
    expect((await run({ src: archive, dest })).changed).toBe(false);
  });

  it('remote_src, a relative control-node src, mode on every entry, creates and extra_opts', async () => {
    const archive = tarball('app.tar.gz', '-z');
    const r = await run({ src: archive, dest, remote_src: true, mode: '0700' });
    expect(r.changed).toBe(true);
    expect((await stat(join(dest, 'app/README'))).mode & 0o777).toBe(0o700);
    const again = await run({ src: archive, dest, remote_src: true, mode: '0700' });
    expect(again.changed, again.msg).toBe(false);
    // Attributes alone differing is a change.
    expect((await run({ src: archive, dest, remote_src: true, mode: '0750' }, true)).changed).toBe(true);

    await mkdir(join(dir, 'files'));
    execFileSync('tar', ['-czf', join(dir, 'files/rel.tgz'), '-C', src, 'app']);
    const strip = join(dir, 'strip');
    await mkdir(strip);
    const s = await run({ src: 'rel.tgz', dest: strip, extra_opts: ['--strip-components=1'] });
    expect(s.changed, s.msg).toBe(true);
    expect((await readdir(strip)).sort()).toEqual(['README', 'bin']);
    expect((await run({ src: 'rel.tgz', dest: strip, extra_opts: ['--strip-components=1'] })).changed).toBe(
      false,
    );

    const c = await run({ src: 'rel.tgz', dest, creates: join(dest, 'app') });
    expect(c).toMatchObject({ changed: false, skipped: true });
  });

  it('zip: compares every file, unpacks when one differs', async () => {
    execFileSync('zip', ['-qr', join(dir, 'app.zip'), 'app'], { cwd: src });
    const z = join(dir, 'app.zip');
    expect((await run({ src: z, dest }, true)).changed).toBe(true);
    const first = await run({ src: z, dest, list_files: true });
    expect(first.changed, first.msg).toBe(true);
    expect(first.data?.files).toContain('app/bin/run');
    expect(await readFile(join(dest, 'app/README'), 'utf8')).toBe('readme\n');
    expect((await run({ src: z, dest })).changed).toBe(false);
    await writeFile(join(dest, 'app/README'), 'READMX\n');
    expect((await run({ src: z, dest })).changed).toBe(true);
    expect(await readFile(join(dest, 'app/README'), 'utf8')).toBe('readme\n');
  });

  it('says what is wrong: no dest directory, not an archive, no remote src', async () => {
    const archive = tarball('app.tgz', '-z');
    expect((await run({ src: archive, dest: join(dir, 'none') })).msg).toBe(
      `dest '${join(dir, 'none')}' must be an existing dir`,
    );
    await writeFile(join(dir, 'bad.tgz'), 'not an archive');
    const bad = await run({ src: join(dir, 'bad.tgz'), dest });
    expect(bad.failed).toBe(true);
    expect(bad.msg).toMatch(/not a readable tar archive/);
    const missing = await run({ src: join(dir, 'none.tgz'), dest, remote_src: true });
    expect(missing.msg).toMatch(/does not exist on the host/);
  });
});
