import { chmod, lstat, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyModule } from '../../../src/modules/copy.js';
import { argsValidator, makeContext, makeTempDir, snapshotTree } from './context.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
});
afterEach(() => cleanup());

const modeOf = async (p: string) => ((await stat(p)).mode & 0o7777).toString(8).padStart(4, '0');

describe('copy', () => {
  it('creates the file, then reports ok on the second run', async () => {
    const dest = join(dir, 'app.conf');
    const args = { content: 'port=8443\n', dest, mode: '0640' };
    const first = await copyModule.run(makeContext(), args);
    expect(first).toMatchObject({ changed: true, msg: 'file created' });
    expect(await readFile(dest, 'utf8')).toBe('port=8443\n');
    expect(await modeOf(dest)).toBe('0640');
    const second = await copyModule.run(makeContext(), args);
    expect(second.changed).toBe(false);
    expect(second.data).toMatchObject({ dest, mode: '0640', size: 10 });
  });

  it('check mode changes nothing yet predicts the change and its diff', async () => {
    const dest = join(dir, 'app.conf');
    await writeFile(dest, 'port=80\n');
    await chmod(dest, 0o600);
    const before = await snapshotTree(dir);
    const r = await copyModule.run(makeContext({ check: true, diff: true }), {
      content: 'port=8443\n',
      dest,
      mode: '0644',
    });
    expect(await snapshotTree(dir)).toEqual(before);
    expect(r.changed).toBe(true);
    expect(r.msg).toBe('content changed; mode 0600 -> 0644');
    expect(r.diff).toEqual([
      { path: dest, before: 'port=80\n', after: 'port=8443\n' },
      {
        path: `${dest} (attributes)`,
        before: expect.stringContaining('mode: 0600\n'),
        after: expect.stringContaining('mode: 0644\n'),
      },
    ]);
  });

  it('a new file diffs from empty; an unchanged file has no diff', async () => {
    const dest = join(dir, 'new.txt');
    const r = await copyModule.run(makeContext({ diff: true }), { content: 'a\n', dest });
    expect(r.diff).toEqual([{ path: dest, before: '', after: 'a\n' }]);
    const again = await copyModule.run(makeContext({ diff: true }), { content: 'a\n', dest });
    expect(again).toMatchObject({ changed: false });
    expect(again.diff).toBeUndefined();
  });

  it('changes only the mode when the content is the same, keeping the file', async () => {
    const dest = join(dir, 'f');
    await writeFile(dest, 'same\n');
    await chmod(dest, 0o600);
    const ino = (await stat(dest)).ino;
    const r = await copyModule.run(makeContext(), { content: 'same\n', dest, mode: '0644' });
    expect(r).toMatchObject({ changed: true, msg: 'mode 0600 -> 0644' });
    expect(await modeOf(dest)).toBe('0644');
    expect((await stat(dest)).ino).toBe(ino); // not rewritten
  });

  it('keeps the existing mode when none is given', async () => {
    const dest = join(dir, 'secret');
    await writeFile(dest, 'old');
    await chmod(dest, 0o600);
    await copyModule.run(makeContext(), { content: 'new', dest });
    expect(await modeOf(dest)).toBe('0600');
    expect(await readFile(dest, 'utf8')).toBe('new');
  });

  it('keeps a backup of the previous content', async () => {
    const dest = join(dir, 'b.conf');
    await writeFile(dest, 'v1\n');
    const r = await copyModule.run(makeContext(), { content: 'v2\n', dest, backup: true });
    const backup = r.data?.backup_file as string;
    expect(backup).toMatch(/b\.conf\.\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d~$/);
    expect(await readFile(backup, 'utf8')).toBe('v1\n');
    expect(await readFile(dest, 'utf8')).toBe('v2\n');
  });

  it('copies src from the playbook files/ folder, into a destination directory', async () => {
    const base = join(dir, 'play');
    await mkdir(join(base, 'files'), { recursive: true });
    await writeFile(join(base, 'files', 'ca.pem'), 'CERT\n');
    const target = join(dir, 'target');
    await mkdir(target);
    const ctx = makeContext({ baseDir: base });
    const r = await copyModule.run(ctx, { src: 'ca.pem', dest: target });
    expect(r.changed).toBe(true);
    expect(r.data?.dest).toBe(join(target, 'ca.pem'));
    expect(await readFile(join(target, 'ca.pem'), 'utf8')).toBe('CERT\n');
    expect((await copyModule.run(ctx, { src: 'ca.pem', dest: target })).changed).toBe(false);
  });

  it('force: false leaves an existing file alone', async () => {
    const dest = join(dir, 'keep');
    await writeFile(dest, 'mine');
    const r = await copyModule.run(makeContext(), { content: 'theirs', dest, force: false });
    expect(r.changed).toBe(false);
    expect(await readFile(dest, 'utf8')).toBe('mine');
  });

  it('fails clearly when the destination directory is missing or src cannot be found', async () => {
    const r = await copyModule.run(makeContext(), { content: 'x', dest: join(dir, 'nope', 'f') });
    expect(r).toMatchObject({
      failed: true,
      msg: `destination directory ${join(dir, 'nope')} does not exist`,
    });
    await expect(
      copyModule.run(makeContext({ baseDir: dir }), { src: 'missing.txt', dest: join(dir, 'x') }),
    ).rejects.toThrow(/could not find missing\.txt/);
    expect(await readdir(dir)).toEqual([]);
  });

  it('writes through a symlinked dest, keeping the link', async () => {
    const real = join(dir, 'real.conf');
    const link = join(dir, 'link.conf');
    await writeFile(real, 'old\n');
    await symlink(real, link);
    const r = await copyModule.run(makeContext(), { content: 'new\n', dest: link, backup: true });
    expect(r.changed).toBe(true);
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readFile(real, 'utf8')).toBe('new\n');
    expect(await readFile(r.data?.backup_file as string, 'utf8')).toBe('old\n');
    expect((await copyModule.run(makeContext(), { content: 'new\n', dest: link })).changed).toBe(false);
  });

  it('shows binary content as a placeholder in the diff', async () => {
    const dest = join(dir, 'bin');
    await writeFile(dest, Buffer.from([0, 1, 2]));
    const r = await copyModule.run(makeContext({ diff: true, check: true }), { content: 'text\n', dest });
    expect(r.diff?.[0]).toEqual({ path: dest, before: '(binary file of 3 bytes)\n', after: 'text\n' });
  });
});

describe('copy args schema', () => {
  const valid = argsValidator(copyModule);
  it.each([
    [{ content: 'x', dest: '/a' }, true],
    [{ src: 'a', dest: '/a', mode: '0644', owner: 'root', group: 'root', backup: true, force: false }, true],
    [{ content: 'x', dest: '/a', mode: 644 }, true],
    [{ content: 'x', src: 'a', dest: '/a' }, false],
    [{ dest: '/a' }, false],
    [{ content: 'x' }, false],
    [{ content: 'x', dest: '/a', mode: 'u+x' }, false],
    [{ content: 'x', dest: '/a', bogus: 1 }, false],
  ])('%j -> %s', (args, ok) => {
    expect(valid(args)).toBe(ok);
  });
});
