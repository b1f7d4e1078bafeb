import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { slurpModule } from '../../../src/modules/slurp.js';
import { argsValidator, makeContext, makeTempDir } from './context.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
});
afterEach(() => cleanup());

describe('slurp', () => {
  it('registers the content as base64 with its encoding and source; never changed', async () => {
    const file = join(dir, 'key.pem');
    const bytes = Buffer.concat([Buffer.from('line one\nline two\n'), Buffer.from([0, 255, 10])]);
    await writeFile(file, bytes);
    const r = await slurpModule.run(makeContext(), { src: file });
    expect(r).toEqual({
      changed: false,
      data: { content: bytes.toString('base64'), encoding: 'base64', source: file },
    });
  });

  it('a large file arrives whole (base64 wraps its lines; the content has none)', async () => {
    const file = join(dir, 'big.bin');
    const bytes = Buffer.alloc(200_000, 'abcdefghij');
    await writeFile(file, bytes);
    const r = await slurpModule.run(makeContext(), { src: file });
    expect(r.data?.content).toBe(bytes.toString('base64'));
  });

  it('runs in check mode too (read-only)', async () => {
    const file = join(dir, 'a.txt');
    await writeFile(file, 'hi');
    const r = await slurpModule.run(makeContext({ check: true }), { src: file });
    expect(r.data?.content).toBe(Buffer.from('hi').toString('base64'));
  });

  it("fails with Ansible's messages for a missing file, a directory and an unreadable file", async () => {
    const missing = join(dir, 'nope');
    expect(await slurpModule.run(makeContext(), { src: missing })).toEqual({
      changed: false,
      failed: true,
      msg: `file not found: ${missing}`,
    });
    const sub = join(dir, 'sub');
    await mkdir(sub);
    expect(await slurpModule.run(makeContext(), { src: sub })).toMatchObject({
      failed: true,
      msg: `source is a directory and must be a file: ${sub}`,
    });
    if (process.getuid?.() !== 0) {
      const locked = join(dir, 'locked');
      await writeFile(locked, 'x');
      await chmod(locked, 0o000);
      expect(await slurpModule.run(makeContext(), { src: locked })).toMatchObject({
        failed: true,
        msg: `file is not readable: ${locked}`,
      });
    }
  });

  it('path is an alias of src (the loader renames it); only src is an argument', () => {
    expect(slurpModule.aliases).toEqual({ path: 'src' });
    const valid = argsValidator(slurpModule);
    expect(valid({ src: '/etc/hostname' })).toBe(true);
    expect(valid({ src: '/etc/hostname', mode: '0644' })).toBe(false);
  });
});
