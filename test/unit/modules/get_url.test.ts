import { createHash } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Secrets } from '../../../src/core/secrets.js';
import { getUrlModule, parseChecksum, urlFileName } from '../../../src/modules/get_url.js';
import { curlConfig } from '../../../src/modules/http.js';
import { makeContext, makeTempDir, snapshotTree } from './context.js';
import { basicAuth, startServer, type TestServer } from './http-server.js';

let body = 'release 1\n';
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
let server: TestServer;
beforeAll(async () => {
  server = await startServer({
    '/app.tar': (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(body);
    },
    '/private/app.tar': basicAuth('deploy', 's3cr3t pass', (_req, res) => {
      res.writeHead(200);
      res.end('private\n');
    }),
    '/headers': (req, res) => {
      res.writeHead(200);
      res.end(`${req.headers['x-token']}\n`);
    },
    '/gone': (_req, res) => {
      res.writeHead(500);
      res.end('boom');
    },
  });
});
afterAll(() => server.close());

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  body = 'release 1\n';
  server.requests.length = 0;
  ({ dir, cleanup } = await makeTempDir());
});
afterEach(() => cleanup());

const run = (args: Record<string, unknown>, check = false, secrets?: Secrets) =>
  getUrlModule.run(makeContext({ check, ...(secrets ? { secrets } : {}) }), args);

describe('get_url', () => {
  it('parses checksums and URL names as Ansible takes them', () => {
    expect(parseChecksum('SHA256:ABCDEF')).toEqual({ algo: 'sha256', hex: 'abcdef' });
    expect(() => parseChecksum('sha256')).toThrow(/algorithm:digest/);
    expect(() => parseChecksum('crc32:00')).toThrow(/not one of/);
    expect(() => parseChecksum('sha256:http://x/SHA256SUMS')).toThrow(/URL is not supported/);
    expect(urlFileName('http://h/a/b/app-1.2.tar.gz?x=1')).toBe('app-1.2.tar.gz');
    expect(urlFileName('http://h/')).toBeUndefined();
  });

  it('check mode predicts, the first run downloads, the second run leaves an existing file alone', async () => {
    const dest = join(dir, 'app.tar');
    const before = await snapshotTree(dir);
    const check = await run({ url: `${server.base}/app.tar`, dest, mode: '0640' }, true);
    expect(check).toMatchObject({ changed: true });
    expect(await snapshotTree(dir)).toEqual(before);
    expect(server.requests).toHaveLength(0);

    const first = await run({ url: `${server.base}/app.tar`, dest, mode: '0640' });
    expect(first.changed, first.msg).toBe(true);
    expect(await readFile(dest, 'utf8')).toBe('release 1\n');
    expect((await stat(dest)).mode & 0o777).toBe(0o640);
    expect(first.data).toMatchObject({ status_code: 200, size: 10, dest });
    // No temp file left beside dest.
    expect(await readdir(dir)).toEqual(['app.tar']);

    body = 'release 2\n';
    const second = await run({ url: `${server.base}/app.tar`, dest, mode: '0640' });
    expect(second).toMatchObject({ changed: false, msg: 'file already exists' });
    expect(server.requests).toHaveLength(1);
    expect(await readFile(dest, 'utf8')).toBe('release 1\n');
  });

  it('with a checksum: a matching file is not downloaded; a mismatching one is; a bad download fails and keeps dest', async () => {
    const dest = join(dir, 'app.tar');
    await writeFile(dest, 'release 1\n');
    const ok = await run({
      url: `${server.base}/app.tar`,
      dest,
      checksum: `sha256:${sha256('release 1\n')}`,
    });
    expect(ok.changed).toBe(false);
    expect(server.requests).toHaveLength(0);

    body = 'release 2\n';
    const check = await run(
      { url: `${server.base}/app.tar`, dest, checksum: `sha256:${sha256(body)}` },
      true,
    );
    expect(check.changed).toBe(true);
    expect(server.requests).toHaveLength(0);
    const upd = await run({ url: `${server.base}/app.tar`, dest, checksum: `sha256:${sha256(body)}` });
    expect(upd.changed).toBe(true);
    expect(await readFile(dest, 'utf8')).toBe('release 2\n');

    const bad = await run({ url: `${server.base}/app.tar`, dest, checksum: `sha1:${'0'.repeat(40)}` });
    expect(bad.failed).toBe(true);
    expect(bad.msg).toMatch(/did not match/);
    expect(await readFile(dest, 'utf8')).toBe('release 2\n');
    expect(await readdir(dir)).toEqual(['app.tar']);
  });

  it('force downloads again and replaces only when the content differs; attributes still apply', async () => {
    const dest = join(dir, 'app.tar');
    await writeFile(dest, 'release 1\n');
    await chmod(dest, 0o600);
    const before = (await stat(dest)).mtimeMs;
    const same = await run({ url: `${server.base}/app.tar`, dest, force: true });
    expect(same.changed).toBe(false);
    expect(server.requests).toHaveLength(1);
    expect((await stat(dest)).mtimeMs).toBe(before);

    const check = await run({ url: `${server.base}/app.tar`, dest, force: true }, true);
    expect(check.changed).toBe(true);
    expect(check.warnings?.[0]).toMatch(/cannot know/);

    const attrs = await run({ url: `${server.base}/app.tar`, dest, force: true, mode: '0644' });
    expect(attrs.changed).toBe(true);
    expect((await stat(dest)).mode & 0o777).toBe(0o644);

    body = 'release 2\n';
    const replaced = await run({ url: `${server.base}/app.tar`, dest, force: true });
    expect(replaced.changed).toBe(true);
    expect(await readFile(dest, 'utf8')).toBe('release 2\n');
    // The replaced file keeps its mode.
    expect((await stat(dest)).mode & 0o777).toBe(0o644);
  });

  it('a directory dest receives the file by the URL name', async () => {
    await mkdir(join(dir, 'dl'));
    const r = await run({ url: `${server.base}/app.tar`, dest: join(dir, 'dl') });
    expect(r.changed).toBe(true);
    expect(await readFile(join(dir, 'dl/app.tar'), 'utf8')).toBe('release 1\n');
    const again = await run({ url: `${server.base}/app.tar`, dest: join(dir, 'dl') });
    expect(again.changed).toBe(false);
  });

  it('sends credentials and headers through a config on stdin, never on the command line', async () => {
    const cfg = curlConfig({
      url: 'http://h/x',
      username: 'deploy',
      password: 'p"w\\d',
      headers: { 'X-Token': 't' },
      validateCerts: false,
      timeout: 5,
      followRedirects: true,
    });
    expect(cfg).toContain('user = "deploy:p\\"w\\\\d"');
    expect(cfg).toContain('insecure');
    const secrets = new Secrets();
    const dest = join(dir, 'private.tar');
    const r = await run(
      { url: `${server.base}/private/app.tar`, dest, url_username: 'deploy', url_password: 's3cr3t pass' },
      false,
      secrets,
    );
    expect(r.changed, r.msg).toBe(true);
    expect(await readFile(dest, 'utf8')).toBe('private\n');
    expect(JSON.stringify(r)).not.toContain('s3cr3t');

    const denied = await run({ url: `${server.base}/private/app.tar`, dest: join(dir, 'no.tar') });
    expect(denied.failed).toBe(true);
    expect(denied.msg).toMatch(/HTTP status 401/);
    expect(await readdir(dir)).toEqual(['private.tar']);

    const h = await run({
      url: `${server.base}/headers`,
      dest: join(dir, 'h.txt'),
      headers: { 'X-Token': 'abc' },
    });
    expect(h.changed).toBe(true);
    expect(await readFile(join(dir, 'h.txt'), 'utf8')).toBe('abc\n');
  });

  it('fails with the status for an error answer and says why for a missing directory', async () => {
    const r = await run({ url: `${server.base}/gone`, dest: join(dir, 'x') });
    expect(r).toMatchObject({ failed: true, data: { status_code: 500 } });
    const nodir = await run({ url: `${server.base}/app.tar`, dest: join(dir, 'none/x') });
    expect(nodir.failed).toBe(true);
    expect(nodir.msg).toMatch(/does not exist/);
  });

  it('falls back to wget on a host without curl, with the same idempotence', async () => {
    // A PATH that has every tool of /usr/bin but curl.
    const bin = join(dir, 'bin');
    await mkdir(bin);
    for (const name of await readdir('/usr/bin'))
      if (name !== 'curl') await symlink(join('/usr/bin', name), join(bin, name));
    const ctx = (check = false) => makeContext({ check, env: { PATH: bin } });
    const dest = join(dir, 'w.tar');
    const r = await getUrlModule.run(ctx(), {
      url: `${server.base}/private/app.tar`,
      dest,
      url_username: 'deploy',
      url_password: 's3cr3t pass',
    });
    expect(r.changed, r.msg).toBe(true);
    expect(await readFile(dest, 'utf8')).toBe('private\n');
    const again = await getUrlModule.run(ctx(), {
      url: `${server.base}/private/app.tar`,
      dest,
      force: true,
      url_username: 'deploy',
      url_password: 's3cr3t pass',
    });
    expect(again.changed, again.msg).toBe(false);
    const missing = await getUrlModule.run(ctx(), { url: `${server.base}/gone`, dest: join(dir, 'g') });
    expect(missing).toMatchObject({ failed: true, data: { status_code: 500 } });
  });
});
