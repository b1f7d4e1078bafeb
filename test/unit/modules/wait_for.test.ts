import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitForModule } from '../../../src/modules/wait_for.js';
import { argsValidator, makeContext, makeTempDir } from './context.js';

let dir: string;
let cleanup: () => Promise<void>;
let server: net.Server | undefined;
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
});
afterEach(async () => {
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
  await cleanup();
});

/** A free loopback port (listened on, then released). */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

function listen(port: number): Promise<net.Server> {
  const s = net.createServer((sock) => sock.destroy());
  return new Promise((r) => s.listen(port, '127.0.0.1', () => r(s)));
}

describe('wait_for (port, through the connection)', () => {
  it('returns at once for an open port, and waits for one that opens later', async () => {
    const port = await freePort();
    server = await listen(port);
    const now = await waitForModule.run(makeContext(), { port, timeout: 5 });
    expect(now).toMatchObject({
      changed: false,
      data: { host: '127.0.0.1', port, state: 'started', elapsed: 0 },
    });
    expect(now.failed).toBeUndefined();

    const later = await freePort();
    const started = Date.now();
    setTimeout(async () => {
      await new Promise((r) => server!.close(r));
      server = await listen(later);
    }, 600);
    const r = await waitForModule.run(makeContext({ check: true }), { port: later, timeout: 10, sleep: 0.2 });
    expect(r.failed).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
  });

  it('state stopped waits for the port to close; times out with a clear message', async () => {
    const port = await freePort();
    server = await listen(port);
    const closed = await waitForModule.run(makeContext(), { port, state: 'stopped', timeout: 1, sleep: 0.2 });
    expect(closed).toMatchObject({
      failed: true,
      msg: `timed out after 1s waiting for 127.0.0.1:${port} to be closed`,
    });
    setTimeout(() => server?.close(), 300);
    const r = await waitForModule.run(makeContext(), { port, state: 'stopped', timeout: 5, sleep: 0.1 });
    expect(r).toMatchObject({ changed: false, data: { state: 'stopped' } });

    const started = Date.now();
    const never = await waitForModule.run(makeContext(), {
      port: await freePort(),
      timeout: 0.5,
      sleep: 0.1,
      msg: 'no EWS',
    });
    expect(never).toMatchObject({ changed: false, failed: true, msg: 'no EWS' });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('the task timeout bounds the wait', async () => {
    const started = Date.now();
    const r = await waitForModule.run(makeContext({ timeoutMs: 2000 }), {
      port: await freePort(),
      sleep: 0.2,
    });
    expect(r).toMatchObject({ failed: true, msg: expect.stringMatching(/^timed out after 1s/) });
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('wait_for (path, a loop on the host)', () => {
  it('waits for a path to appear and to go', async () => {
    const path = join(dir, 'ready');
    setTimeout(() => void writeFile(path, ''), 400);
    const r = await waitForModule.run(makeContext(), { path, timeout: 5, sleep: 0.1 });
    expect(r).toMatchObject({ changed: false, data: { path, state: 'present' } });
    const gone = await waitForModule.run(makeContext(), { path, state: 'absent', timeout: 1, sleep: 0.2 });
    expect(gone).toMatchObject({ failed: true, msg: `timed out after 1s waiting for ${path} to be absent` });
  });

  it('takes a port or a path', () => {
    const valid = argsValidator(waitForModule);
    expect(
      valid({ port: 443, host: '10.0.0.1', timeout: 30, delay: 1, sleep: 0.5, connect_timeout: 2 }),
    ).toBe(true);
    expect(valid({ path: '/run/x.pid', state: 'absent' })).toBe(true);
    expect(valid({ host: 'a' })).toBe(false);
    expect(valid({ port: 443, path: '/x' })).toBe(false);
    expect(valid({ port: 70000 })).toBe(false);
    expect(valid({ port: 443, state: 'drained' })).toBe(false);
  });
});
