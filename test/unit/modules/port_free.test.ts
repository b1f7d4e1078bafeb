import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalConnection } from '../../../src/connection/local.js';
import { overlaps, parseListeners, portFreeModule } from '../../../src/modules/port_free.js';
import { argsValidator, makeContext } from './context.js';

let server: net.Server | undefined;
afterEach(async () => {
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
});

async function listen(host: string): Promise<number> {
  server = net.createServer();
  await new Promise<void>((r) => server!.listen(0, host, r));
  return (server.address() as net.AddressInfo).port;
}

describe('port_free', () => {
  it('ok when free; failed naming the holder; ok when the holder is allowed; the same in check mode', async () => {
    const port = await listen('127.0.0.1');
    for (const check of [false, true]) {
      const ctx = makeContext({ check });
      const held = await portFreeModule.run(ctx, { port });
      expect(held).toMatchObject({ changed: false, failed: true, data: { free: false, source: 'ss' } });
      expect(held.msg).toMatch(
        new RegExp(`^port ${port} is in use by node \\(pid ${process.pid}\\) on 127\\.0\\.0\\.1$`),
      );
      expect(await portFreeModule.run(ctx, { port, allowed_process: 'no|de' })).toMatchObject({
        failed: true,
      });
      const allowed = await portFreeModule.run(ctx, { port, allowed_process: 'socat|node' });
      expect(allowed).toMatchObject({
        changed: false,
        msg: `port ${port} is held by node (pid ${process.pid}) on 127.0.0.1: allowed`,
      });
      expect(allowed.failed).toBeUndefined();
      // Another specific address does not clash with 127.0.0.1; the wildcard does.
      expect((await portFreeModule.run(ctx, { port, host: '127.0.0.2' })).failed).toBeUndefined();
    }
    await new Promise((r) => server!.close(r));
    server = undefined;
    expect(await portFreeModule.run(makeContext(), { port })).toEqual({
      changed: false,
      msg: `port ${port} is free on 0.0.0.0`,
      data: { port, host: '0.0.0.0', free: true, listeners: [], source: 'ss' },
    });
  });

  it('falls back to /proc/net/tcp when neither ss nor netstat exists (and then cannot name the holder)', async () => {
    const port = await listen('127.0.0.1');
    const bare = makeContext({ conn: new LocalConnection('bare', undefined, { PATH: '/nonexistent' }) });
    const r = await portFreeModule.run(bare, { port, allowed_process: 'node' });
    expect(r).toMatchObject({
      failed: true,
      data: { source: 'proc', listeners: [{ address: '127.0.0.1', port }] },
    });
    expect(r.msg).toMatch(/neither ss nor netstat to name the process/);
  });

  it('parses ss, netstat and /proc/net/tcp listings', () => {
    const ss = parseListeners(
      [
        '#ss',
        'State  Recv-Q Send-Q Local Address:Port  Peer Address:PortProcess',
        'LISTEN 0      128        127.0.0.1:9443      0.0.0.0:*    users:(("socat",pid=10,fd=5),("socat",pid=11,fd=5))',
        'LISTEN 0      4096   127.0.0.53%lo:53        0.0.0.0:*',
        'LISTEN 0      128             [::]:22           [::]:*    users:(("sshd",pid=1,fd=4))',
        'LISTEN 0      5                  *:8080            *:*',
      ].join('\n'),
    );
    expect(ss.listeners).toEqual([
      {
        address: '127.0.0.1',
        port: 9443,
        processes: [
          { name: 'socat', pid: 10 },
          { name: 'socat', pid: 11 },
        ],
      },
      { address: '127.0.0.53', port: 53 },
      { address: '::', port: 22, processes: [{ name: 'sshd', pid: 1 }] },
      { address: '*', port: 8080 },
    ]);
    const netstat = parseListeners(
      [
        '#netstat',
        'Active Internet connections (only servers)',
        'Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name',
        'tcp        0      0 127.0.0.1:46347         0.0.0.0:*               LISTEN      14563/sshd: /usr/sb',
        'tcp6       0      0 :::22                   :::*                    LISTEN      -',
      ].join('\n'),
    );
    expect(netstat.listeners).toEqual([
      { address: '127.0.0.1', port: 46347, processes: [{ name: 'sshd', pid: 14563 }] },
      { address: '::', port: 22 },
    ]);
    const proc = parseListeners(
      [
        '#proc',
        '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
        '   0: 0100007F:B50B 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1',
        '   1: 0100007F:0050 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 2 1',
        '   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 0 0 0 0 0 3',
        '   1: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 0 0 0 0 0 4',
        '   2: 0000000000000000FFFF00000100007F:01BB 00000000000000000000000000000000:0000 0A 0 0 0 0 0 5',
      ].join('\n'),
    );
    expect(proc.listeners).toEqual([
      { address: '127.0.0.1', port: 46347 },
      { address: '::', port: 22 },
      { address: '::1', port: 8080 },
      { address: '::ffff:127.0.0.1', port: 443 },
    ]);
  });

  it('knows which addresses clash', () => {
    expect(overlaps('0.0.0.0', '127.0.0.1')).toBe(true);
    expect(overlaps('127.0.0.1', '0.0.0.0')).toBe(true);
    expect(overlaps('::ffff:127.0.0.1', '127.0.0.1')).toBe(true);
    expect(overlaps('127.0.0.1', '127.0.0.2')).toBe(false);
    const valid = argsValidator(portFreeModule);
    expect(valid({ port: 9443, allowed_process: 'socat' })).toBe(true);
    expect(valid({ host: '0.0.0.0' })).toBe(false);
  });
});
