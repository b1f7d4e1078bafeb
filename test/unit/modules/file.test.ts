import {
  chmod,
  link,
  lstat,
  mkdir,
  readFile,
  readlink,
  stat,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { validateTaskFile } from '../../../src/load/validate.js';
import { fileModule, parseLinkProbe } from '../../../src/modules/file.js';
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

  it('follow: false sees a link itself: state=file refuses it, as Ansible does; follow (default) goes through', async () => {
    await writeFile(join(dir, 'target'), '');
    await chmod(join(dir, 'target'), 0o644);
    await symlink('target', join(dir, 'l'));
    expect(
      await fileModule.run(makeContext(), { path: join(dir, 'l'), follow: false, mode: '0600' }),
    ).toMatchObject({
      failed: true,
      msg: `file (${join(dir, 'l')}) is link, cannot continue`,
    });
    expect(await modeOf(join(dir, 'target'))).toBe('0644');
    expect(await fileModule.run(makeContext(), { path: join(dir, 'l'), mode: '0600' })).toMatchObject({
      changed: true,
      msg: 'mode 0644 -> 0600',
    });
    expect(await modeOf(join(dir, 'target'))).toBe('0600');
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

describe('file state=link', () => {
  const run = (args: Record<string, unknown>, over: Parameters<typeof makeContext>[0] = {}) =>
    fileModule.run(makeContext(over), args);

  it('creates a symlink to src as given (relative too), then a second run is ok', async () => {
    await mkdir(join(dir, 'app-1.2'));
    const path = join(dir, 'app');
    const args = { path, src: 'app-1.2', state: 'link' };
    expect(await run(args, { diff: true })).toMatchObject({
      changed: true,
      msg: 'symlink created',
      data: { path, src: 'app-1.2', state: 'link' },
      diff: [{ path, before: 'state: absent\n', after: 'state: link\nsrc: app-1.2\n' }],
    });
    expect(await readlink(path)).toBe('app-1.2');
    expect((await stat(path)).isDirectory()).toBe(true);
    const again = await run(args, { diff: true });
    expect(again.changed).toBe(false);
    expect(again.diff).toBeUndefined();
  });

  it('retargets a link that points elsewhere, atomically, even a link to a directory', async () => {
    await mkdir(join(dir, 'app-1.2'));
    await mkdir(join(dir, "app 1.3's"));
    const path = join(dir, 'app');
    await symlink(join(dir, 'app-1.2'), path);
    const r = await run({ path, src: join(dir, "app 1.3's"), state: 'link' }, { diff: true });
    expect(r).toMatchObject({
      changed: true,
      msg: `symlink changed: ${join(dir, 'app-1.2')} -> ${join(dir, "app 1.3's")}`,
      diff: [
        {
          path,
          before: `state: link\nsrc: ${join(dir, 'app-1.2')}\n`,
          after: `state: link\nsrc: ${join(dir, "app 1.3's")}\n`,
        },
      ],
    });
    expect(await readlink(path)).toBe(join(dir, "app 1.3's"));
    // Not moved into the old target directory, and no temporary name left behind.
    expect(await snapshotTree(dir)).toEqual({
      app: `link 0777 -> ${join(dir, "app 1.3's")}`,
      'app-1.2': 'dir 0755',
      "app 1.3's": 'dir 0755',
    });
    expect((await run({ path, src: join(dir, "app 1.3's"), state: 'link' })).changed).toBe(false);
  });

  it('refuses a file, a directory and a missing src without force, touching nothing', async () => {
    await writeFile(join(dir, 'src'), 's');
    await writeFile(join(dir, 'f'), 'f');
    await mkdir(join(dir, 'd'));
    await writeFile(join(dir, 'd', 'x'), 'x');
    const before = await snapshotTree(dir);
    expect(await run({ path: join(dir, 'f'), src: 'src', state: 'link' })).toMatchObject({
      failed: true,
      msg: `refusing to convert a file at ${join(dir, 'f')} to a symlink: force: true replaces it`,
    });
    expect(await run({ path: join(dir, 'd'), src: 'src', state: 'link' })).toMatchObject({
      failed: true,
      msg: `refusing to convert from directory to symlink for ${join(dir, 'd')}: force: true replaces an empty directory`,
    });
    expect(await run({ path: join(dir, 'd'), src: 'src', state: 'link', force: true })).toMatchObject({
      failed: true,
      msg: `the directory ${join(dir, 'd')} is not empty, refusing to convert it to a symlink`,
    });
    expect(await run({ path: join(dir, 'new'), src: 'nowhere', state: 'link' })).toMatchObject({
      failed: true,
      msg: `src file does not exist, use "force: true" if you really want to create the link: ${join(dir, 'nowhere')}`,
    });
    expect(await snapshotTree(dir)).toEqual(before);
  });

  it('force: replaces a file and an empty directory, and links to a src that does not exist yet', async () => {
    await writeFile(join(dir, 'src'), 's');
    await writeFile(join(dir, 'f'), 'f');
    await mkdir(join(dir, 'd'));
    expect(await run({ path: join(dir, 'f'), src: 'src', state: 'link', force: true })).toMatchObject({
      changed: true,
      msg: 'file replaced by a symlink',
    });
    expect(await run({ path: join(dir, 'd'), src: 'src', state: 'link', force: true })).toMatchObject({
      changed: true,
      msg: 'directory replaced by a symlink',
    });
    const dangling = { path: join(dir, 'later'), src: 'not-yet', state: 'link', force: true, mode: '0600' };
    const r = await run(dangling);
    expect(r).toMatchObject({ changed: true, msg: 'symlink created' });
    // As Ansible: attributes cannot be set on a target that does not exist; it says so.
    expect(r.warnings?.[0]).toContain('does not exist');
    expect(await readFile(join(dir, 'f'), 'utf8')).toBe('s');
    expect(await readlink(join(dir, 'd'))).toBe('src');
    expect(await readlink(join(dir, 'later'))).toBe('not-yet');
    for (const name of ['f', 'd'])
      expect((await run({ path: join(dir, name), src: 'src', state: 'link', force: true })).changed).toBe(
        false,
      );
    expect((await run(dangling)).changed).toBe(false);
  });

  it('check mode predicts each outcome exactly and changes nothing', async () => {
    await writeFile(join(dir, 'src'), 's');
    await chmod(join(dir, 'src'), 0o644);
    await writeFile(join(dir, 'f'), 'f');
    await symlink('f', join(dir, 'old'));
    await symlink('src', join(dir, 'ok'));
    const before = await snapshotTree(dir);
    const cases: [Record<string, unknown>, Record<string, unknown>][] = [
      [
        { path: join(dir, 'new'), src: 'src', state: 'link' },
        { changed: true, msg: 'symlink created' },
      ],
      [
        { path: join(dir, 'old'), src: 'src', state: 'link' },
        { changed: true, msg: 'symlink changed: f -> src' },
      ],
      [{ path: join(dir, 'ok'), src: 'src', state: 'link' }, { changed: false }],
      [
        { path: join(dir, 'ok'), src: 'src', state: 'link', mode: '0600' },
        { changed: true, msg: 'mode 0644 -> 0600' },
      ],
      [
        { path: join(dir, 'f'), src: 'src', state: 'link' },
        { changed: false, failed: true },
      ],
      [
        { path: join(dir, 'f'), src: 'src', state: 'link', force: true },
        { changed: true, msg: 'file replaced by a symlink' },
      ],
      [
        { path: join(dir, 'h'), src: 'src', state: 'hard' },
        { changed: true, msg: 'hard link created' },
      ],
    ];
    const ctx = makeContext({ check: true, diff: true });
    const predicted = [];
    for (const [args, expected] of cases) {
      const r = await fileModule.run(ctx, args);
      expect(r).toMatchObject(expected);
      predicted.push(r.changed);
    }
    expect(await snapshotTree(dir)).toEqual(before);
    // The real runs do what check mode said.
    for (const [i, [args]] of cases.entries())
      expect((await fileModule.run(makeContext(), args)).changed, JSON.stringify(args)).toBe(predicted[i]);
    expect(await readlink(join(dir, 'new'))).toBe('src');
    expect(await modeOf(join(dir, 'src'))).toBe('0600');
  });

  it('diff shows the state, the old and new target and the attributes that change', async () => {
    await writeFile(join(dir, 'a'), 'a');
    await chmod(join(dir, 'a'), 0o644);
    await writeFile(join(dir, 'b'), 'b');
    await chmod(join(dir, 'b'), 0o640);
    await symlink('a', join(dir, 'l'));
    const r = await run({ path: join(dir, 'l'), src: 'b', state: 'link', mode: '0600' }, { diff: true });
    expect(r.diff).toEqual([
      {
        path: join(dir, 'l'),
        before: 'state: link\nsrc: a\nmode: 0640\n',
        after: 'state: link\nsrc: b\nmode: 0600\n',
      },
    ]);
    expect(r.msg).toBe('symlink changed: a -> b, mode 0640 -> 0600');
    expect(await modeOf(join(dir, 'b'))).toBe('0600');
    expect(await modeOf(join(dir, 'a'))).toBe('0644');
  });

  it('owner/group go to the target (follow) or to the link itself (follow: false, lchown)', async ({
    skip,
  }) => {
    if (process.getuid?.() !== 0) skip();
    await writeFile(join(dir, 'src'), '');
    const path = join(dir, 'l');
    const nofollow = { path, src: 'src', state: 'link', owner: 'nobody', follow: false, mode: '0600' };
    const r = await run(nofollow);
    expect(r).toMatchObject({ changed: true, msg: 'symlink created, owner nobody' });
    expect(r.warnings?.[0]).toContain('mode is not set on a symbolic link');
    expect((await lstat(path)).uid).toBe(65534);
    expect((await stat(path)).uid).toBe(0);
    expect(await modeOf(join(dir, 'src'))).not.toBe('0600');
    expect((await run(nofollow)).changed).toBe(false);
    expect(await run({ path, src: 'src', state: 'link', owner: 'nobody' })).toMatchObject({
      changed: true,
      msg: 'owner root -> nobody',
    });
    expect((await stat(path)).uid).toBe(65534);
    expect((await run({ path, src: 'src', state: 'link', owner: 'nobody' })).changed).toBe(false);
  });
});

describe('file state=hard', () => {
  it('creates a hard link (same inode), is ok the second time, and replaces a symlink', async () => {
    await writeFile(join(dir, 'src'), 'data');
    const path = join(dir, 'h');
    const args = { path, src: 'src', state: 'hard' };
    expect(await fileModule.run(makeContext({ diff: true }), args)).toMatchObject({
      changed: true,
      msg: 'hard link created',
      data: { path, src: 'src', state: 'hard' },
      diff: [{ path, before: 'state: absent\n', after: 'state: hard\n' }],
    });
    expect((await stat(path)).ino).toBe((await stat(join(dir, 'src'))).ino);
    expect((await fileModule.run(makeContext(), args)).changed).toBe(false);

    await symlink('src', join(dir, 's'));
    expect(await fileModule.run(makeContext(), { ...args, path: join(dir, 's') })).toMatchObject({
      changed: true,
      msg: 'link replaced by a hard link',
    });
    expect((await lstat(join(dir, 's'))).isSymbolicLink()).toBe(false);
    expect((await stat(join(dir, 's'))).ino).toBe((await stat(join(dir, 'src'))).ino);
  });

  it('refuses another file or hard link without force, replaces it with force; a missing src fails', async () => {
    await writeFile(join(dir, 'src'), 'data');
    await writeFile(join(dir, 'other'), 'other');
    await link(join(dir, 'other'), join(dir, 'other2'));
    const before = await snapshotTree(dir);
    expect(
      await fileModule.run(makeContext(), { path: join(dir, 'other2'), src: 'src', state: 'hard' }),
    ).toMatchObject({
      failed: true,
      msg: `refusing to convert a different hard link at ${join(dir, 'other2')} to a hard link: force: true replaces it`,
    });
    expect(
      await fileModule.run(makeContext(), { path: join(dir, 'x'), src: 'missing', state: 'hard' }),
    ).toMatchObject({
      failed: true,
      msg: `src does not exist: ${join(dir, 'missing')} (a hard link needs an existing file)`,
    });
    expect(await snapshotTree(dir)).toEqual(before);
    const forced = { path: join(dir, 'other2'), src: 'src', state: 'hard', force: true };
    expect(await fileModule.run(makeContext(), forced)).toMatchObject({
      changed: true,
      msg: 'hard link replaced by a hard link',
    });
    expect(await readFile(join(dir, 'other2'), 'utf8')).toBe('data');
    expect(await readFile(join(dir, 'other'), 'utf8')).toBe('other');
    expect((await fileModule.run(makeContext(), forced)).changed).toBe(false);
  });

  it('mode applies to the shared inode', async () => {
    await writeFile(join(dir, 'src'), 'data');
    await chmod(join(dir, 'src'), 0o644);
    const args = { path: join(dir, 'h'), src: join(dir, 'src'), state: 'hard', mode: '0600' };
    expect(await fileModule.run(makeContext(), args)).toMatchObject({
      changed: true,
      msg: 'hard link created, mode 0644 -> 0600',
    });
    expect(await modeOf(join(dir, 'src'))).toBe('0600');
    expect((await fileModule.run(makeContext(), args)).changed).toBe(false);
  });
});

describe('file link probe parsing', () => {
  it('tells a file with several names (hard) from a plain file, and reads the target as stored', () => {
    const p = parseLinkProbe(
      'parent=1\nkind=file\nself=644|root|root|0|0|2049|77|2\nsrctype=file\nsrcreal=/a\nsrcstat=644|root|root|0|0|2049|77|2\n',
    );
    expect(p).toMatchObject({ kind: 'hard', src: { real: '/a', stat: { id: '2049:77', mode: '0644' } } });
    expect(parseLinkProbe('parent=1\nkind=link\ntarget=a=b\\n\n').target).toBe('a=b\\n');
  });
});

describe('file args schema', () => {
  const valid = argsValidator(fileModule);
  it.each([
    [{ path: '/a', state: 'directory', mode: '0755' }, true],
    [{ path: '/a', state: 'link' }, false],
    [{ path: '/a', state: 'hard' }, false],
    [{ path: '/a', state: 'link', src: '/b', force: true, follow: false }, true],
    [{ path: '/a', state: 'hard', src: 'b' }, true],
    [{ path: '/a', src: '/b' }, false],
    [{ path: '/a', state: 'file', src: '/b' }, false],
    [{ state: 'file' }, false],
  ] as [Record<string, unknown>, boolean][])('%j -> %s', (args, ok) => {
    expect(valid(args)).toBe(ok);
  });

  it('a link without src, or src without link/hard, is a load-time problem at its file:line:col', async () => {
    const file = join(dir, 'tasks.yml');
    await writeFile(
      file,
      [
        '- name: app link',
        '  file:',
        '    path: /opt/app',
        '    state: link',
        '- file: { path: /opt/x, src: /opt/y, state: file }',
        '',
      ].join('\n'),
    );
    const { problems } = await validateTaskFile(file);
    expect(problems.map((p) => `${p.line}:${p.col} ${p.message}${p.hint ? ` | ${p.hint}` : ''}`)).toEqual([
      "2:3 module 'file' requires the argument 'src'",
      "5:45 'state' must be one of 'link', 'hard', got 'file' | src is for state: link or hard",
    ]);
    expect(problems[0]?.file).toBe(file);
  });
});
