// wait_for_connection: retries a new connection and a trivial command until the host answers or the time is
// up; the engine gives it ctx.connect and does not mark a silent host unreachable (the host fails at the end).
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../../../src/connection/connection.js';
import { UnreachableError } from '../../../src/connection/connection.js';
import { LocalConnection } from '../../../src/connection/local.js';
import { waitForConnectionModule } from '../../../src/modules/wait_for_connection.js';
import { Scratch } from '../engine/harness.js';
import { argsValidator, makeContext } from './context.js';

/** A ctx.connect that fails `failures` times, then gives a working local connection; records each call. */
function flakyConnect(failures: number) {
  const calls: { fresh?: boolean; connectTimeoutMs?: number }[] = [];
  const connect = async (opts: { fresh?: boolean; connectTimeoutMs?: number } = {}): Promise<Connection> => {
    calls.push(opts);
    if (calls.length <= failures) throw new UnreachableError(`connection refused (attempt ${calls.length})`);
    return new LocalConnection('localhost');
  };
  return { calls, connect };
}

describe('wait_for_connection', () => {
  it('retries with a fresh connection after each failure until the host answers', async () => {
    const { calls, connect } = flakyConnect(2);
    const r = await waitForConnectionModule.run(makeContext({ connect }), {
      sleep: 0.1,
      timeout: 10,
      connect_timeout: 2,
    });
    expect(r).toMatchObject({ changed: false, data: { elapsed: 0 } });
    expect(r.failed).toBeUndefined();
    expect(calls).toEqual([
      { fresh: true, connectTimeoutMs: 2000 },
      { fresh: true, connectTimeoutMs: 2000 },
      { fresh: true, connectTimeoutMs: 2000 },
    ]);
  });

  it('fails (with the last error) when the host never answers within the timeout', async () => {
    const { calls, connect } = flakyConnect(1000);
    const started = Date.now();
    const r = await waitForConnectionModule.run(makeContext({ connect }), { sleep: 0.2, timeout: 1 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(r).toMatchObject({ changed: false, failed: true });
    expect(r.msg).toMatch(
      /^timed out after 1s waiting for the host to answer: connection refused \(attempt \d+\)$/,
    );
    expect(calls.length).toBeGreaterThanOrEqual(5);
  });

  it('a command that fails is no answer either', async () => {
    const broken: Connection = Object.assign(new LocalConnection('localhost'), {
      exec: async () => ({ rc: 127, stdout: '', stderr: 'sh: not found' }),
    });
    const r = await waitForConnectionModule.run(makeContext({ connect: async () => broken }), {
      timeout: 0.3,
      sleep: 0.1,
    });
    expect(r.msg).toContain("'echo pong' exited 127: sh: not found");
  });

  it('is skipped in check mode, as in Ansible, and takes only its four arguments', async () => {
    const { calls, connect } = flakyConnect(0);
    const r = await waitForConnectionModule.run(makeContext({ connect, check: true }), {});
    expect(r).toMatchObject({ changed: false, skipped: true });
    expect(calls).toEqual([]);
    const valid = argsValidator(waitForConnectionModule);
    expect(valid({ timeout: 5, delay: 1, sleep: 1, connect_timeout: 2 })).toBe(true);
    expect(valid({ host: 'x' })).toBe(false);
  });
});

describe('wait_for_connection in a run', () => {
  let silent: net.Server;
  let silentPort = 0;
  const sockets: net.Socket[] = [];
  beforeAll(async () => {
    // Accepts TCP and never says a word: an SSH handshake there can only time out.
    silent = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((res) => silent.listen(0, '127.0.0.1', res));
    silentPort = (silent.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((res) => silent.close(res));
  });

  it('a host that answers passes; a port that never answers fails the host when the time is up, not unreachable', async () => {
    const s = new Scratch(
      ['up'],
      `  children:\n    quiet:\n      hosts:\n        mute:\n          ansible_host: 127.0.0.1\n          ansible_port: ${silentPort}\n          ansible_user: nobody\n`,
    );
    const { events, report } = await s.run(`
- hosts: all
  gather_facts: false
  tasks:
    - name: wait
      wait_for_connection: { timeout: 2, connect_timeout: 1, sleep: 0.5 }
    - name: after
      command: echo reached
`);
    expect(events.statusOf('wait', 'up')).toBe('ok');
    expect(events.statusOf('after', 'up')).toBe('changed');
    const mute = events.resultOf('wait', 'mute');
    expect(mute?.status).toBe('failed');
    expect(mute?.msg).toMatch(/^timed out after 2s waiting for the host to answer: /);
    // Each attempt bounded by connect_timeout: the last one starts at the deadline and ends a second later.
    expect(report.tasks[0]?.hosts.mute?.durationMs).toBeLessThan(4500);
    expect(events.statusOf('after', 'mute')).toBeUndefined();
    expect(report.stats.mute).toMatchObject({ failed: 1, unreachable: 0 });
  });
});
