import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalConnection } from '../../../src/connection/local.js';
import { probePath } from '../../../src/modules/remote.js';
import { statModule } from '../../../src/modules/stat.js';
import { argsValidator, makeContext, makeTempDir, snapshotTree } from './context.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
});
afterEach(() => cleanup());

describe('stat', () => {
  it("reports a file with Ansible's field names and checksums, never changed, also in check mode", async () => {
    const path = join(dir, 'cert.pem');
    await writeFile(path, 'CERT\n');
    await chmod(path, 0o640);
    const before = await snapshotTree(dir);
    for (const check of [false, true]) {
      const r = await statModule.run(makeContext({ check }), { path });
      expect(r.changed).toBe(false);
      expect(r.data?.stat).toMatchObject({
        exists: true,
        path,
        isdir: false,
        isreg: true,
        islnk: false,
        mode: '0640',
        size: 5,
        pw_name: 'root',
        checksum: createHash('sha1').update('CERT\n').digest('hex'),
        sha256: createHash('sha256').update('CERT\n').digest('hex'),
      });
    }
    expect(await snapshotTree(dir)).toEqual(before);
  });

  it('reports a missing path, a directory, and a link (followed only when asked)', async () => {
    expect((await statModule.run(makeContext(), { path: join(dir, 'none') })).data).toEqual({
      stat: { exists: false },
    });
    await mkdir(join(dir, 'd'));
    expect((await statModule.run(makeContext(), { path: join(dir, 'd') })).data?.stat).toMatchObject({
      isdir: true,
      isreg: false,
    });
    await symlink(join(dir, 'd'), join(dir, 'l'));
    expect((await statModule.run(makeContext(), { path: join(dir, 'l') })).data?.stat).toMatchObject({
      islnk: true,
      isdir: false,
    });
    expect(
      (await statModule.run(makeContext(), { path: join(dir, 'l'), follow: true })).data?.stat,
    ).toMatchObject({
      islnk: true,
      isdir: true,
    });
  });

  it('falls back to openssl when sha1sum/sha256sum/base64 are missing on the target', async () => {
    const bin = join(dir, 'bin');
    await mkdir(bin);
    for (const tool of ['stat', 'cut', 'openssl', 'cat', 'readlink'])
      await symlink(
        execFileSync('sh', ['-c', `command -v ${tool}`])
          .toString()
          .trim(),
        join(bin, tool),
      );
    const path = join(dir, 'f.txt');
    await writeFile(path, 'some content\n');
    const ctx = makeContext({ conn: new LocalConnection('bare', undefined, { PATH: bin }) });
    const r = await statModule.run(ctx, { path });
    expect(r.data?.stat).toMatchObject({
      checksum: createHash('sha1').update('some content\n').digest('hex'),
      sha256: createHash('sha256').update('some content\n').digest('hex'),
    });
    const probe = await probePath(ctx, path, { contentLimit: 1000 });
    expect(probe.content?.toString()).toBe('some content\n');
  });

  it('skips checksums when get_checksum is false', async () => {
    await writeFile(join(dir, 'f'), 'x');
    const stat = (await statModule.run(makeContext(), { path: join(dir, 'f'), get_checksum: false })).data
      ?.stat;
    expect(stat).not.toHaveProperty('checksum');
    expect(stat).not.toHaveProperty('sha256');
  });
});

describe('stat args schema', () => {
  const valid = argsValidator(statModule);
  it.each([
    [{ path: '/a', get_checksum: false, follow: true }, true],
    [{ path: '/a', checksum_algorithm: 'md5' }, false],
    [{}, false],
  ] as [Record<string, unknown>, boolean][])('%j -> %s', (args, ok) => {
    expect(valid(args)).toBe(ok);
  });
});
