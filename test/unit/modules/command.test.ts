import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Secrets } from '../../../src/core/secrets.js';
import { commandModule } from '../../../src/modules/command.js';
import { quoteGlob, shlexSplit } from '../../../src/modules/run-command.js';
import { shellModule } from '../../../src/modules/shell.js';
import { argsValidator, makeContext, makeTempDir, snapshotTree } from './context.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
});
afterEach(() => cleanup());

describe('shlexSplit', () => {
  it("splits like Python's shlex.split", () => {
    expect(shlexSplit(`echo  'a b' "c \\"d\\" \\x" e\\ f g#h ''`)).toEqual([
      'echo',
      'a b',
      'c "d" \\x',
      'e f',
      'g#h',
      '',
    ]);
    expect(shlexSplit('a"b"c')).toEqual(['abc']);
    expect(() => shlexSplit("echo 'open")).toThrow(/no closing quotation/);
  });
});

describe('command', () => {
  it('runs without a shell: metacharacters reach the program literally', async () => {
    const marker = join(dir, 'pwned');
    const r = await commandModule.run(makeContext(), {
      cmd: `printf '%s|' a;touch\\ ${marker} '$(touch ${marker})' "\`touch ${marker}\`" '>' ${join(dir, 'out')} '*' '$HOME'`,
    });
    expect(r.failed).toBeUndefined();
    expect(r.data?.stdout).toBe(
      `a;touch ${marker}|$(touch ${marker})|\`touch ${marker}\`|>|${join(dir, 'out')}|*|$HOME|`,
    );
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it("returns Ansible's fields and fails on a non-zero return code", async () => {
    const ok = await commandModule.run(makeContext(), {
      argv: ['sh', '-c', 'echo out; echo err >&2; echo two'],
    });
    expect(ok).toMatchObject({ changed: true });
    expect(ok.data).toMatchObject({
      cmd: ['sh', '-c', 'echo out; echo err >&2; echo two'],
      rc: 0,
      stdout: 'out\ntwo',
      stdout_lines: ['out', 'two'],
      stderr: 'err',
      stderr_lines: ['err'],
    });
    expect(ok.data?.start).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
    expect(ok.data?.delta).toMatch(/^0:00:0\d\.\d{6}$/);
    const bad = await commandModule.run(makeContext(), { cmd: 'sh -c "exit 3"' });
    expect(bad).toMatchObject({ changed: true, failed: true, msg: 'non-zero return code', data: { rc: 3 } });
    const missing = await commandModule.run(makeContext(), { cmd: 'no-such-program-here' });
    expect(missing).toMatchObject({ failed: true, data: { rc: 127 } });
  });

  it('creates: runs once, then skips; check mode predicts without running', async () => {
    const args = { cmd: 'touch made', chdir: dir, creates: 'made' };
    const before = await snapshotTree(dir);
    const predicted = await commandModule.run(makeContext({ check: true }), args);
    expect(predicted).toMatchObject({ changed: true, msg: 'Command would have run if not in check mode' });
    expect(await snapshotTree(dir)).toEqual(before);

    expect((await commandModule.run(makeContext(), args)).changed).toBe(true);
    expect(existsSync(join(dir, 'made'))).toBe(true);
    const second = await commandModule.run(makeContext(), args);
    expect(second).toMatchObject({
      changed: false,
      msg: "Did not run command since 'made' exists",
      data: { rc: 0 },
    });
    expect(second.failed).toBeUndefined();
    expect(await commandModule.run(makeContext({ check: true }), args)).toMatchObject({ changed: false });
  });

  it('removes: runs only while the path exists; globs match, other characters stay literal', async () => {
    await writeFile(join(dir, 'old-1.log'), '');
    const args = { argv: ['rm', 'old-1.log'], chdir: dir, removes: 'old-*.log' };
    expect((await commandModule.run(makeContext({ check: true }), args)).changed).toBe(true);
    expect(existsSync(join(dir, 'old-1.log'))).toBe(true);
    expect((await commandModule.run(makeContext(), args)).changed).toBe(true);
    const again = await commandModule.run(makeContext(), args);
    expect(again).toMatchObject({
      changed: false,
      msg: "Did not run command since 'old-*.log' does not exist",
    });
    // A creates path with spaces and metacharacters is a path, not shell code.
    const odd = "a b;touch pwned$(x)'";
    await writeFile(join(dir, odd), '');
    expect(
      (await commandModule.run(makeContext(), { cmd: 'touch x', chdir: dir, creates: odd })).changed,
    ).toBe(false);
    expect(existsSync(join(dir, 'pwned'))).toBe(false);
    expect(quoteGlob("/a b/*.log'")).toBe(`'/a b/'*'.log'\\'''`);
  });

  it('check mode without creates/removes: skipped, nothing run', async () => {
    const r = await commandModule.run(makeContext({ check: true }), { cmd: `touch ${join(dir, 'x')}` });
    expect(r).toMatchObject({ changed: false, skipped: true, msg: 'check mode: cannot predict' });
    expect(r.data).toMatchObject({ rc: 0, stdout: '', stderr: '', stdout_lines: [] });
    expect(existsSync(join(dir, 'x'))).toBe(false);
  });

  it('fails clearly on a missing chdir, and predicts through one in check mode', async () => {
    const r = await commandModule.run(makeContext(), { cmd: 'true', chdir: join(dir, 'nope') });
    expect(r).toMatchObject({
      failed: true,
      msg: `cannot change into ${join(dir, 'nope')}: no such directory`,
    });
    const c = await commandModule.run(makeContext({ check: true }), {
      cmd: 'true',
      chdir: join(dir, 'nope'),
      creates: 'x',
    });
    expect(c.changed).toBe(true);
  });

  it('stdin reaches the program (with a newline unless told otherwise)', async () => {
    const r = await commandModule.run(makeContext(), { cmd: 'od -c', stdin: 'hi', strip_empty_ends: false });
    expect(r.data?.stdout).toContain('h   i  \\n');
    const raw = await commandModule.run(makeContext(), {
      cmd: 'wc -c',
      stdin: 'hi',
      stdin_add_newline: false,
    });
    expect(String(r.data?.stdout)).not.toBe(raw.data?.stdout);
    expect(String(raw.data?.stdout).trim()).toBe('2');
  });

  it('times out with a clear message', async () => {
    const started = Date.now();
    const r = await commandModule.run(makeContext({ timeoutMs: 500 }), { cmd: 'sleep 5' });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(r).toMatchObject({ failed: true, msg: 'timed out after 0.5s' });
  });

  it("refuses a secret among a program's arguments (visible in ps); a shell line holding one is a warning", async () => {
    const secrets = new Secrets();
    secrets.add('hunter22');
    const refused = await commandModule.run(makeContext({ secrets }), { cmd: 'echo hunter22' });
    expect(refused).toMatchObject({ failed: true, changed: false });
    expect(refused.msg).toMatch(/refusing to run: a secret value is among the program's arguments/);
    const r = await shellModule.run(makeContext({ secrets }), { cmd: 'echo hunter22 >/dev/null' });
    expect(r.failed).toBeFalsy();
    expect(r.warnings?.[0]).toMatch(/secret value/);
    expect(r.warnings?.[0]).not.toContain('hunter22');
  });

  it('takes either cmd or argv, not both or neither', () => {
    const valid = argsValidator(commandModule);
    expect(valid({ cmd: 'ls' })).toBe(true);
    expect(valid({ argv: ['ls', '-l'], creates: '/x', chdir: '/' })).toBe(true);
    expect(valid({ cmd: 'ls', argv: ['ls'] })).toBe(false);
    expect(valid({ chdir: '/' })).toBe(false);
    expect(valid({ cmd: 'ls', executable: '/bin/bash' })).toBe(false);
  });
});

describe('shell', () => {
  it('runs through the shell: pipes, redirections and variables work', async () => {
    const r = await shellModule.run(makeContext(), {
      cmd: `echo "$((2+3))" | tr 5 6 > out; cat out`,
      chdir: dir,
    });
    expect(r).toMatchObject({
      changed: true,
      data: { rc: 0, stdout: '6', cmd: 'echo "$((2+3))" | tr 5 6 > out; cat out' },
    });
    expect(await readFile(join(dir, 'out'), 'utf8')).toBe('6\n');
  });

  it('creates: first run changes, second run skips, check mode changes nothing', async () => {
    const args = { cmd: 'mkdir -p made && echo x > made/f', chdir: dir, creates: 'made/f' };
    const before = await snapshotTree(dir);
    expect((await shellModule.run(makeContext({ check: true }), args)).changed).toBe(true);
    expect(await snapshotTree(dir)).toEqual(before);
    expect((await shellModule.run(makeContext(), args)).changed).toBe(true);
    expect((await shellModule.run(makeContext(), args)).changed).toBe(false);
    // The guard's own variables do not leak into the user's line.
    const leak = await shellModule.run(makeContext(), { cmd: 'echo "[$f$found]"', removes: dir });
    expect(leak.data?.stdout).toBe('[]');
  });

  it('uses another shell when asked', async () => {
    await mkdir(join(dir, 'd'));
    const r = await shellModule.run(makeContext(), {
      cmd: 'echo $0',
      executable: '/bin/bash',
      chdir: join(dir, 'd'),
    });
    expect(r.data?.stdout).toBe('/bin/bash');
  });

  it('times out', async () => {
    const r = await shellModule.run(makeContext({ timeoutMs: 300 }), { cmd: 'sleep 3; echo late' });
    expect(r).toMatchObject({ failed: true, msg: 'timed out after 0.3s' });
    expect(r.data?.stdout).toBe('');
  });
});
