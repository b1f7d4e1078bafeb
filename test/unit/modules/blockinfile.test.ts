import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type BlockArgs, blockinfileModule, editBlock } from '../../../src/modules/blockinfile.js';
import { argsValidator, makeContext, makeTempDir, snapshotTree } from './context.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
});
afterEach(() => cleanup());

const defaults: BlockArgs = {
  state: 'present',
  block: '',
  marker: '# {mark} ANSIBLE MANAGED BLOCK',
  markerBegin: 'BEGIN',
  markerEnd: 'END',
  appendNewline: false,
  prependNewline: false,
};
const edit = (text: string | undefined, a: Partial<BlockArgs>) => editBlock(text, { ...defaults, ...a });

const BEGIN = '# BEGIN ANSIBLE MANAGED BLOCK\n';
const END = '# END ANSIBLE MANAGED BLOCK\n';

// Inputs follow Ansible's documented examples; the expected outputs are what Ansible's blockinfile writes.
describe('blockinfile semantics (Ansible)', () => {
  it('appends the block between the default markers at EOF, then is ok (the sshd_config example)', () => {
    const block = 'Match User ansible-agent\nPasswordAuthentication no\n';
    const first = edit('Port 22\n', { block });
    expect(first).toEqual({ text: `Port 22\n${BEGIN}${block}${END}`, msg: 'Block inserted' });
    expect(edit(first.text, { block })).toEqual({ text: first.text, msg: '' });
  });

  it('adds the missing newline to the block and to the last line of the file', () => {
    expect(edit('a', { block: 'x' }).text).toBe(`a\n${BEGIN}x\n${END}`);
  });

  it('updates the block in place between the existing markers', () => {
    const text = `top\n${BEGIN}old 1\nold 2\n${END}bottom\n`;
    expect(edit(text, { block: 'new\n', insertbefore: 'BOF' })).toEqual({
      text: `top\n${BEGIN}new\n${END}bottom\n`,
      msg: 'Block inserted',
    });
  });

  it('inserts after the last line matching insertafter, with custom markers (the <body> example)', () => {
    const html = '<html>\n<body>\n<p>x</p>\n</body>\n</html>\n';
    const marker = '<!-- {mark} ANSIBLE MANAGED BLOCK -->';
    const block = '<h1>Welcome to web1</h1>\n<p>Last updated on 2024-01-01</p>\n';
    const placed = edit(html, { marker, insertafter: '<body>', block });
    expect(placed.text).toBe(
      '<html>\n<body>\n<!-- BEGIN ANSIBLE MANAGED BLOCK -->\n<h1>Welcome to web1</h1>\n<p>Last updated on 2024-01-01</p>\n<!-- END ANSIBLE MANAGED BLOCK -->\n<p>x</p>\n</body>\n</html>\n',
    );
    // The next example: block "" removes the block and both markers.
    expect(edit(placed.text, { marker, block: '' })).toEqual({ text: html, msg: 'Block removed' });
  });

  it('insertbefore puts the block before the last matching line, or at the top with BOF', () => {
    const text = 'a\nexit 0\nb\nexit 0\n';
    expect(edit(text, { block: 'x', insertbefore: '^exit' }).text).toBe(
      `a\nexit 0\nb\n${BEGIN}x\n${END}exit 0\n`,
    );
    expect(edit(text, { block: 'x', insertbefore: 'BOF' }).text).toBe(`${BEGIN}x\n${END}${text}`);
    // An anchor that matches nothing: the end of the file.
    expect(edit(text, { block: 'x', insertafter: '^nothing' }).text).toBe(`${text}${BEGIN}x\n${END}`);
  });

  it('a (?m) insertafter is searched in the whole file (the listener.ora example)', () => {
    const ora = 'SID_LIST_LISTENER_DG =\n  (SID_LIST =\n    (SID_DESC = x)\n  )\n';
    const r = edit(ora, {
      insertafter: '(?m)SID_LIST_LISTENER_DG =\\n.*\\(SID_LIST =',
      marker: '    <!-- {mark} ANSIBLE MANAGED BLOCK -->',
      block: '        (SID_DESC = y)',
    });
    expect(r.text).toBe(
      'SID_LIST_LISTENER_DG =\n  (SID_LIST =\n    <!-- BEGIN ANSIBLE MANAGED BLOCK -->\n        (SID_DESC = y)\n    <!-- END ANSIBLE MANAGED BLOCK -->\n    (SID_DESC = x)\n  )\n',
    );
  });

  it('marker_begin/marker_end name the markers; one marker per block keeps blocks apart', () => {
    const a = edit('', {
      marker: '# {mark} web1',
      markerBegin: 'START',
      markerEnd: 'STOP',
      block: '10.0.0.1 web1',
    });
    expect(a.text).toBe('# START web1\n10.0.0.1 web1\n# STOP web1\n');
    const b = edit(a.text, { marker: '# {mark} web2', block: '10.0.0.2 web2' });
    expect(b.text).toBe(`${a.text}# BEGIN web2\n10.0.0.2 web2\n# END web2\n`);
  });

  it('state=absent removes the block; without one the file is left alone', () => {
    const text = `a\n${BEGIN}x\n${END}b\n`;
    expect(edit(text, { state: 'absent', block: 'ignored' })).toEqual({
      text: 'a\nb\n',
      msg: 'Block removed',
    });
    expect(edit('a\nb\n', { state: 'absent' })).toEqual({ text: 'a\nb\n', msg: '' });
  });

  it('a marker pair in the wrong order is replaced from END to BEGIN', () => {
    expect(edit(`${END}mid\n${BEGIN}tail\n`, { block: 'x' }).text).toBe(`${BEGIN}x\n${END}tail\n`);
  });

  it('prepend_newline and append_newline add a blank line only where none is', () => {
    const text = 'a\nanchor\nb\n';
    expect(
      edit(text, { block: 'x', insertafter: '^anchor', prependNewline: true, appendNewline: true }).text,
    ).toBe(`a\nanchor\n\n${BEGIN}x\n${END}\nb\n`);
    // At the end of the file no blank line follows; after a blank line none is added before.
    expect(edit('a\n\n', { block: 'x', prependNewline: true, appendNewline: true }).text).toBe(
      `a\n\n${BEGIN}x\n${END}`,
    );
  });

  it('a missing file is created with the block (create: true)', () => {
    expect(edit(undefined, { block: 'x' })).toEqual({ text: `${BEGIN}x\n${END}`, msg: 'File created' });
  });

  it('keeps CRLF lines and non-UTF-8 bytes as they are', () => {
    const latin = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0d, 0x0a]).toString('latin1');
    const out = edit(latin, { block: '\u00fc' });
    expect(Buffer.from(out.text, 'latin1')).toEqual(
      Buffer.concat([
        Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0d, 0x0a]),
        Buffer.from(`${BEGIN}\u00fc\n${END}`),
      ]),
    );
  });
});

describe('blockinfile module', () => {
  it('inserts, is ok on the second run, and removes the block again', async () => {
    const path = join(dir, 'sshd_config');
    await writeFile(path, 'Port 22\n');
    await chmod(path, 0o600);
    const args = { path, block: 'Match User ansible-agent\nPasswordAuthentication no\n' };
    expect(await blockinfileModule.run(makeContext(), args)).toMatchObject({
      changed: true,
      msg: 'Block inserted',
    });
    expect(await readFile(path, 'utf8')).toBe(`Port 22\n${BEGIN}${args.block}${END}`);
    expect(((await stat(path)).mode & 0o777).toString(8)).toBe('600');
    expect((await blockinfileModule.run(makeContext(), args)).changed).toBe(false);
    expect(await blockinfileModule.run(makeContext(), { path, state: 'absent' })).toMatchObject({
      changed: true,
      msg: 'Block removed',
    });
    expect(await readFile(path, 'utf8')).toBe('Port 22\n');
  });

  it('check mode with diff predicts exactly and changes nothing', async () => {
    const path = join(dir, 'hosts');
    await writeFile(path, '127.0.0.1 localhost\n');
    const before = await snapshotTree(dir);
    const r = await blockinfileModule.run(makeContext({ check: true, diff: true }), {
      path,
      block: '10.0.0.1 web1',
    });
    expect(r).toMatchObject({ changed: true, msg: 'Block inserted' });
    expect(r.diff).toEqual([
      { path, before: '127.0.0.1 localhost\n', after: `127.0.0.1 localhost\n${BEGIN}10.0.0.1 web1\n${END}` },
    ]);
    const create = await blockinfileModule.run(makeContext({ check: true }), {
      path: join(dir, 'new', 'file'),
      block: 'x',
      create: true,
    });
    expect(create).toMatchObject({ changed: true, msg: 'File created' });
    expect(await snapshotTree(dir)).toEqual(before);
  });

  it('fails on a missing file unless create, which makes the directory and sets the mode', async () => {
    const path = join(dir, 'etc', 'app.conf');
    expect(await blockinfileModule.run(makeContext(), { path, block: 'a=1' })).toMatchObject({
      failed: true,
    });
    expect(await blockinfileModule.run(makeContext(), { path, state: 'absent', create: true })).toMatchObject(
      {
        changed: false,
        msg: `File ${path} not present`,
      },
    );
    const args = { path, block: 'a=1', create: true, mode: '0640' };
    expect(await blockinfileModule.run(makeContext(), args)).toMatchObject({
      changed: true,
      msg: 'File created',
    });
    expect(await readFile(path, 'utf8')).toBe(`${BEGIN}a=1\n${END}`);
    expect(((await stat(path)).mode & 0o777).toString(8)).toBe('640');
    expect((await blockinfileModule.run(makeContext(), args)).changed).toBe(false);
  });

  it('validate guards the write; a backup is kept when asked', async () => {
    const path = join(dir, 'sudoers');
    await writeFile(path, 'root ALL=(ALL) ALL\n');
    await expect(
      blockinfileModule.run(makeContext(), { path, block: 'bad', validate: "grep -q '^good$' %s" }),
    ).rejects.toThrow(/failed to validate/);
    expect(await readFile(path, 'utf8')).toBe('root ALL=(ALL) ALL\n');
    const r = await blockinfileModule.run(makeContext(), {
      path,
      block: 'good',
      validate: "grep -q '^good$' %s",
      backup: true,
    });
    expect(r.changed).toBe(true);
    expect(await readFile(path, 'utf8')).toBe(`root ALL=(ALL) ALL\n${BEGIN}good\n${END}`);
    expect(await readFile(r.data?.backup_file as string, 'utf8')).toBe('root ALL=(ALL) ALL\n');
    expect(
      await blockinfileModule.run(makeContext(), { path, block: 'x', validate: 'visudo -c' }),
    ).toMatchObject({
      failed: true,
      msg: expect.stringContaining('validate must contain %s'),
    });
  });
});

describe('blockinfile args schema', () => {
  const valid = argsValidator(blockinfileModule);
  it.each([
    [{ path: '/a', block: 'x' }, true],
    [{ path: '/a', block: 'x', insertafter: 'EOF', marker: '# {mark} x', create: true, mode: '0600' }, true],
    [{ path: '/a', state: 'absent' }, true],
    [{ path: '/a', block: 'x', insertafter: 'a', insertbefore: 'b' }, false],
    [{ path: '/a', state: 'gone' }, false],
    [{ block: 'x' }, false],
  ])('%j -> %s', (args, ok) => {
    expect(valid(args)).toBe(ok);
  });
});
