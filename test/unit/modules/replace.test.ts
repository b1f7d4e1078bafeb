import { chmod, lstat, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  decodeUtf8,
  encodeUtf8,
  pyRegex,
  type ReplaceArgs,
  replaceModule,
  replaceText,
} from '../../../src/modules/replace.js';
import { argsValidator, makeContext, makeTempDir, snapshotTree } from './context.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
});
afterEach(() => cleanup());

const rep = (text: string, a: Partial<ReplaceArgs> & { regexp: string }) =>
  replaceText(text, { replace: '', ...a });

// Inputs are small files in the shape of Ansible's documented examples; the expected outputs are what
// Ansible's replace (Python's re.subn with re.MULTILINE, after/before with re.DOTALL) produces.
describe('replace semantics (Ansible)', () => {
  it('replaces every match with back-references (the /etc/hosts example)', () => {
    const hosts = '127.0.0.1 localhost\n10.0.0.5 old.host.name alias\n10.0.0.6  old.host.name\n';
    expect(
      rep(hosts, { regexp: '(\\s+)old\\.host\\.name(\\s+.*)?$', replace: '\\1new.host.name\\2' }),
    ).toEqual({
      text: '127.0.0.1 localhost\n10.0.0.5 new.host.name alias\n10.0.0.6  new.host.name\n',
      changed: true,
      count: 2,
      msg: '2 replacements made',
    });
  });

  it('expands \\b, \\d and repeated groups (the localhost example)', () => {
    expect(
      rep('127.0.0.1 localhost\n::1 localhost6\n', {
        regexp: '\\b(localhost)(\\d*)\\b',
        replace: '\\1\\2.localdomain\\2 \\1\\2',
      }).text,
    ).toBe('127.0.0.1 localhost.localdomain localhost\n::1 localhost6.localdomain6 localhost6\n');
  });

  it('expands \\g<1> and named groups \\g<name>, with \\n in the replacement', () => {
    const conf = 'Port 22\nListenAddress 192.168.1.1\n';
    expect(rep(conf, { regexp: '^(ListenAddress[ ]+)[^\\n]+$', replace: '\\g<1>0.0.0.0' }).text).toBe(
      'Port 22\nListenAddress 0.0.0.0\n',
    );
    expect(
      rep(conf, {
        regexp: '^(?P<dctv>ListenAddress[ ]+)(?P<host>[^\\n]+)$',
        replace: '#\\g<dctv>\\g<host>\\n\\g<dctv>0.0.0.0',
      }).text,
    ).toBe('Port 22\n#ListenAddress 192.168.1.1\nListenAddress 0.0.0.0\n');
  });

  it('limits the region with after, before, and both (the apache examples)', () => {
    const site = 'Listen 80\nNameVirtualHost *\n<VirtualHost *>\nDocumentRoot /www\n</VirtualHost>\n';
    expect(rep(site, { after: 'NameVirtualHost [*]', regexp: '^(.+)$', replace: '# \\1' })).toMatchObject({
      text: 'Listen 80\nNameVirtualHost *\n# <VirtualHost *>\n# DocumentRoot /www\n# </VirtualHost>\n',
      msg: '3 replacements made',
    });
    const live = 'ServerName test\nDocumentRoot /test\n# live site config\nServerName live\n';
    expect(rep(live, { before: '# live site config', regexp: '^(.+)$', replace: '# \\1' }).text).toBe(
      '# ServerName test\n# DocumentRoot /test\n# live site config\nServerName live\n',
    );
    const hosts = 'keep\n<VirtualHost *>\nServerName x\nDocumentRoot /y\n</VirtualHost>\nkeep too\n';
    expect(
      rep(hosts, {
        after: '(?m)^<VirtualHost [*]>',
        before: '</VirtualHost>',
        regexp: '^(.+)$',
        replace: '# \\1',
      }),
    ).toMatchObject({
      text: 'keep\n<VirtualHost *>\n# ServerName x\n# DocumentRoot /y\n</VirtualHost>\nkeep too\n',
      msg: '2 replacements made',
    });
  });

  it('after/before do not use MULTILINE: ^ only matches the start of the file', () => {
    const text = 'a\n[x]\nv=1\n';
    const r = rep(text, { after: '^\\[x\\]', regexp: 'v=1', replace: 'v=2' });
    expect(r).toMatchObject({ changed: false, regionMissing: true });
    expect(r.msg).toBe(
      'Pattern for before/after params did not match the given file: ^\\[x\\](?P<subsection>.*)',
    );
  });

  it('is unchanged when nothing matches or the replacement gives the same text', () => {
    expect(
      rep('PermitRootLogin no\n', { regexp: '^PermitRootLogin yes$', replace: 'PermitRootLogin no' }),
    ).toEqual({ text: 'PermitRootLogin no\n', changed: false, count: 0, msg: '' });
    expect(rep('a=1\n', { regexp: 'a=(\\d)', replace: 'a=\\1' })).toMatchObject({ changed: false, count: 1 });
  });

  it('an empty replace deletes the matches (the known_hosts example)', () => {
    const known = 'old.host.name ssh-ed25519 AAAA\nother ssh-ed25519 BBBB\n';
    expect(rep(known, { regexp: '^old\\.host\\.name[^\\n]*\\n' }).text).toBe('other ssh-ed25519 BBBB\n');
  });

  it("only '\\n' ends a line, as in Python: $ does not match before '\\r'", () => {
    expect(rep('foo\r\nfoo\n', { regexp: '^foo$', replace: 'bar' }).text).toBe('foo\r\nbar\n');
    expect(rep('a\rb\n', { regexp: 'a.b', replace: 'X' }).text).toBe('X\n');
  });

  it("empty matches follow Python 3.7+ (re.sub('x*', '-', 'abxd') is '-a-b--d-')", () => {
    expect(rep('abxd', { regexp: 'x*', replace: '-' }).text).toBe('-a-b--d-');
  });

  it('translates Python-only syntax: {,n}, \\A, \\Z, (?P=name), (?#...), (?x)', () => {
    expect(rep('aaaa\n', { regexp: 'a{,2}', replace: 'b' }).text).toBe('bbb\nb');
    expect(rep('x\nx\n', { regexp: '\\Ax', replace: 'y' }).text).toBe('y\nx\n');
    expect(rep('x\nx', { regexp: 'x\\Z', replace: 'y' }).text).toBe('x\ny');
    expect(rep('abab cdcd\n', { regexp: '(?P<p>\\w\\w)(?P=p)(?#twice)', replace: '<\\g<p>>' }).text).toBe(
      '<ab> <cd>\n',
    );
    expect(rep('k = 1\n', { regexp: '(?x) ^ k \\s* = # key\n', replace: 'k=' }).text).toBe('k= 1\n');
  });

  it('refuses what Python refuses, with the reason', () => {
    expect(() => rep('a', { regexp: '(a)', replace: '\\2' })).toThrow(/invalid group reference 2/);
    expect(() => rep('a', { regexp: '(a)', replace: '\\g<nope>' })).toThrow(/unknown group name 'nope'/);
    expect(() => rep('a', { regexp: 'a', replace: '\\q' })).toThrow(/bad escape \\q/);
    expect(() => rep('a', { regexp: '\\q' })).toThrow(/bad escape \\q/);
    expect(() => rep('a', { regexp: 'a(?i)' })).toThrow(/global flags not at the start/);
    expect(() => rep('a', { regexp: '(' })).toThrow(/invalid regular expression "\("/);
  });

  it('keeps bytes that are not UTF-8 (surrogateescape) and edits the text around them', () => {
    const raw = Buffer.concat([Buffer.from('caf'), Buffer.from([0xe9]), Buffer.from(' \u00fc old\n')]);
    const text = decodeUtf8(raw);
    expect(encodeUtf8(text)).toEqual(raw);
    const out = encodeUtf8(rep(text, { regexp: 'old', replace: 'new' }).text);
    expect(out).toEqual(
      Buffer.concat([Buffer.from('caf'), Buffer.from([0xe9]), Buffer.from(' \u00fc new\n')]),
    );
    expect(pyRegex('caf.', {}).test(text)).toBe(true);
  });
});

describe('replace module', () => {
  it('edits, then is ok on the second run, keeping the mode', async () => {
    const path = join(dir, 'sshd_config');
    await writeFile(path, 'Port 22\nPermitRootLogin yes\n');
    await chmod(path, 0o600);
    const args = { path, regexp: '^PermitRootLogin yes$', replace: 'PermitRootLogin no' };
    expect(await replaceModule.run(makeContext(), args)).toMatchObject({
      changed: true,
      msg: '1 replacements made',
    });
    expect(await readFile(path, 'utf8')).toBe('Port 22\nPermitRootLogin no\n');
    expect(((await stat(path)).mode & 0o777).toString(8)).toBe('600');
    const again = await replaceModule.run(makeContext(), args);
    expect(again.changed).toBe(false);
    expect(again.msg).toBeUndefined();
  });

  it('check mode with diff predicts the edit exactly and changes nothing', async () => {
    const path = join(dir, 'hosts');
    await writeFile(path, '10.0.0.5 old.host.name\n');
    const before = await snapshotTree(dir);
    const r = await replaceModule.run(makeContext({ check: true, diff: true }), {
      path,
      regexp: 'old\\.host\\.name',
      replace: 'new.host.name',
      mode: '0640',
    });
    expect(r).toMatchObject({ changed: true, msg: '1 replacements made; mode 0644 -> 0640' });
    expect(r.diff).toEqual([
      { path, before: '10.0.0.5 old.host.name\n', after: '10.0.0.5 new.host.name\n' },
      {
        path: `${path} (attributes)`,
        before: expect.stringContaining('mode: 0644'),
        after: expect.stringContaining('mode: 0640'),
      },
    ]);
    expect(await snapshotTree(dir)).toEqual(before);
  });

  it('changes only the mode when the content already matches', async () => {
    const path = join(dir, 'f');
    await writeFile(path, 'x\n');
    await chmod(path, 0o644);
    const r = await replaceModule.run(makeContext(), { path, regexp: 'nomatch', mode: '0600' });
    expect(r).toMatchObject({ changed: true, msg: 'mode 0644 -> 0600' });
    expect(((await stat(path)).mode & 0o777).toString(8)).toBe('600');
    expect(await readFile(path, 'utf8')).toBe('x\n');
  });

  it('a region that does not match ends the task unchanged (attributes untouched, as Ansible)', async () => {
    const path = join(dir, 'f');
    await writeFile(path, 'x\n');
    await chmod(path, 0o644);
    const r = await replaceModule.run(makeContext(), { path, regexp: 'x', after: 'nothere', mode: '0600' });
    expect(r).toMatchObject({ changed: false });
    expect(r.msg).toMatch(/^Pattern for before\/after params did not match/);
    expect(((await stat(path)).mode & 0o777).toString(8)).toBe('644');
  });

  it('validate runs on the new content before it replaces the file', async () => {
    const path = join(dir, 'ports.conf');
    await writeFile(path, 'Listen 80\n');
    const ok = await replaceModule.run(makeContext(), {
      path,
      regexp: '^Listen\\s+80$',
      replace: 'Listen 127.0.0.1:8080',
      validate: "grep -q '^Listen 127.0.0.1:8080$' %s",
    });
    expect(ok.changed).toBe(true);
    expect(await readFile(path, 'utf8')).toBe('Listen 127.0.0.1:8080\n');

    await expect(
      replaceModule.run(makeContext(), {
        path,
        regexp: '8080',
        replace: '9090',
        validate: "grep -q '8080' %s",
      }),
    ).rejects.toThrow(/failed to validate: rc:1/);
    expect(await readFile(path, 'utf8')).toBe('Listen 127.0.0.1:8080\n');
    expect(await readdir(dir)).toEqual(['ports.conf']); // no temp file left behind
  });

  it('refuses validate without %s and encodings other than UTF-8', async () => {
    const path = join(dir, 'f');
    await writeFile(path, 'x\n');
    expect(await replaceModule.run(makeContext(), { path, regexp: 'x', validate: 'true' })).toMatchObject({
      failed: true,
      msg: 'validate must contain %s (the file to check): true',
    });
    expect(await replaceModule.run(makeContext(), { path, regexp: 'x', encoding: 'latin-1' })).toMatchObject({
      failed: true,
      msg: expect.stringContaining('UTF-8 only'),
    });
    expect(
      (
        await replaceModule.run(makeContext({ check: true }), {
          path,
          regexp: 'x',
          replace: 'x',
          encoding: 'UTF-8',
        })
      ).changed,
    ).toBe(false);
  });

  it('keeps a backup, edits through a symlink, fails on a missing file or a directory', async () => {
    const real = join(dir, 'real');
    await writeFile(real, 'a=1\n');
    await symlink(real, join(dir, 'link'));
    const r = await replaceModule.run(makeContext(), {
      path: join(dir, 'link'),
      regexp: 'a=1',
      replace: 'a=2',
      backup: true,
    });
    expect(r.changed).toBe(true);
    expect((await lstat(join(dir, 'link'))).isSymbolicLink()).toBe(true);
    expect(await readFile(real, 'utf8')).toBe('a=2\n');
    expect(await readFile(r.data?.backup_file as string, 'utf8')).toBe('a=1\n');
    expect(await replaceModule.run(makeContext(), { path: join(dir, 'none'), regexp: 'x' })).toMatchObject({
      failed: true,
      msg: `Path ${join(dir, 'none')} does not exist`,
    });
    expect(await replaceModule.run(makeContext(), { path: dir, regexp: 'x' })).toMatchObject({
      failed: true,
    });
  });
});

describe('replace args schema', () => {
  const valid = argsValidator(replaceModule);
  it.each([
    [{ path: '/a', regexp: 'x' }, true],
    [{ path: '/a', regexp: 'x', replace: 'y', after: 'a', before: 'b', backup: true, mode: '0600' }, true],
    [{ path: '/a' }, false],
    [{ regexp: 'x' }, false],
    [{ path: '/a', regexp: 'x', state: 'absent' }, false],
  ])('%j -> %s', (args, ok) => {
    expect(valid(args)).toBe(ok);
  });
});
