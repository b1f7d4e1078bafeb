// A lab of N real OpenSSH sshd processes on 127.0.0.1 for the benchmark, modeled on src/lab/sshd.ts
// (which is TypeScript under test/ and not compiled): one process per host with its own port and ed25519
// host key, one authorized client key, a known_hosts file and an inventory both tools read. Stopped by PID.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';

const SSHD = '/usr/sbin/sshd';

/**
 * Starts `n` sshd hosts named bench1..benchN in `dir` (created empty). Each host gets `bench_dir`, a work
 * directory of its own under `hostsDir`, as an inventory variable. Both tools log in as `loginUser` (default:
 * the current user); another user is created when missing, with Debian's default dotfiles.
 * @returns {Promise<{dir: string, user: string, hosts: {name: string, port: number, pid: number, workDir: string}[],
 *   clientKeyFile: string, knownHostsFile: string, inventoryFile: string, stop: () => Promise<void>}>}
 */
export async function startLab(n, dir, hostsDir, loginUser) {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const user = loginUser ?? execFileSync('id', ['-un']).toString().trim();
  ensureUser(user);
  const clientKeyFile = join(dir, 'id_ed25519');
  keygen(clientKeyFile, 'ewsplay-bench-client');
  await writeFile(join(dir, 'authorized_keys'), await readFile(`${clientKeyFile}.pub`), { mode: 0o644 });

  const children = [];
  const hosts = [];
  const stop = () => Promise.all(children.map(stopChild));
  try {
    for (let i = 1; i <= n; i++) {
      const name = `bench${i}`;
      const hostKey = join(dir, `${name}_host_ed25519`);
      keygen(hostKey, name);
      const port = await freePort();
      const cfg = join(dir, `${name}_sshd_config`);
      await writeFile(
        cfg,
        [
          `Port ${port}`,
          'ListenAddress 127.0.0.1',
          `HostKey ${hostKey}`,
          `PidFile ${join(dir, `${name}.pid`)}`,
          `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
          'UsePAM no',
          'StrictModes no',
          'PermitRootLogin yes',
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          'MaxSessions 50',
          'MaxStartups 200',
          'PrintMotd no',
          'LogLevel ERROR',
          'Subsystem sftp internal-sftp',
          '',
        ].join('\n'),
      );
      const logFile = join(dir, `${name}.log`);
      // The log is a file descriptor, not a pipe: the benchmark blocks its event loop while a tool runs.
      const log = openSync(logFile, 'w');
      const child = spawn(SSHD, ['-f', cfg, '-D', '-e'], { stdio: ['ignore', 'ignore', log] });
      closeSync(log);
      children.push(child);
      const hostPublicKey = (await readFile(`${hostKey}.pub`, 'utf8'))
        .trim()
        .split(/\s+/)
        .slice(0, 2)
        .join(' ');
      hosts.push({ name, port, pid: child.pid, hostPublicKey, workDir: join(hostsDir, name), logFile });
    }
    await Promise.all(hosts.map((h, i) => waitForBanner(h.port, children[i], h.logFile)));
  } catch (e) {
    await stop();
    throw e;
  }

  const knownHostsFile = join(dir, 'known_hosts');
  await writeFile(knownHostsFile, hosts.map((h) => `[127.0.0.1]:${h.port} ${h.hostPublicKey}\n`).join(''));
  const inventoryFile = join(dir, 'inventory.yml');
  const lines = ['all:', '  children:', '    bench:', '      hosts:'];
  for (const h of hosts) {
    lines.push(
      `        ${h.name}:`,
      '          ansible_host: 127.0.0.1',
      `          ansible_port: ${h.port}`,
      `          bench_dir: ${JSON.stringify(h.workDir)}`,
    );
  }
  lines.push(
    '      vars:',
    '        ansible_connection: ssh',
    `        ansible_user: ${JSON.stringify(user)}`,
    `        ansible_ssh_private_key_file: ${JSON.stringify(clientKeyFile)}`,
    '',
  );
  await writeFile(inventoryFile, lines.join('\n'));
  return { dir, user, hosts, clientKeyFile, knownHostsFile, inventoryFile, stop };
}

function ensureUser(name) {
  try {
    execFileSync('id', ['-u', name], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['--create-home', '--shell', '/bin/bash', name]);
    // No password, but not locked: without PAM, sshd refuses key logins to a locked ('!') account.
    execFileSync('usermod', ['-p', '*', name]);
  }
}

function keygen(file, comment) {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
}

/** A port that was free a moment ago (bound to port 0, then released). */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitForBanner(port, child, logFile) {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`sshd on port ${port} exited: ${await readFile(logFile, 'utf8').catch(() => '')}`);
    }
    if (await answersSsh(port)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`sshd on port ${port} did not answer within 10 s`);
}

function answersSsh(port) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once('data', (d) => done(d.toString('latin1').startsWith('SSH-')));
    sock.once('error', () => done(false));
  });
}

/** PIDs of every live descendant of `pid` (sshd session processes, the shells they run). */
function descendants(pid) {
  const children = new Map();
  for (const line of execFileSync('ps', ['-e', '-o', 'pid=,ppid=']).toString().trim().split('\n')) {
    const [p, pp] = line.trim().split(/\s+/).map(Number);
    children.set(pp, [...(children.get(pp) ?? []), p]);
  }
  const out = [];
  for (let i = -1; i < out.length; i++) out.push(...(children.get(i < 0 ? pid : out[i]) ?? []));
  return out;
}

async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  // Session processes first (they outlive the listener otherwise), then the listener.
  for (const p of descendants(child.pid)) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}
