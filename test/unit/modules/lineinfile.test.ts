import { chmod, lstat, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { editLines, type LineArgs, lineinfileModule } from '../../../src/modules/lineinfile.js';
import { argsValidator, makeContext, makeTempDir, snapshotTree } from './context.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
});
afterEach(() => cleanup());

const edit = (text: string, a: Partial<LineArgs>) =>
  editLines(text, { state: 'present', backrefs: false, firstmatch: false, ...a });

describe('lineinfile semantics (Ansible)', () => {
  it('replaces the LAST line matching regexp, or the first with firstmatch', () => {
    const text = 'port=1\nx\nport=2\n';
    expect(edit(text, { regexp: '^port=', line: 'port=9' })).toEqual({
      text: 'port=1\nx\nport=9\n',
      msg: 'line replaced',
    });
    expect(edit(text, { regexp: '^port=', line: 'port=9', firstmatch: true }).text).toBe(
      'port=9\nx\nport=2\n',
    );
  });

  it('appends at EOF by default, adding a missing final newline first', () => {
    expect(edit('a\nb', { line: 'c' })).toEqual({ text: 'a\nb\nc\n', msg: 'line added' });
    expect(edit('', { line: 'c' }).text).toBe('c\n');
  });

  it('leaves the file alone when the exact line is already there (even if regexp does not match)', () => {
    expect(edit('a\nc\n', { line: 'c' })).toEqual({ text: 'a\nc\n', msg: '' });
    expect(edit('a\nc\n', { regexp: '^nomatch', line: 'c' })).toEqual({ text: 'a\nc\n', msg: '' });
  });

  it('inserts after the last insertafter match, or before the last insertbefore match', () => {
    const text = '[a]\nk=1\n[b]\nk=2\n';
    expect(edit(text, { line: 'new', insertafter: '^\\[' }).text).toBe('[a]\nk=1\n[b]\nnew\nk=2\n');
    expect(edit(text, { line: 'new', insertafter: '^\\[', firstmatch: true }).text).toBe(
      '[a]\nnew\nk=1\n[b]\nk=2\n',
    );
    expect(edit(text, { line: 'new', insertbefore: '^\\[' }).text).toBe('[a]\nk=1\nnew\n[b]\nk=2\n');
    expect(edit(text, { line: 'new', insertbefore: 'BOF' }).text).toBe(`new\n${text}`);
    // An anchor that matches nothing: the line goes to the end.
    expect(edit(text, { line: 'new', insertafter: '^nothing' }).text).toBe(`${text}new\n`);
  });

  it('does not insert again when the line already follows the anchor', () => {
    expect(edit('[a]\nnew\n', { line: 'new', insertafter: '^\\[a\\]' }).msg).toBe('');
  });

  it('regexp match wins over insertafter', () => {
    expect(edit('a\nport=1\nz\n', { regexp: '^port', line: 'port=2', insertafter: '^z' }).text).toBe(
      'a\nport=2\nz\n',
    );
  });

  it('backrefs expand groups, and leave the file alone without a match', () => {
    const a = { regexp: '^(listen)\\s*=\\s*(\\d+)$', line: '\\1 = 8443 # was \\2', backrefs: true };
    expect(edit('listen = 80\n', a).text).toBe('listen = 8443 # was 80\n');
    expect(edit('other\n', a)).toEqual({ text: 'other\n', msg: '' });
  });

  it('state=absent removes every match and counts them', () => {
    expect(
      editLines('a\nb\na\n', { state: 'absent', line: 'a', backrefs: false, firstmatch: false }),
    ).toEqual({
      text: 'b\n',
      msg: '2 line(s) removed',
      found: 2,
    });
    expect(
      editLines('x=1\ny\n', { state: 'absent', regexp: '^x=', backrefs: false, firstmatch: false }).text,
    ).toBe('y\n');
  });

  it('keeps non-UTF-8 bytes intact', () => {
    const latin = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]).toString('latin1'); // "café" in latin1
    const out = edit(latin, { line: 'ü' });
    expect(Buffer.from(out.text, 'latin1')).toEqual(
      Buffer.concat([Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]), Buffer.from('ü\n')]),
    );
  });
});

describe('lineinfile module', () => {
  it('edits, then is ok on the second run, keeping the mode', async () => {
    const path = join(dir, 'sshd_config');
    await writeFile(path, 'Port 22\nPermitRootLogin yes\n');
    await chmod(path, 0o600);
    const args = { path, regexp: '^PermitRootLogin', line: 'PermitRootLogin no' };
    expect(await lineinfileModule.run(makeContext(), args)).toMatchObject({
      changed: true,
      msg: 'line replaced',
    });
    expect(await readFile(path, 'utf8')).toBe('Port 22\nPermitRootLogin no\n');
    expect(((await stat(path)).mode & 0o777).toString(8)).toBe('600');
    expect((await lineinfileModule.run(makeContext(), args)).changed).toBe(false);
  });

  it('check mode with diff predicts the edit and changes nothing', async () => {
    const path = join(dir, 'hosts');
    await writeFile(path, '127.0.0.1 localhost\n');
    const before = await snapshotTree(dir);
    const r = await lineinfileModule.run(makeContext({ check: true, diff: true }), {
      path,
      line: '127.0.0.2 mail.lab',
    });
    expect(r).toMatchObject({ changed: true, msg: 'line added' });
    expect(r.diff).toEqual([
      { path, before: '127.0.0.1 localhost\n', after: '127.0.0.1 localhost\n127.0.0.2 mail.lab\n' },
    ]);
    expect(await snapshotTree(dir)).toEqual(before);
  });

  it('fails on a missing file unless create, which also makes the directory', async () => {
    const path = join(dir, 'etc', 'app.conf');
    expect(await lineinfileModule.run(makeContext(), { path, line: 'a=1' })).toMatchObject({ failed: true });
    const check = await lineinfileModule.run(makeContext({ check: true }), {
      path,
      line: 'a=1',
      create: true,
    });
    expect(check.changed).toBe(true);
    expect(await snapshotTree(dir)).toEqual({});
    const r = await lineinfileModule.run(makeContext(), { path, line: 'a=1', create: true, mode: '0640' });
    expect(r).toMatchObject({ changed: true, msg: 'line added' });
    expect(await readFile(path, 'utf8')).toBe('a=1\n');
    expect(((await stat(path)).mode & 0o777).toString(8)).toBe('640');
    expect(
      (await lineinfileModule.run(makeContext(), { path, line: 'a=1', create: true, mode: '0640' })).changed,
    ).toBe(false);
  });

  it('state=absent on a missing file is ok; removal keeps a backup when asked', async () => {
    expect(
      await lineinfileModule.run(makeContext(), { path: join(dir, 'none'), line: 'x', state: 'absent' }),
    ).toMatchObject({ changed: false, msg: 'file not present' });
    const path = join(dir, 'f');
    await writeFile(path, 'keep\ndrop\n');
    const r = await lineinfileModule.run(makeContext(), {
      path,
      line: 'drop',
      state: 'absent',
      backup: true,
    });
    expect(r).toMatchObject({ changed: true, msg: '1 line(s) removed', data: { found: 1 } });
    expect(await readFile(path, 'utf8')).toBe('keep\n');
    expect(await readFile(r.data?.backup_file as string, 'utf8')).toBe('keep\ndrop\n');
  });

  it('edits the file a symlink points to, keeping the link', async () => {
    const real = join(dir, 'real');
    await writeFile(real, 'a\n');
    await symlink(real, join(dir, 'link'));
    expect((await lineinfileModule.run(makeContext(), { path: join(dir, 'link'), line: 'b' })).changed).toBe(
      true,
    );
    expect((await lstat(join(dir, 'link'))).isSymbolicLink()).toBe(true);
    expect(await readFile(real, 'utf8')).toBe('a\nb\n');
  });

  it('refuses a directory', async () => {
    expect(await lineinfileModule.run(makeContext(), { path: dir, line: 'x' })).toMatchObject({
      failed: true,
    });
  });

  it('validate guards the write (as Ansible: the new content checked in a temp file); a backup when asked', async () => {
    const path = join(dir, 'sudoers');
    await writeFile(path, 'root ALL=(ALL) ALL\n');
    await expect(
      lineinfileModule.run(makeContext(), { path, line: 'bad', validate: "grep -q '^good$' %s" }),
    ).rejects.toThrow(/failed to validate/);
    expect(await readFile(path, 'utf8')).toBe('root ALL=(ALL) ALL\n');
    const r = await lineinfileModule.run(makeContext(), {
      path,
      line: 'good',
      validate: "grep -q '^good$' %s",
      backup: true,
    });
    expect(r.changed).toBe(true);
    expect(await readFile(path, 'utf8')).toBe('root ALL=(ALL) ALL\ngood\n');
    expect(await readFile(r.data?.backup_file as string, 'utf8')).toBe('root ALL=(ALL) ALL\n');
    expect(
      await lineinfileModule.run(makeContext(), { path, line: 'x', validate: 'visudo -c' }),
    ).toMatchObject({
      failed: true,
      msg: expect.stringContaining('validate must contain %s'),
    });
    expect(await readFile(path, 'utf8')).toBe('root ALL=(ALL) ALL\ngood\n');
  });
});

describe('lineinfile args schema', () => {
  const valid = argsValidator(lineinfileModule);
  it.each([
    [{ path: '/a', line: 'x' }, true],
    [{ path: '/a', regexp: '^x', line: 'x', insertafter: 'EOF', create: true, mode: '0600' }, true],
    [{ path: '/a', regexp: 'x', state: 'absent' }, true],
    [{ path: '/a', search_string: 'x', state: 'absent' }, true],
    [{ path: '/a', regexp: 'x' }, false],
    [{ path: '/a', line: 'x', insertafter: 'a', insertbefore: 'b' }, false],
    [{ path: '/a', line: 'x', regexp: 'a', search_string: 'b' }, false],
    [{ path: '/a', line: 'x', backrefs: true }, false],
    [{ path: '/a', line: 'x', state: 'gone' }, false],
  ])('%j -> %s', (args, ok) => {
    expect(valid(args)).toBe(ok);
  });
});
