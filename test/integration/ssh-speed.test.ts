// What SSH operations cost over loopback sshd, and the claim the connection is built on: a command
// through a long-lived remote shell is far cheaper than a command on a channel of its own (which pays
// the login shell's start-up every time). Prints the figures; the bounds are loose for a busy machine.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ConnectionSpec } from '../../src/connection/connection.js';
import { connectSsh } from '../../src/connection/ssh.js';
import { type SshdLab, startSshdLab } from '../../src/lab/sshd.js';

let lab: SshdLab;
let spec: ConnectionSpec;

beforeAll(async () => {
  process.env.HOME = await mkdtemp(join(tmpdir(), 'ewsplay-home-'));
  lab = await startSshdLab(1);
  const h = lab.hosts[0]!;
  spec = {
    host: h.name,
    connection: 'ssh',
    address: '127.0.0.1',
    port: h.port,
    user: lab.user,
    privateKeyFile: lab.clientKeyFile,
    knownHostsFile: lab.knownHostsFile,
    connectTimeoutMs: 5000,
  };
});

afterAll(async () => {
  await lab?.stop();
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timed(n: number, fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return median(times);
}

it('a command over the open connection costs a few ms; a remote shell beats a channel per command', async () => {
  const connectMs = await timed(5, async () => (await connectSsh(spec)).close());
  const shellConn = await connectSsh(spec);
  const channelConn = await connectSsh(spec, { maxShells: 0 });
  try {
    await shellConn.exec('true'); // the shell's start-up is paid once, here
    const shellMs = await timed(40, () => shellConn.exec('true'));
    const channelMs = await timed(10, () => channelConn.exec('true'));
    const burst = 100;
    const started = performance.now();
    await Promise.all(Array.from({ length: burst }, () => shellConn.exec('true')));
    const perSecond = burst / ((performance.now() - started) / 1000);
    const channelStart = performance.now();
    await Promise.all(Array.from({ length: 20 }, () => channelConn.exec('true')));
    const channelsPerSecond = 20 / ((performance.now() - channelStart) / 1000);
    const putMs = await timed(20, () => shellConn.put(join(lab.hosts[0]!.workDir, 'f'), 'x'.repeat(1000)));
    console.log(
      `ssh over loopback (median): new connection ${connectMs.toFixed(1)} ms; exec via remote shell ` +
        `${shellMs.toFixed(2)} ms; exec on its own channel ${channelMs.toFixed(1)} ms; ` +
        `${perSecond.toFixed(0)} commands/s concurrently through remote shells, ${channelsPerSecond.toFixed(0)} ` +
        `through channels of their own; SFTP put of 1 kB ${putMs.toFixed(2)} ms`,
    );
    expect(shellMs).toBeLessThan(20);
    expect(shellMs * 3).toBeLessThan(channelMs);
  } finally {
    await shellConn.close();
    await channelConn.close();
  }
});
