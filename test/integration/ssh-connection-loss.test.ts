// Faults of the control node's side of SSH, against real sshd hosts: Ctrl-C while a host accepted TCP and
// never speaks SSH ends the run at once; commands die with their connection when ewsplay is killed
// (SIGKILL, so nothing of ewsplay's own clean-up runs: the remote side must notice); what a transfer cut
// off left in a directory is removed by the next transfer there.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionSpec } from '../../src/connection/connection.js';
import { connectSsh } from '../../src/connection/ssh.js';
import { type SshdLab, startSshdLab } from '../../src/lab/sshd.js';

const BIN = resolve(import.meta.dirname, '../../bin/ewsplay.js');
const SSH = resolve(import.meta.dirname, '../../dist/connection/ssh.js');
let lab: SshdLab;

beforeAll(async () => {
  lab = await startSshdLab(1, { prefix: 'loss' });
});
afterAll(async () => {
  await lab?.stop();
});

function spec(): ConnectionSpec {
  const host = lab.hosts[0]!;
  return {
    host: host.name,
    connection: 'ssh',
    address: '127.0.0.1',
    port: host.port,
    user: lab.user,
    privateKeyFile: lab.clientKeyFile,
    knownHostsFile: lab.knownHostsFile,
    connectTimeoutMs: 5000,
  };
}

const running = (marker: string) => spawnSync('pgrep', ['-f', marker]).stdout.toString().trim();

async function until(what: string, check: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((r) => child.once('exit', (code) => r(code)));
}

describe('Ctrl-C while connecting', () => {
  it('a host that accepted TCP and never speaks SSH does not hold the run for its connect timeout', async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port } = silent.address() as net.AddressInfo;
    const dir = mkdtempSync(join(tmpdir(), 'ewsplay-loss-'));
    writeFileSync(
      join(dir, 'hosts.yml'),
      `all:\n  hosts:\n    mute: { ansible_host: 127.0.0.1, ansible_port: ${port} }\n`,
    );
    writeFileSync(
      join(dir, 'play.yml'),
      '- hosts: all\n  gather_facts: false\n  tasks:\n    - command: "true"\n',
    );
    let accepted = false;
    silent.on('connection', () => {
      accepted = true;
    });
    const child = spawn(
      process.execPath,
      [BIN, 'run', 'play.yml', '-i', 'hosts.yml', '--timeout', '60', '-o', 'plain'],
      {
        cwd: dir,
        env: { ...process.env, HOME: dir },
      },
    );
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    try {
      await until('the TCP connection', () => accepted);
      const sent = Date.now();
      child.kill('SIGINT');
      const code = await exited(child);
      // Not the 60 s connect timeout: the pending connect is aborted and its socket closed.
      expect(code, out).toBe(130);
      expect(Date.now() - sent).toBeLessThan(5000);
      expect(out).toContain('mute: connect aborted');
    } finally {
      child.kill('SIGKILL');
      silent.close();
    }
  });
});

describe('commands die with their connection', () => {
  it('SIGKILL of ewsplay mid `sleep 300`: the remote sleep is gone within seconds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ewsplay-loss-'));
    writeFileSync(join(dir, 'inventory.yml'), readFileSync(lab.inventoryFile, 'utf8'));
    writeFileSync(
      join(dir, 'play.yml'),
      '- hosts: all\n  gather_facts: false\n  tasks:\n    - command: sleep 300.1\n',
    );
    const child = spawn(process.execPath, [BIN, 'run', 'play.yml', '-i', 'inventory.yml', '-o', 'plain'], {
      cwd: dir,
      stdio: 'ignore',
    });
    try {
      await until('the remote sleep', () => running('sleep 300.1') !== '');
      child.kill('SIGKILL');
      await exited(child);
      await until('the remote sleep to die', () => running('sleep 300.1') === '', 5000);
    } finally {
      child.kill('SIGKILL');
      spawnSync('pkill', ['-f', 'sleep 300.1']);
    }
    expect(running('sleep 300.1')).toBe('');
  });

  // A job too big for a remote shell runs on a channel of its own, whose stdin is the job's: there the
  // remote side watches sshd's session process instead.
  for (const [what, padding] of [
    ['on a remote shell', 0],
    ['on a channel of its own', 120_000],
  ] as const) {
    it(`a command ${what} is killed when the process holding its connection is killed`, async () => {
      const marker = `sleep 300.${padding ? 3 : 2}`;
      // The command comes by the environment: in this process's argv, pgrep would find the marker here.
      const script = `
        const { connectSsh } = await import(${JSON.stringify(SSH)});
        const c = await connectSsh(${JSON.stringify(spec())});
        c.exec(process.env.LOSS_COMMAND, { timeoutMs: 600000 });
      `;
      const command = `${padding ? `: ${'x'.repeat(padding)}\n` : ''}${marker}`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        stdio: 'ignore',
        env: { ...process.env, LOSS_COMMAND: command },
      });
      try {
        await until(marker, () => running(marker) !== '');
        child.kill('SIGKILL');
        await exited(child);
        await until(`${marker} to die`, () => running(marker) === '', 6000);
      } finally {
        child.kill('SIGKILL');
        spawnSync('pkill', ['-f', marker]);
      }
      expect(running(marker)).toBe('');
    });
  }

  it('a command still runs to its end while the connection lives (the watcher does not kill it)', async () => {
    const c = await connectSsh(spec());
    try {
      const r = await c.exec('sleep 1.5; echo finished', { timeoutMs: 30_000 });
      expect(r).toEqual({ rc: 0, stdout: 'finished\n', stderr: '' });
      // Background work a command starts on purpose outlives it, as before.
      await c.exec('(sleep 301.5 &) ; true', { timeoutMs: 30_000 });
      expect(running('sleep 301.5')).not.toBe('');
    } finally {
      await c.close();
      spawnSync('pkill', ['-f', 'sleep 301.5']);
    }
  });
});

describe('leftovers of transfers cut off', () => {
  it('the next transfer to a directory removes our old temp files there, and only those', async () => {
    const dir = join(lab.hosts[0]!.workDir, 'leftovers');
    const c = await connectSsh(spec());
    try {
      await c.exec(`mkdir -p ${dir}`);
      const hourAgo = new Date(Date.now() - 3600_000);
      const old = join(dir, '.ewsplay-tmp-0123456789ab');
      const oldMktemp = join(dir, '.ewsplay-tmp-Ab12Cd');
      const fresh = join(dir, '.ewsplay-tmp-ba9876543210');
      const notOurs = join(dir, '.ewsplay-tmp-notours-at-all');
      for (const f of [old, oldMktemp, fresh, notOurs]) writeFileSync(f, 'partial');
      for (const f of [old, oldMktemp, notOurs]) utimesSync(f, hourAgo, hourAgo);
      await c.put(join(dir, 'app.conf'), 'port=1\n');
      expect(readFileSync(join(dir, 'app.conf'), 'utf8')).toBe('port=1\n');
      expect(existsSync(old)).toBe(false);
      expect(existsSync(oldMktemp)).toBe(false);
      // In flight (too young) or not named as ours: left alone.
      expect(existsSync(fresh)).toBe(true);
      expect(existsSync(notOurs)).toBe(true);
    } finally {
      await c.close();
    }
  });
});
