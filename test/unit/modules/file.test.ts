import { chmod, lstat, mkdir, readFile, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileModule } from '../../../src/modules/file.js';
import { argsValidator, makeContext, makeTempDir, snapshotTree } from './context.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
});
afterEach(() => cleanup());

const modeOf = async (p: string) => ((await stat(p)).mode & 0o7777).toString(8).padStart(4, '0');
const exists = (p: string) =>
  lstat(p).then(
    () => true,
    () => false,
  );

describe('file', () => {
  it('state=directory creates parents and mode, then is ok', async () => {
    const path = join(dir, 'a', 'b');
    const args = { path, state: 'directory', mode: '0750' };
    const first = await fileModule.run(makeContext({ diff: true }), args);
    expect(first).toMatchObject({
      changed: true,
      msg: 'directory created',
      data: { path, state: 'directory', mode: '0750' },
    });
    expect(first.diff).toEqual([
      { path, before: 'state: absent\n', after: 'state: directory\nmode: 0750\n' },
    ]);
    expect((await stat(path)).isDirectory()).toBe(true);
    expect(await modeOf(path)).toBe('0750');
    expect((await fileModule.run(makeContext(), args)).changed).toBe(false);
  });

  it('check mode predicts every state change and touches nothing', async () => {
    await writeFile(join(dir, 'f'), 'x');
    await chmod(join(dir, 'f'), 0o644);
    await mkdir(join(dir, 'd'));
    const before = await snapshotTree(dir);
    const ctx = makeContext({ check: true });
    const cases: [Record<string, unknown>, string][] = [
      [{ path: join(dir, 'new'), state: 'directory' }, 'directory created'],
      [{ path: join(dir, 'f'), state: 'absent' }, 'file removed'],
      [{ path: join(dir, 'd'), state: 'absent' }, 'directory removed'],
      [{ path: join(dir, 'f'), mode: '0600' }, 'mode 0644 -> 0600'],
      [{ path: join(dir, 't'), state: 'touch' }, 'file created'],
    ];
    for (const [args, msg] of cases)
      expect(await fileModule.run(ctx, args)).toMatchObject({ changed: true, msg });
    expect(await fileModule.run(ctx, { path: join(dir, 'f'), state: 'touch' })).toMatchObject({
      changed: false,
    });
    expect(await snapshotTree(dir)).toEqual(before);
  });

  it('state=absent removes a file, a tree, a link (not its target), then is ok', async () => {
    await mkdir(join(dir, 'tree', 'sub'), { recursive: true });
    await writeFile(join(dir, 'tree', 'sub', 'f'), 'x');
    await writeFile(join(dir, 'target'), 't');
    await symlink(join(dir, 'target'), join(dir, 'link'));
    for (const name of ['tree', 'link']) {
      const r = await fileModule.run(makeContext(), { path: join(dir, name), state: 'absent' });
      expect(r.changed).toBe(true);
      expect(await exists(join(dir, name))).toBe(false);
      expect((await fileModule.run(makeContext(), { path: join(dir, name), state: 'absent' })).changed).toBe(
        false,
      );
    }
    expect(await readFile(join(dir, 'target'), 'utf8')).toBe('t');
  });

  it('state=file fails on a missing path and on a directory, as Ansible does', async () => {
    const missing = join(dir, 'missing');
    expect(await fileModule.run(makeContext(), { path: missing })).toMatchObject({
      failed: true,
      msg: `file (${missing}) is absent, cannot continue`,
    });
    expect(await fileModule.run(makeContext(), { path: dir, state: 'file' })).toMatchObject({
      failed: true,
      msg: `file (${dir}) is directory, cannot continue`,
    });
    expect(await exists(missing)).toBe(false);
  });

  it('state=directory fails on an existing file', async () => {
    await writeFile(join(dir, 'f'), '');
    expect(await fileModule.run(makeContext(), { path: join(dir, 'f'), state: 'directory' })).toMatchObject({
      failed: true,
    });
  });

  it('touch creates once, then only updates timestamps without reporting a change', async () => {
    const path = join(dir, 'stamp');
    expect(await fileModule.run(makeContext(), { path, state: 'touch', mode: '0600' })).toMatchObject({
      changed: true,
      msg: 'file created',
    });
    expect(await readFile(path, 'utf8')).toBe('');
    expect(await modeOf(path)).toBe('0600');
    await utimes(path, 1_000_000, 1_000_000);
    const again = await fileModule.run(makeContext(), { path, state: 'touch', mode: '0600' });
    expect(again.changed).toBe(false);
    expect((await stat(path)).mtimeMs).toBeGreaterThan(1_000_000_000);
  });

  it('changes ownership (as root) and reports it', async ({ skip }) => {
    if (process.getuid?.() !== 0) skip();
    const path = join(dir, 'owned');
    await writeFile(path, '');
    const r = await fileModule.run(makeContext(), { path, owner: 'nobody', group: 'nogroup' });
    expect(r).toMatchObject({ changed: true, msg: 'owner root -> nobody, group root -> nogroup' });
    expect((await stat(path)).uid).toBe(65534);
    expect((await fileModule.run(makeContext(), { path, owner: 'nobody', group: 'nogroup' })).changed).toBe(
      false,
    );
  });

  it('honours become: the probe runs as the become user', async ({ skip }) => {
    if (process.getuid?.() !== 0) skip();
    const secret = join(dir, 'private');
    await mkdir(secret, { mode: 0o700 });
    await writeFile(join(secret, 'f'), '');
    const ctx = makeContext({ become: { user: 'nobody' } });
    await expect(fileModule.run(ctx, { path: join(secret, 'f') })).rejects.toThrow(
      /cannot inspect .*Permission denied/,
    );
    const asRoot = makeContext({ become: { user: 'root' } });
    expect((await fileModule.run(asRoot, { path: join(secret, 'f') })).changed).toBe(false);
  });
});

describe('file args schema', () => {
  const valid = argsValidator(fileModule);
  it.each([
    [{ path: '/a', state: 'directory', mode: '0755' }, true],
    [{ path: '/a', state: 'link' }, false],
    [{ state: 'file' }, false],
  ] as [Record<string, unknown>, boolean][])('%j -> %s', (args, ok) => {
    expect(valid(args)).toBe(ok);
  });
});
