// What goes wrong with SSH hosts, against real sshd processes: refused, silent, wrong credentials,
// unknown/changed/revoked/hashed host keys, a host dying mid-command, a host that stops answering.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConnectionSpec, UnreachableError } from '../../src/connection/connection.js';
import { fingerprint, HostKeyError } from '../../src/connection/known-hosts.js';
import { connectSsh } from '../../src/connection/ssh.js';
import {
  descendants,
  ensureSudoUser,
  freePort,
  type SshdHost,
  type SshdLab,
  startSshdLab,
} from '../../src/lab/sshd.js';

let lab: SshdLab;
let scratch: string;

function spec(host: SshdHost, extra: Partial<ConnectionSpec> = {}): ConnectionSpec {
  return {
    host: host.name,
    connection: 'ssh',
    address: '127.0.0.1',
    port: host.port,
    user: lab.user,
    privateKeyFile: lab.clientKeyFile,
    knownHostsFile: lab.knownHostsFile,
    connectTimeoutMs: 5000,
    ...extra,
  };
}

const keyBlob = (publicKey: string) => Buffer.from(publicKey.split(' ')[1]!, 'base64');

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'ewsplay-ssh-faults-'));
  process.env.HOME = scratch; // the developer's own ~/.ssh stays out of the picture
  lab = await startSshdLab(3);
});

afterAll(async () => {
  await lab?.stop();
});

describe('connect faults', () => {
  it('a closed port is unreachable: connection refused', async () => {
    const port = await freePort();
    await expect(connectSsh({ ...spec(lab.hosts[0]!), port })).rejects.toThrow(
      new UnreachableError(`host1: cannot connect to ${lab.user}@127.0.0.1:${port}: connection refused`),
    );
  });

  it('a host that accepts TCP but never speaks SSH fails within the connect timeout', async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port } = silent.address() as net.AddressInfo;
    const started = Date.now();
    try {
      const attempt = connectSsh({ ...spec(lab.hosts[0]!), port, connectTimeoutMs: 500 });
      await expect(attempt).rejects.toThrow(/no SSH handshake within 500 ms/);
      expect(Date.now() - started).toBeLessThan(2500);
    } finally {
      silent.close();
    }
  });

  it('a key the host does not authorize fails authentication', async () => {
    const otherKey = join(scratch, 'other_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherKey]);
    await expect(connectSsh(spec(lab.hosts[0]!, { privateKeyFile: otherKey }))).rejects.toThrow(
      /authentication failed \(tried: publickey\)/,
    );
  });

  it('a passphrase-protected key needs the right passphrase', async () => {
    const locked = join(scratch, 'locked_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'open sesame', '-f', locked]);
    await expect(connectSsh(spec(lab.hosts[0]!, { privateKeyFile: locked }))).rejects.toThrow(
      /wrong or missing passphrase/,
    );
  });

  it('a wrong password fails authentication', async () => {
    const { user } = ensureSudoUser();
    const { privateKeyFile: _none, ...noKey } = spec(lab.hosts[0]!, { user, password: 'wrong-password' });
    await expect(connectSsh(noKey)).rejects.toThrow(/authentication failed \(tried: password\)/);
  });
});

describe('host keys', () => {
  it('refuses an unknown host, saying how to accept it; --accept-new-host-keys records it', async () => {
    const host = lab.hosts[1]!;
    const file = join(scratch, 'known_hosts_new');
    const fp = fingerprint(keyBlob(host.hostPublicKey));
    const refused = connectSsh(spec(host, { knownHostsFile: file }));
    await expect(refused).rejects.toThrow(HostKeyError);
    await expect(refused).rejects.toThrow(
      new RegExp(`not known: the server presents ED25519 key ${fp.replace(/[+]/g, '\\+')}`),
    );
    await expect(refused).rejects.toThrow(/--accept-new-host-keys/);
    await expect(readFile(file, 'utf8')).rejects.toThrow(); // nothing recorded without the user's say

    const accepted = await connectSsh(spec(host, { knownHostsFile: file, acceptNewHostKeys: true }));
    await accepted.close();
    expect(await readFile(file, 'utf8')).toBe(`[127.0.0.1]:${host.port} ${host.hostPublicKey}\n`);
    const again = await connectSsh(spec(host, { knownHostsFile: file }));
    await again.close();
  });

  it('refuses a changed key even with --accept-new-host-keys, printing both fingerprints and the old line', async () => {
    const host = lab.hosts[1]!;
    const other = lab.hosts[2]!; // another host's real key stands in for the old one
    const file = join(scratch, 'known_hosts_changed');
    await writeFile(
      file,
      `# lab\nexample.org ${other.hostPublicKey}\n[127.0.0.1]:${host.port} ${other.hostPublicKey}\n`,
    );
    const refused = connectSsh(spec(host, { knownHostsFile: file, acceptNewHostKeys: true }));
    await expect(refused).rejects.toThrow(/REMOTE HOST IDENTIFICATION HAS CHANGED/);
    await expect(refused).rejects.toThrow(fingerprint(keyBlob(host.hostPublicKey)));
    await expect(refused).rejects.toThrow(`${file}:3 is ${fingerprint(keyBlob(other.hostPublicKey))}`);
    expect(await readFile(file, 'utf8')).not.toContain(host.hostPublicKey); // never replaced
  });

  it('accepts hashed and wildcard entries, refuses revoked keys', async () => {
    const host = lab.hosts[2]!;
    const hashed = join(scratch, 'known_hosts_hashed');
    await writeFile(hashed, `[127.0.0.1]:${host.port} ${host.hostPublicKey}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', hashed], { stdio: 'ignore' });
    expect(await readFile(hashed, 'utf8')).toMatch(/^\|1\|/);
    await (await connectSsh(spec(host, { knownHostsFile: hashed }))).close();

    const wildcard = join(scratch, 'known_hosts_wildcard');
    await writeFile(wildcard, `other,[127.0.0.?]:${host.port} ${host.hostPublicKey}\n`);
    await (await connectSsh(spec(host, { knownHostsFile: wildcard }))).close();

    const negated = join(scratch, 'known_hosts_negated');
    await writeFile(negated, `[127.0.0.*]:*,![127.0.0.1]:${host.port} ${host.hostPublicKey}\n`);
    await expect(connectSsh(spec(host, { knownHostsFile: negated }))).rejects.toThrow(/not known/);

    const revoked = join(scratch, 'known_hosts_revoked');
    await writeFile(
      revoked,
      `@revoked * ${host.hostPublicKey}\n[127.0.0.1]:${host.port} ${host.hostPublicKey}\n`,
    );
    await expect(
      connectSsh(spec(host, { knownHostsFile: revoked, acceptNewHostKeys: true })),
    ).rejects.toThrow(/REVOKED/);
  });
});

describe('a host dying mid-command', () => {
  it('fails that host with UnreachableError, now and later, while the others finish', async () => {
    const [victim, survivor] = [lab.hosts[0]!, lab.hosts[2]!];
    const a = await connectSsh(spec(victim));
    const b = await connectSsh(spec(survivor));
    try {
      const dying = a.exec('sleep 5; echo done');
      const living = b.exec('sleep 1; echo done');
      setTimeout(() => victim.kill(), 300);
      const started = Date.now();
      await expect(dying).rejects.toThrow(UnreachableError);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(await living).toEqual({ rc: 0, stdout: 'done\n', stderr: '' });
      await expect(a.exec('true')).rejects.toThrow(UnreachableError);
      await expect(a.get('/etc/hostname')).rejects.toThrow(UnreachableError);
      expect((await b.exec('echo fine')).stdout).toBe('fine\n');
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('a host that stops answering (frozen, its TCP connection still open)', () => {
  it('is lost after the keepalives go unanswered, failing the command in flight', async () => {
    const own = await startSshdLab(1);
    const host = own.hosts[0]!;
    const c = await connectSsh(
      {
        ...spec(host),
        user: own.user,
        privateKeyFile: own.clientKeyFile,
        knownHostsFile: own.knownHostsFile,
      },
      { keepaliveIntervalMs: 300, keepaliveCountMax: 2 },
    );
    // sshd's processes for this connection: frozen, they neither answer nor close the socket.
    const frozen = descendants(host.pid);
    try {
      expect((await c.exec('echo alive')).stdout).toBe('alive\n');
      const running = c.exec('sleep 20', { timeoutMs: 60_000 });
      for (const pid of frozen) process.kill(pid, 'SIGSTOP');
      const started = Date.now();
      await expect(running).rejects.toThrow(UnreachableError);
      // Two unanswered keepalives 300 ms apart, not the command's 60 s timeout.
      expect(Date.now() - started).toBeLessThan(5000);
      await expect(c.exec('true')).rejects.toThrow(/SSH connection lost/);
    } finally {
      for (const pid of frozen) {
        try {
          process.kill(pid, 'SIGCONT');
        } catch {
          // already gone
        }
      }
      await c.close();
      await own.stop();
    }
  });
});
