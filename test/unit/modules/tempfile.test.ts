import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempfileModule } from '../../../src/modules/tempfile.js';
import { argsValidator, makeContext, makeTempDir, snapshotTree } from './context.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
});
afterEach(() => cleanup());

describe('tempfile', () => {
  it('creates a new 0600 file named prefix+random+suffix on every run (always changed)', async () => {
    const a = await tempfileModule.run(makeContext(), { path: dir, suffix: '.conf' });
    const b = await tempfileModule.run(makeContext(), { path: dir, suffix: '.conf' });
    expect(a.changed).toBe(true);
    expect(b.changed).toBe(true);
    const pa = String(a.data?.path);
    expect(pa).toMatch(new RegExp(`^${dir}/ansible\\.[0-9a-f]{12}\\.conf$`));
    expect(b.data?.path).not.toBe(pa);
    const st = await stat(pa);
    expect(st.isFile()).toBe(true);
    expect(st.size).toBe(0);
    expect(st.mode & 0o777).toBe(0o600);
    expect((await readdir(dir)).length).toBe(2);
  });

  it('creates a 0700 directory with the given prefix', async () => {
    const r = await tempfileModule.run(makeContext(), { path: dir, state: 'directory', prefix: 'build-' });
    const p = String(r.data?.path);
    expect(p.startsWith(join(dir, 'build-'))).toBe(true);
    const st = await stat(p);
    expect(st.isDirectory()).toBe(true);
    expect(st.mode & 0o777).toBe(0o700);
    expect(r.data?.state).toBe('directory');
  });

  it("uses the host's TMPDIR when no path is given", async () => {
    const r = await tempfileModule.run(makeContext({ env: { TMPDIR: dir } }), {});
    expect(String(r.data?.path).startsWith(`${dir}/ansible.`)).toBe(true);
  });

  it('is skipped in check mode, as Ansible skips it, and creates nothing', async () => {
    const before = await snapshotTree(dir);
    const r = await tempfileModule.run(makeContext({ check: true }), { path: dir });
    expect(r).toMatchObject({ changed: false, skipped: true });
    expect(r.data).toBeUndefined();
    expect(await snapshotTree(dir)).toEqual(before);
  });

  it('fails clearly for a missing directory and rejects bad arguments', async () => {
    const r = await tempfileModule.run(makeContext(), { path: join(dir, 'none') });
    expect(r.failed).toBe(true);
    expect(r.msg).toMatch(/is not a directory/);
    const v = argsValidator(tempfileModule);
    expect(v({ state: 'directory', suffix: 'x' })).toBe(true);
    expect(v({ state: 'link' })).toBe(false);
  });
});
