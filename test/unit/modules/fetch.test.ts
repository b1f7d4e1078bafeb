import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fetchDestination, fetchModule } from '../../../src/modules/fetch.js';
import { sha1 } from '../../../src/modules/remote.js';
import { argsValidator, makeContext, makeTempDir, snapshotTree } from './context.js';

let dir: string;
let play: string;
let host: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
  play = join(dir, 'play');
  host = join(dir, 'host');
  await mkdir(play);
  await mkdir(join(host, 'etc'), { recursive: true });
  await writeFile(join(host, 'etc', 'app.conf'), 'port=8443\n');
});
afterEach(() => cleanup());

const ctx = (o: Parameters<typeof makeContext>[0] = {}) =>
  makeContext({ baseDir: play, host: 'web1', vars: { inventory_hostname: 'web1' }, ...o });

describe('fetch', () => {
  it('stores the file under dest/<inventory_hostname>/<src>; the second run reports ok', async () => {
    const src = join(host, 'etc', 'app.conf');
    const first = await fetchModule.run(ctx(), { src, dest: 'backup' });
    const dest = join(play, 'backup', 'web1', src);
    expect(first).toMatchObject({
      changed: true,
      data: { dest, checksum: sha1('port=8443\n'), remote_checksum: sha1('port=8443\n') },
    });
    expect(await readFile(dest, 'utf8')).toBe('port=8443\n');
    const second = await fetchModule.run(ctx(), { src, dest: 'backup' });
    expect(second).toEqual({
      changed: false,
      data: {
        md5sum: expect.stringMatching(/^[0-9a-f]{32}$/),
        file: src,
        dest,
        checksum: sha1('port=8443\n'),
      },
    });
    // A changed host file is fetched again.
    await writeFile(src, 'port=9000\n');
    const third = await fetchModule.run(ctx(), { src, dest: 'backup' });
    expect(third.changed).toBe(true);
    expect(await readFile(dest, 'utf8')).toBe('port=9000\n');
  });

  it('flat: dest is the file itself; a dest ending in / receives it by its name', async () => {
    const src = join(host, 'etc', 'app.conf');
    const exact = await fetchModule.run(ctx(), { src, dest: join(dir, 'out', 'web1.conf'), flat: true });
    expect(exact.data?.dest).toBe(join(dir, 'out', 'web1.conf'));
    expect(await readFile(join(dir, 'out', 'web1.conf'), 'utf8')).toBe('port=8443\n');
    const byName = await fetchModule.run(ctx(), { src, dest: 'copies/', flat: true });
    expect(byName.data?.dest).toBe(join(play, 'copies', 'app.conf'));
    expect(existsSync(join(play, 'copies', 'app.conf'))).toBe(true);
    // An existing directory without the trailing slash is refused, as Ansible does.
    const refused = await fetchModule.run(ctx(), { src, dest: 'copies', flat: true });
    expect(refused).toMatchObject({ failed: true, msg: expect.stringMatching(/use a trailing slash/) });
  });

  it('check mode writes nothing on the control node and predicts from the checksums', async () => {
    const src = join(host, 'etc', 'app.conf');
    const before = await snapshotTree(dir);
    const predicted = await fetchModule.run(ctx({ check: true }), { src, dest: 'backup' });
    expect(predicted).toMatchObject({ changed: true, msg: expect.stringMatching(/^would fetch/) });
    expect(await snapshotTree(dir)).toEqual(before);
    await fetchModule.run(ctx(), { src, dest: 'backup' });
    const unchanged = await fetchModule.run(ctx({ check: true }), { src, dest: 'backup' });
    expect(unchanged.changed).toBe(false);
  });

  it("a missing file fails by default, and with fail_on_missing: false is ok with Ansible's message", async () => {
    const src = join(host, 'nope.log');
    expect(await fetchModule.run(ctx(), { src, dest: 'logs' })).toEqual({
      changed: false,
      failed: true,
      msg: 'the remote file does not exist',
      data: { file: src },
    });
    expect(await fetchModule.run(ctx(), { src, dest: 'logs', fail_on_missing: false })).toEqual({
      changed: false,
      msg: 'the remote file does not exist, not transferring, ignored',
      data: { file: src },
    });
    expect(existsSync(join(play, 'logs'))).toBe(false);
    const asDir = await fetchModule.run(ctx(), { src: join(host, 'etc'), dest: 'logs' });
    expect(asDir).toMatchObject({
      failed: true,
      msg: 'remote file is a directory, fetch cannot work on directories',
    });
  });

  it('with become it reads through the shell (as Ansible uses slurp then), as the become user', async ({
    skip,
  }) => {
    if (process.getuid?.() !== 0) skip();
    const secret = join(host, 'private');
    await mkdir(secret, { mode: 0o700 });
    await writeFile(join(secret, 'token'), 'root only\n', { mode: 0o600 });
    const src = join(secret, 'token');
    const asNobody = await fetchModule.run(ctx({ become: { user: 'nobody' } }), { src, dest: 'b' });
    expect(asNobody).toMatchObject({ failed: true, msg: 'no read permission on remote file' });
    const asRoot = await fetchModule.run(ctx({ become: { user: 'root' } }), { src, dest: 'b' });
    expect(asRoot.changed).toBe(true);
    expect(await readFile(join(play, 'b', 'web1', src), 'utf8')).toBe('root only\n');
  });

  it('fetchDestination follows Ansible: relative src under the host directory, ~ is the home', () => {
    const c = { baseDir: '/pb', host: 'h1', vars: {} };
    expect(fetchDestination(c, 'rel/x.log', 'out', false)).toBe('/pb/out/h1/rel/x.log');
    expect(fetchDestination(c, '/var/x.log', '/abs/', false)).toBe('/abs/h1/var/x.log');
    expect(fetchDestination({ ...c, vars: { inventory_hostname: 'web' } }, '/x', 'o', false)).toBe(
      '/pb/o/web/x',
    );
    expect(fetchDestination(c, '/var/x.log', 'o/', true)).toBe('/pb/o/x.log');
  });

  it('validate_md5 is an alias; the schema takes what Ansible has', () => {
    expect(fetchModule.aliases).toEqual({ validate_md5: 'validate_checksum' });
    const valid = argsValidator(fetchModule);
    expect(
      valid({ src: '/a', dest: 'b', flat: true, fail_on_missing: false, validate_checksum: false }),
    ).toBe(true);
    expect(valid({ src: '/a' })).toBe(false);
  });
});
