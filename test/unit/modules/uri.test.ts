import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encodeBody, statusCodes, uriModule } from '../../../src/modules/uri.js';
import { argsValidator, makeContext, makeTempDir } from './context.js';
import { basicAuth, startServer, type TestServer } from './http-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer({
    '/api/status': (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'r-1' });
      res.end('{"ok":true,"version":"1.2"}');
    },
    '/echo': (req, res) => {
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ method: req.method, type: req.headers['content-type'], body: req.body }));
    },
    '/text': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('hello\n');
    },
    '/old': (_req, res) => {
      res.writeHead(301, { location: '/text' });
      res.end();
    },
    '/secure': basicAuth('api', 'pa ss', (_req, res) => {
      res.writeHead(204);
      res.end();
    }),
  });
});
afterAll(() => server.close());

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  server.requests.length = 0;
  ({ dir, cleanup } = await makeTempDir());
});
afterEach(() => cleanup());

const run = (args: Record<string, unknown>, check = false) => uriModule.run(makeContext({ check }), args);

describe('uri', () => {
  it('takes status_code and body as Ansible does', () => {
    expect(statusCodes(undefined)).toEqual([200]);
    expect(statusCodes([200, '201'])).toEqual([200, 201]);
    expect(statusCodes('200, 204')).toEqual([200, 204]);
    expect(encodeBody({ a: 1 }, 'json')).toEqual({ body: '{"a":1}', contentType: 'application/json' });
    expect(encodeBody({ a: 'x y' }, 'form-urlencoded').body).toBe('a=x+y');
    expect(() => encodeBody({ a: 1 }, 'raw')).toThrow(/body_format: json/);
    expect(
      argsValidator(uriModule)({
        url: 'http://x',
        method: 'POST',
        body: { a: 1 },
        body_format: 'json',
        status_code: [200, 201],
      }),
    ).toBe(true);
  });

  it('GET registers status, json and lower-cased headers; never changed', async () => {
    const r = await run({ url: `${server.base}/api/status` });
    expect(r.failed).toBeUndefined();
    expect(r.changed).toBe(false);
    expect(r.data).toMatchObject({
      status: 200,
      json: { ok: true, version: '1.2' },
      content_type: 'application/json',
      x_request_id: 'r-1',
      redirected: false,
      url: `${server.base}/api/status`,
    });
    expect(r.data?.content).toBeUndefined();
    const t = await run({ url: `${server.base}/text`, return_content: true });
    expect(t.data).toMatchObject({ status: 200, content: 'hello\n' });
    expect(t.data?.json).toBeUndefined();
  });

  it('POST sends a JSON body with its content type; other status codes fail unless listed', async () => {
    const r = await run({
      url: `${server.base}/echo`,
      method: 'POST',
      body: { name: 'cal "sync"', n: 2 },
      body_format: 'json',
      status_code: [200, 201],
    });
    expect(r.failed, r.msg).toBeUndefined();
    expect(r.data?.json).toEqual({
      method: 'POST',
      type: 'application/json',
      body: '{"name":"cal \\"sync\\"","n":2}',
    });
    const bad = await run({ url: `${server.base}/echo`, method: 'PUT', body: 'x' });
    expect(bad.failed).toBe(true);
    expect(bad.msg).toMatch(/^Status code was 201 and not \[200\]/);
    expect(bad.data?.status).toBe(201);
    const missing = await run({ url: `${server.base}/nothing`, status_code: 404, return_content: true });
    expect(missing.failed).toBeUndefined();
    expect(missing.data).toMatchObject({ status: 404, content: 'not found\n' });
  });

  it('follows redirects for GET (safe), authenticates with credentials sent on stdin', async () => {
    const r = await run({ url: `${server.base}/old`, return_content: true });
    expect(r.data).toMatchObject({
      status: 200,
      redirected: true,
      url: `${server.base}/text`,
      content: 'hello\n',
    });
    const none = await run({ url: `${server.base}/old`, follow_redirects: 'none', status_code: 301 });
    expect(none.data).toMatchObject({ status: 301, location: '/text' });
    const auth = await run({
      url: `${server.base}/secure`,
      url_username: 'api',
      url_password: 'pa ss',
      status_code: 204,
    });
    expect(auth.failed, auth.msg).toBeUndefined();
    const denied = await run({ url: `${server.base}/secure` });
    expect(denied.data?.status).toBe(401);
    expect(JSON.stringify(auth)).not.toContain('pa ss');
  });

  it('creates/removes guard the request; a dead port is status -1', async () => {
    await writeFile(join(dir, 'done'), '');
    const c = await run({ url: `${server.base}/echo`, method: 'POST', creates: join(dir, 'done') });
    expect(c).toMatchObject({ changed: false, msg: `skipped, since ${join(dir, 'done')} exists` });
    const rm = await run({ url: `${server.base}/echo`, method: 'POST', removes: join(dir, 'none') });
    expect(rm.changed).toBe(false);
    expect(server.requests).toHaveLength(0);
    const dead = await run({ url: 'http://127.0.0.1:1/', timeout: 2 });
    expect(dead).toMatchObject({ failed: true, data: { status: -1 } });
    expect(dead.msg).toMatch(/Request failed/);
  });

  it('is skipped in check mode for every method, as Ansible, and sends nothing', async () => {
    for (const method of ['GET', 'POST', 'DELETE']) {
      const r = await run({ url: `${server.base}/echo`, method }, true);
      expect(r).toMatchObject({ changed: false, skipped: true });
    }
    expect(server.requests).toHaveLength(0);
  });
});
