// authorized_key: the collection's line rules (editAuthorizedKeys) and the module on a local temp dir:
// check mode exact and harmless, first run writes (0600 file, 0700 directory), second run changes nothing.
import { execFileSync } from 'node:child_process';
import { readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  authorizedKeyModule,
  editAuthorizedKeys,
  parseKeyLine,
  parseOptions,
} from '../../../src/modules/authorized_key.js';
import { resolveModule } from '../../../src/modules/index.js';
import { argsValidator, makeContext, makeTempDir, snapshotTree } from './context.js';

const A = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA1 alice@laptop';
const B = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQB2 bob@desk';
const C = 'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAI3 carol';
const me = userInfo().username;

describe('parsing', () => {
  it('splits options on commas outside quotes and finds type, blob and comment', () => {
    expect(parseOptions('no-pty,from="10.0.0.1,10.0.0.2",command="echo a b"')).toEqual([
      ['no-pty', null],
      ['from', '"10.0.0.1,10.0.0.2"'],
      ['command', '"echo a b"'],
    ]);
    expect(parseKeyLine('no-pty,from="x" ssh-ed25519 AAAA1 my  laptop\n', 4)).toEqual({
      blob: 'AAAA1',
      type: 'ssh-ed25519',
      options: [
        ['no-pty', null],
        ['from', '"x"'],
      ],
      comment: 'my laptop',
      rank: 4,
    });
    expect(parseKeyLine('# a comment\n', 0)).toEqual({ line: '# a comment\n', rank: 0 });
    expect(parseKeyLine('garbage here\n', 0)).toBeUndefined();
    expect(parseKeyLine('ssh-rsa\n', 0)).toBeUndefined();
  });
});

describe('editAuthorizedKeys', () => {
  const present = { state: 'present' as const, exclusive: false };

  it('appends a missing key after the existing lines and leaves a present one alone', () => {
    const before = `# managed\n${A}\n`;
    expect(editAuthorizedKeys(before, { ...present, keys: A })).toEqual({ text: before, changed: false });
    expect(editAuthorizedKeys(before, { ...present, keys: `${B}\n\n# not a key\n${C}` })).toEqual({
      text: `# managed\n${A}\n${B}\n${C}\n`,
      changed: true,
    });
  });

  it('replaces a key whose options or comment differ, moving it after the others; option order does not count', () => {
    const before = `${A}\n${B}\n`;
    const r = editAuthorizedKeys(before, { ...present, keys: A, keyOptions: 'no-pty,from="10.*"' });
    expect(r).toEqual({ text: `${B}\nno-pty,from="10.*" ${A}\n`, changed: true });
    expect(
      editAuthorizedKeys(r.text, { ...present, keys: A, keyOptions: 'from="10.*",no-pty' }).changed,
    ).toBe(false);
    const renamed = editAuthorizedKeys(before, { ...present, keys: A, comment: 'deploy' });
    expect(renamed.text).toBe(`${B}\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA1 deploy\n`);
  });

  it('absent removes the key whatever its options; exclusive keeps only the given keys', () => {
    const before = `# header\nno-pty ${A}\n${B}\n`;
    expect(editAuthorizedKeys(before, { state: 'absent', exclusive: false, keys: A })).toEqual({
      text: `# header\n${B}\n`,
      changed: true,
    });
    expect(editAuthorizedKeys(before, { state: 'absent', exclusive: false, keys: C }).changed).toBe(false);
    expect(editAuthorizedKeys(before, { ...present, exclusive: true, keys: `${C}\n${B}` })).toEqual({
      text: `${B}\n${C}\n`,
      changed: true,
    });
  });

  it('a key without a comment is written without a trailing space, and a last line without newline gets one', () => {
    const r = editAuthorizedKeys('# no newline', { ...present, keys: 'ssh-ed25519 AAAAX' });
    expect(r.text).toBe('# no newline\nssh-ed25519 AAAAX\n');
    // A line the collection wrote with its trailing space reads the same: nothing to do.
    expect(
      editAuthorizedKeys('ssh-ed25519 AAAAX \n', { ...present, keys: 'ssh-ed25519 AAAAX' }).changed,
    ).toBe(false);
  });

  it('refuses a line that is not a key', () => {
    expect(() => editAuthorizedKeys('', { ...present, keys: 'not a key' })).toThrow(
      'invalid key specified: not a key',
    );
  });
});

describe('authorized_key module', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await makeTempDir('ewsplay-authkey-'));
  });
  afterEach(async () => cleanup());

  it('check mode predicts exactly and changes nothing; the first run writes; the second changes nothing', async () => {
    const path = join(dir, 'ssh', 'authorized_keys');
    const args = { user: me, key: `${A}\n${B}`, path };
    const before = await snapshotTree(dir);
    const check = await authorizedKeyModule.run(makeContext({ check: true, diff: true }), args);
    expect(check).toMatchObject({ changed: true, data: { keyfile: path } });
    expect(check.diff).toEqual([{ path, before: '', after: `${A}\n${B}\n` }]);
    expect(await snapshotTree(dir)).toEqual(before);

    const first = await authorizedKeyModule.run(makeContext(), args);
    expect(first.changed).toBe(true);
    expect(await readFile(path, 'utf8')).toBe(`${A}\n${B}\n`);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'ssh'))).mode & 0o777).toBe(0o700);

    const second = await authorizedKeyModule.run(makeContext(), args);
    expect(second.changed).toBe(false);
    const checkAgain = await authorizedKeyModule.run(makeContext({ check: true }), args);
    expect(checkAgain.changed).toBe(false);

    const removed = await authorizedKeyModule.run(makeContext(), { ...args, key: A, state: 'absent' });
    expect(removed.changed).toBe(true);
    expect(await readFile(path, 'utf8')).toBe(`${B}\n`);
  });

  it("defaults to ~user/.ssh/authorized_keys from the user's passwd entry", async () => {
    const user = 'ewsplay-authkey-test';
    const home = join(dir, 'home');
    execFileSync('useradd', ['-M', '-d', home, user]);
    try {
      execFileSync('mkdir', ['-p', home]);
      const r = await authorizedKeyModule.run(makeContext(), { user, key: A });
      expect(r.data?.keyfile).toBe(`${home}/.ssh/authorized_keys`);
      const file = await stat(`${home}/.ssh/authorized_keys`);
      const uid = Number(execFileSync('id', ['-u', user]).toString());
      expect(file.uid).toBe(uid);
      expect((await stat(`${home}/.ssh`)).uid).toBe(uid);
    } finally {
      execFileSync('userdel', [user]);
    }
  });

  it('an unknown user fails, and in check mode too unless a path is given', async () => {
    const nobody = 'ewsplay-no-such-user';
    const r = await authorizedKeyModule.run(makeContext(), { user: nobody, key: A, path: join(dir, 'k') });
    expect(r).toMatchObject({
      failed: true,
      msg: `Failed to lookup user ${nobody}: no such user on the host`,
    });
    const check = await authorizedKeyModule.run(makeContext({ check: true }), { user: nobody, key: A });
    expect(check.msg).toMatch(/^Either user must exist or you must provide full path/);
    const withPath = await authorizedKeyModule.run(makeContext({ check: true }), {
      user: nobody,
      key: A,
      path: join(dir, 'k'),
    });
    expect(withPath).toMatchObject({ changed: true });
  });

  it('replaces a symlink unless follow is set', async () => {
    const real = join(dir, 'real_keys');
    const link = join(dir, 'link_keys');
    await writeFile(real, `${B}\n`);
    await symlink(real, link);
    const followed = await authorizedKeyModule.run(makeContext(), {
      user: me,
      key: A,
      path: link,
      follow: true,
      manage_dir: false,
    });
    expect(followed.data?.keyfile).toBe(real);
    expect(await readFile(real, 'utf8')).toBe(`${B}\n${A}\n`);
    await authorizedKeyModule.run(makeContext(), { user: me, key: C, path: link, manage_dir: false });
    expect((await stat(link)).isFile()).toBe(true);
    expect(await readFile(real, 'utf8')).toBe(`${B}\n${A}\n`);
  });

  it('refuses a key URL with a way out, and answers to ansible.posix.authorized_key', async () => {
    const r = await authorizedKeyModule.run(makeContext(), {
      user: me,
      key: 'https://github.com/someone.keys',
    });
    expect(r).toMatchObject({
      failed: true,
      msg: expect.stringContaining('fetching keys from a URL is not supported'),
    });
    expect(resolveModule('ansible.posix.authorized_key')).toBe(authorizedKeyModule);
    expect(resolveModule('ansible.builtin.authorized_key')).toBeUndefined();
    const valid = argsValidator(authorizedKeyModule);
    expect(valid({ user: 'u', key: A, exclusive: true, key_options: 'no-pty' })).toBe(true);
    expect(valid({ user: 'u' })).toBe(false);
  });
});
