// The SSH connection against real sshd processes: commands, secrets kept out of `ps`, pty, timeouts,
// SFTP transfers, TCP from the target's side, sudo, and the ways to log in (key with passphrase, agent).
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionSpec } from '../../src/connection/connection.js';
import { openConnection } from '../../src/connection/factory.js';
import { BecomeError, connectSsh, type SshConnection } from '../../src/connection/ssh.js';
import { ensureSudoUser, type SshdLab, startSshdLab } from '../../src/lab/sshd.js';

let lab: SshdLab;
let conn: SshConnection;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

function spec(extra: Partial<ConnectionSpec> = {}): ConnectionSpec {
  const h = lab.hosts[0]!;
  return {
    host: h.name,
    connection: 'ssh',
    address: '127.0.0.1',
    port: h.port,
    user: lab.user,
    privateKeyFile: lab.clientKeyFile,
    knownHostsFile: lab.knownHostsFile,
    connectTimeoutMs: 5000,
    ...extra,
  };
}

beforeAll(async () => {
  // Keep the developer's own ~/.ssh out of the picture.
  process.env.HOME = await mkdtemp(join(tmpdir(), 'ewsplay-home-'));
  lab = await startSshdLab(1);
  conn = await connectSsh(spec());
});

afterAll(async () => {
  await conn?.close();
  await lab?.stop();
});

describe('exec', () => {
  it('returns rc, stdout and stderr, feeds stdin, applies cwd and env', async () => {
    expect(await conn.exec('echo out; echo err >&2; exit 3')).toEqual({
      rc: 3,
      stdout: 'out\n',
      stderr: 'err\n',
    });
    const r = await conn.exec('cat; printf "[%s]" "$GREETING"; pwd', {
      stdin: 'line one\nno newline at end',
      env: { GREETING: 'it\'s a "test" $HOME' },
      cwd: lab.hosts[0]!.workDir,
    });
    expect(r).toEqual({
      rc: 0,
      stdout: `line one\nno newline at end[it's a "test" $HOME]${lab.hosts[0]!.workDir}\n`,
      stderr: '',
    });
    // Binary stdin survives byte for byte.
    const bytes = Buffer.from([0, 1, 2, 255, 10, 13, 0]);
    expect((await conn.exec('od -An -tu1 | tr -s " " | sed "s/^ //"', { stdin: bytes })).stdout.trim()).toBe(
      '0 1 2 255 10 13 0',
    );
  });

  it("a lab host's login has its own empty HOME, so no rc file of the machine's user runs or prints", async () => {
    const r = await conn.exec('printf "%s\\n" "$HOME"; ls -A "$HOME" | wc -l');
    expect(r.rc).toBe(0);
    const [home, entries] = r.stdout.trim().split('\n');
    expect(home).toBe(join(lab.dir, 'homes', lab.hosts[0]!.name));
    expect(entries).toBe('0');
    expect(r.stderr).toBe('');
  });

  it('carries a megabyte of stdin through a remote shell, and a script too big for one on its own channel', async () => {
    const big = Buffer.alloc(1024 * 1024, 'abcdefghij\n');
    expect((await conn.exec('wc -c', { stdin: big })).stdout.trim()).toBe(String(big.length));
    const longScript = `# ${'x'.repeat(200_000)}\necho "$$" "$PPID" big-script-ran`;
    const r = await conn.exec(longScript);
    expect(r.stdout).toMatch(/big-script-ran/);
  });

  it('a cwd that does not exist fails the command, not the connection', async () => {
    const r = await conn.exec('echo never', { cwd: '/nonexistent/dir' });
    expect(r.rc).not.toBe(0);
    expect(r.stdout).toBe('');
    expect((await conn.exec('echo still-here')).stdout).toBe('still-here\n');
  });

  it.each<[string, { maxShells?: number }]>([
    ['a remote shell', {}],
    ['a channel of its own', { maxShells: 0 }],
  ])('keeps env values and stdin out of every process argv on the target (%s)', async (_label, opts) => {
    const c = opts.maxShells === 0 ? await connectSsh(spec(), opts) : conn;
    const envSecret = `env-secret-${Date.now()}`;
    const stdinSecret = `stdin-secret-${Date.now()}`;
    try {
      const r = await c.exec('ps -eo args; printf "%s" "$EWS_TOKEN" | sha256sum; sha256sum', {
        env: { EWS_TOKEN: envSecret },
        stdin: stdinSecret,
      });
      expect(r.rc).toBe(0);
      expect(r.stdout).toContain('ps -eo args'); // ps did list the running processes
      expect(r.stdout).not.toContain(envSecret);
      expect(r.stdout).not.toContain(stdinSecret);
      expect(r.stdout).toContain(sha256(envSecret)); // yet the command saw both
      expect(r.stdout).toContain(sha256(stdinSecret));
    } finally {
      if (c !== conn) await c.close();
    }
  });

  it('allocates a pty on request, without echoing what is sent on stdin', async () => {
    expect((await conn.exec('tty')).rc).not.toBe(0);
    const r = await conn.exec('tty; printf "%s\\n" "$PTY_SECRET" | sha256sum', {
      pty: true,
      env: { PTY_SECRET: 'p-t-y' },
    });
    expect(r.rc).toBe(0);
    expect(r.stdout).toMatch(/^\/dev\/pts\/\d+\r\n/);
    expect(r.stdout).toContain(sha256('p-t-y\n'));
    expect(r.stdout).not.toContain('p-t-y');
  });

  it('a timeout kills the whole remote command tree and reports rc 124', async () => {
    const marker = `sleep 41.${process.pid}`;
    const started = Date.now();
    const r = await conn.exec(`${marker} | cat; echo not-reached`, { timeoutMs: 400 });
    expect(r.timedOut).toBe(true);
    expect(r.rc).toBe(124);
    expect(r.stdout).not.toContain('not-reached');
    expect(Date.now() - started).toBeLessThan(3000);
    // The target is this machine: nothing of the command survives.
    const ps = execFileSync('ps', ['-eo', 'args']).toString();
    expect(ps).not.toContain(marker);
    expect((await conn.exec('echo usable')).stdout).toBe('usable\n');
  });

  it('a timeout spares what earlier commands left running in the background, and the shell lives on', async () => {
    const c = await connectSsh(spec(), { maxShells: 1 });
    const daemon = `sleep 43.${process.pid}`;
    const victim = `sleep 44.${process.pid}`;
    try {
      // Started in the background by one command, not detached: a child of that command's shell.
      expect((await c.exec(`${daemon} >/dev/null 2>&1 & echo started`)).stdout).toBe('started\n');
      const shellPid = (await c.exec('echo $PPID')).stdout;
      const r = await c.exec(`${victim} | cat; echo not-reached`, { timeoutMs: 400 });
      expect(r.timedOut).toBe(true);
      expect(r.rc).toBe(124);
      const ps = execFileSync('ps', ['-eo', 'args']).toString();
      expect(ps).not.toContain(victim);
      expect(ps).toContain(daemon);
      // The same remote shell runs the next command: the timeout did not take it down.
      expect((await c.exec('echo $PPID')).stdout).toBe(shellPid);
    } finally {
      execFileSync('pkill', ['-f', daemon]);
      await c.close();
    }
  });

  it('an abort signal stops a running command', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const started = Date.now();
    const r = await conn.exec('sleep 42; echo not-reached', { signal: ac.signal });
    expect(r.stdout).toBe('');
    expect(r.rc).not.toBe(0);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('runs many commands at once over the one connection, beyond the channel limit', async () => {
    const c = await connectSsh(spec(), { maxChannels: 3 });
    try {
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          c.exec(`sleep 0.1; echo ${i}`, i % 4 === 0 ? { pty: true } : {}),
        ),
      );
      expect(results.map((r) => r.stdout.trim())).toEqual(Array.from({ length: 12 }, (_, i) => String(i)));
    } finally {
      await c.close();
    }
  });
});

describe('files over SFTP', () => {
  it('put writes atomically with the requested mode and owner; get reads it back', async () => {
    const dir = join(lab.hosts[0]!.workDir, 'put', 'deep');
    const dest = join(dir, 'file.conf');
    await conn.put(dest, 'first\n');
    const inodeBefore = (await conn.exec(`stat -c %i ${dest}`)).stdout;
    await conn.put(dest, Buffer.from('second\n'), { mode: '0640', owner: 'nobody', group: 'nogroup' });
    expect((await conn.get(dest)).toString()).toBe('second\n');
    expect((await conn.exec(`stat -c '%a %U %G' ${dest}`)).stdout).toBe('640 nobody nogroup\n');
    // A new inode renamed into place, not the old file rewritten; no temp file left behind.
    expect((await conn.exec(`stat -c %i ${dest}`)).stdout).not.toBe(inodeBefore);
    expect((await conn.exec(`ls -A ${dir}`)).stdout).toBe('file.conf\n');
  });

  it('get of a missing file rejects with the path', async () => {
    await expect(conn.get('/nonexistent/file')).rejects.toThrow(/\/nonexistent\/file/);
  });
});

describe('forwardOut', () => {
  it('opens TCP from the target to a local server', async () => {
    const server = net.createServer((s) => s.on('data', (d) => s.end(`pong:${d}`)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as net.AddressInfo;
    try {
      const stream = await conn.forwardOut('127.0.0.1', port);
      stream.write('ping');
      const reply = await new Promise<string>((resolve) => {
        let text = '';
        stream.on('data', (d: Buffer) => (text += d));
        stream.on('end', () => resolve(text));
      });
      expect(reply).toBe('pong:ping');
      server.close();
      await expect(conn.forwardOut('127.0.0.1', port, { timeoutMs: 3000 })).rejects.toThrow(/cannot connect/);
    } finally {
      server.close();
    }
  });
});

describe('become and password login', () => {
  let sudoUser: { user: string; password: string };
  beforeAll(() => {
    sudoUser = ensureSudoUser();
  });

  it('logs in with a password and runs commands through sudo with the password on stdin', async () => {
    const { privateKeyFile: _unused, ...withoutKey } = spec({
      user: sudoUser.user,
      password: sudoUser.password,
    });
    const c = await openConnection(withoutKey);
    try {
      expect((await c.exec('id -un')).stdout).toBe(`${sudoUser.user}\n`);
      const r = await c.exec('id -un; cat', {
        become: { password: sudoUser.password },
        stdin: 'through-sudo',
      });
      expect(r).toEqual({ rc: 0, stdout: 'root\nthrough-sudo', stderr: '' });
      // Again on the same remote shell, where sudo may now hold cached credentials: the password line
      // must still be consumed, never handed to the command.
      const again = await c.exec('id -un; cat', { become: { password: sudoUser.password }, stdin: 'second' });
      expect(again).toEqual({ rc: 0, stdout: 'root\nsecond', stderr: '' });
      const dest = join(lab.hosts[0]!.workDir, 'root-owned');
      await c.put(dest, 'as root\n', { become: { password: sudoUser.password }, mode: '0600' });
      expect(execFileSync('stat', ['-c', '%a %U', dest]).toString()).toBe('600 root\n');
    } finally {
      await c.close();
    }
  });

  it('a wrong sudo password is a clear per-host error', async () => {
    const c = await connectSsh(spec({ user: sudoUser.user }));
    try {
      const wrong = c.exec('id -un', { become: { password: 'not-the-password' } });
      await expect(wrong).rejects.toThrow(BecomeError);
      await expect(wrong).rejects.toThrow(`sudo: incorrect password for user ${sudoUser.user} on host host1`);
    } finally {
      await c.close();
    }
  });

  it("sudo refusing the task's environment is a clear error naming the variables and the fix", async () => {
    // A user sudo lets run /bin/sh as root, but not with an environment of its choosing (no SETENV).
    const user = 'ewsplay-lab-noenv';
    try {
      execFileSync('id', ['-u', user], { stdio: 'ignore' });
    } catch {
      execFileSync('useradd', ['--create-home', '--shell', '/bin/sh', user]);
    }
    // sshd refuses even a key to an account whose password is locked, as useradd leaves it.
    execFileSync('chpasswd', { input: `${user}:pw-${Date.now()}\n` });
    const sudoers = '/etc/sudoers.d/ewsplay-lab-noenv';
    writeFileSync(sudoers, `${user} ALL=(root) NOPASSWD: /bin/sh\n`, { mode: 0o440 });
    const c = await connectSsh(spec({ user }));
    try {
      expect((await c.exec('id -un', { become: {} })).stdout).toBe('root\n');
      const refused = c.exec('id -un', { become: {}, env: { HTTP_PROXY: 'http://proxy:3128' } });
      await expect(refused).rejects.toThrow(BecomeError);
      await expect(refused).rejects.toThrow(
        `sudo on host host1 does not let user ${user} pass the task's environment (HTTP_PROXY) to root`,
      );
      await expect(refused).rejects.toThrow('env_keep += "HTTP_PROXY"');
    } finally {
      await c.close();
      rmSync(sudoers, { force: true });
    }
  });
});

describe('authentication', () => {
  /** A new key pair the lab's hosts accept. */
  async function authorizedKey(name: string, passphrase = ''): Promise<string> {
    const file = join(await mkdtemp(join(tmpdir(), 'ewsplay-key-')), name);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', name, '-f', file]);
    appendFileSync(join(lab.dir, 'authorized_keys'), readFileSync(`${file}.pub`));
    return file;
  }

  it('logs in with a passphrase-protected key and its passphrase, which becomes a secret', async () => {
    const passphrase = 'open sesame, said the test';
    const file = await authorizedKey('locked_ed25519', passphrase);
    const secrets: string[] = [];
    const c = await connectSsh(spec({ privateKeyFile: file, privateKeyPassphrase: passphrase }), {
      secrets: { add: (v) => secrets.push(v) },
    });
    try {
      expect((await c.exec('echo in')).stdout).toBe('in\n');
      expect(secrets).toContain(passphrase);
    } finally {
      await c.close();
    }
  });

  it('logs in through ssh-agent (SSH_AUTH_SOCK) when no key file is given', async () => {
    const file = await authorizedKey('agent_ed25519');
    const socket = join(await mkdtemp(join(tmpdir(), 'ewsplay-agent-')), 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    const saved = process.env.SSH_AUTH_SOCK;
    try {
      for (let i = 0; i < 50 && !existsSync(socket); i++) await sleep(50);
      execFileSync('ssh-add', ['-q', file], {
        env: { ...process.env, SSH_AUTH_SOCK: socket },
        stdio: 'ignore',
      });
      // The key file is gone: only the agent holds the key now.
      rmSync(file);
      const { privateKeyFile: _none, ...noKey } = spec();
      delete process.env.SSH_AUTH_SOCK;
      await expect(connectSsh(noKey)).rejects.toThrow(/authentication failed \(tried: none\)/);
      process.env.SSH_AUTH_SOCK = socket;
      const c = await connectSsh(noKey);
      try {
        expect((await c.exec('echo via agent')).stdout).toBe('via agent\n');
      } finally {
        await c.close();
      }
    } finally {
      if (saved === undefined) delete process.env.SSH_AUTH_SOCK;
      else process.env.SSH_AUTH_SOCK = saved;
      agent.kill();
    }
  });
});
