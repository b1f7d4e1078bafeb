// A lab of real OpenSSH sshd processes on 127.0.0.1: one process per host, each with its own port and
// ed25519 host key, one shared authorized client key, a matching inventory and known_hosts. Stopped by PID.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SSHD = '/usr/sbin/sshd';

export interface SshdHost {
  name: string;
  port: number;
  pid: number;
  /** `ssh-ed25519 AAAA...` public host key. */
  hostPublicKey: string;
  /** Per-host work directory under the lab directory, for tests that keep state on "the host". */
  workDir: string;
  logFile: string;
  /** Kills this host's sshd and every session process it spawned (SIGKILL), as a crash would. */
  kill(): void;
}

export interface SshdLab {
  dir: string;
  user: string;
  hosts: SshdHost[];
  clientKeyFile: string;
  knownHostsFile: string;
  inventoryFile: string;
  stop(): Promise<void>;
}

export interface SshdLabOptions {
  /** Host name prefix; hosts are named prefix1..prefixN. */
  prefix?: string;
  /** Login user written to the inventory (default: the current user). */
  user?: string;
  /** Group name in the inventory (default `lab`). */
  group?: string;
  maxSessions?: number;
  /** Extra sshd_config lines for every host. */
  extraConfig?: string[];
  /** Host names instead of prefix1..prefixN (its length must be n). */
  names?: string[];
  /** Extra sshd_config lines for one host (e.g. SetEnv for its own PATH), given its name and work dir. */
  hostConfig?: (name: string, workDir: string) => string[];
  /** Extra sshd command line flags (the handshake benchmark tries -r, no re-exec per connection). */
  sshdArgs?: string[];
}

export async function startSshdLab(n: number, opts: SshdLabOptions = {}): Promise<SshdLab> {
  if (opts.names && opts.names.length !== n)
    throw new Error(`startSshdLab: ${n} hosts but ${opts.names.length} names`);
  const dir = await mkdtemp(join(tmpdir(), 'ewsplay-sshd-'));
  // Readable by other users so sshd can read AuthorizedKeysFile as a non-root login user.
  await chmod(dir, 0o755);
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const user = opts.user ?? execFileSync('id', ['-un']).toString().trim();
  const clientKeyFile = join(dir, 'id_ed25519');
  keygen(clientKeyFile, 'ewsplay-lab-client');
  await chmod(`${clientKeyFile}.pub`, 0o644);
  await writeFile(join(dir, 'authorized_keys'), await readFile(`${clientKeyFile}.pub`), { mode: 0o644 });

  const children: ChildProcess[] = [];
  const hosts: SshdHost[] = [];
  const stop = async () => {
    await Promise.all(children.map(stopChild));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 1; i <= n; i++) {
      const name = opts.names?.[i - 1] ?? `${opts.prefix ?? 'host'}${i}`;
      const hostKey = join(dir, `${name}_host_ed25519`);
      keygen(hostKey, name);
      const port = await freePort();
      const workDir = join(dir, 'hosts', name);
      await mkdir(workDir, { recursive: true, mode: 0o777 });
      await chmod(workDir, 0o777);
      const home = join(dir, 'homes', name);
      await mkdir(home, { recursive: true });
      await chmod(home, 0o1777);
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
          'PasswordAuthentication yes',
          'KbdInteractiveAuthentication no',
          `MaxSessions ${opts.maxSessions ?? 50}`,
          'MaxStartups 200',
          'PrintMotd no',
          'LogLevel VERBOSE',
          'Subsystem sftp internal-sftp',
          ...withLabHome(home, [...(opts.extraConfig ?? []), ...(opts.hostConfig?.(name, workDir) ?? [])]),
          '',
        ].join('\n'),
      );
      const logFile = join(dir, `${name}.log`);
      const log = createWriteStream(logFile);
      const child = spawn(SSHD, ['-f', cfg, '-D', '-e', ...(opts.sshdArgs ?? [])], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      child.stderr?.pipe(log);
      children.push(child);
      const pid = child.pid;
      if (pid === undefined) throw new Error(`cannot start sshd for ${name}`);
      const hostPublicKey = (await readFile(`${hostKey}.pub`, 'utf8'))
        .trim()
        .split(/\s+/)
        .slice(0, 2)
        .join(' ');
      hosts.push({
        name,
        port,
        pid,
        hostPublicKey,
        workDir,
        logFile,
        kill: () => signal([pid, ...descendants(pid)], 'SIGKILL'),
      });
    }
    await Promise.all(hosts.map((h, i) => waitForBanner(h.port, children[i]!, h.logFile)));
  } catch (e) {
    await stop();
    throw e;
  }

  const knownHostsFile = join(dir, 'known_hosts');
  await writeFile(knownHostsFile, hosts.map((h) => `[127.0.0.1]:${h.port} ${h.hostPublicKey}\n`).join(''));
  const inventoryFile = join(dir, 'inventory.yml');
  await writeFile(
    inventoryFile,
    inventoryYaml(opts.group ?? 'lab', hosts, user, clientKeyFile, knownHostsFile),
  );
  return { dir, user, hosts, clientKeyFile, knownHostsFile, inventoryFile, stop };
}

function inventoryYaml(
  group: string,
  hosts: SshdHost[],
  user: string,
  keyFile: string,
  knownHosts: string,
): string {
  const lines = ['all:', '  children:', `    ${group}:`, '      hosts:'];
  for (const h of hosts) {
    lines.push(
      `        ${h.name}:`,
      '          ansible_host: 127.0.0.1',
      `          ansible_port: ${h.port}`,
      `          lab_dir: ${JSON.stringify(h.workDir)}`,
    );
  }
  lines.push(
    '      vars:',
    '        ansible_connection: ssh',
    `        ansible_user: ${JSON.stringify(user)}`,
    `        ansible_ssh_private_key_file: ${JSON.stringify(keyFile)}`,
    // -F /dev/null: test hosts follow no ~/.ssh/config of the machine's user.
    `        ansible_ssh_common_args: ${JSON.stringify(`-F /dev/null -o UserKnownHostsFile=${knownHosts}`)}`,
    '',
  );
  return lines.join('\n');
}

/** An ed25519 key pair without passphrase: `file` and `file.pub`. */
export function keygen(file: string, comment: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
}

/** A port that was free a moment ago (bound to port 0, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForBanner(port: number, child: ChildProcess, logFile: string): Promise<void> {
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

/** Does an SSH server answer on 127.0.0.1:port (its banner)? */
export function answersSsh(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once('data', (d) => done(d.toString('latin1').startsWith('SSH-')));
    sock.once('error', () => done(false));
  });
}

/** PIDs of every live descendant of `pid`. Synchronous, so a test can crash a host at an exact moment. */
export function descendants(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const line of execFileSync('ps', ['-e', '-o', 'pid=,ppid=']).toString().trim().split('\n')) {
    const [p, pp] = line.trim().split(/\s+/).map(Number) as [number, number];
    parents.set(pp, [...(parents.get(pp) ?? []), p]);
  }
  const out: number[] = [];
  for (let i = -1; i < out.length; i++) out.push(...(parents.get(i < 0 ? pid : out[i]!) ?? []));
  return out;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signal(pids: number[], sig: NodeJS.Signals): void {
  for (const p of pids) {
    try {
      process.kill(p, sig);
    } catch {
      /* already gone */
    }
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  // Session processes first (they outlive the listener otherwise), then the listener.
  signal(descendants(pid), 'SIGKILL');
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

/** Where the lab user's password is kept (root only), so every test process uses the same one. */
const SUDO_USER_DIR = '/var/lib/ewsplay-lab';

/**
 * A non-root login user with a password and sudo rights (for password login and become tests); needs
 * root. Test files run in parallel processes: the first call makes the user and its password (set through
 * chpasswd's stdin, kept in a root-only file), later calls read the same password, all under one flock,
 * so no call changes the password under another test's feet. Each user has its own sudoers file
 * (/etc/sudoers.d/NAME, checked by visudo and renamed into place), with `defaults` as `Defaults:NAME ...`.
 */
export function ensureSudoUser(
  name = 'ewsplay-lab',
  defaults: string[] = [],
): { user: string; password: string } {
  if (!/^[a-z][a-z0-9-]{0,30}$/.test(name))
    throw new Error(`ensureSudoUser: ${name} is not a plain user name`);
  execFileSync('mkdir', ['-p', '-m', '0700', SUDO_USER_DIR]);
  const script = [
    'set -e',
    'user=$0; pwfile="$1/$user.password"; shift',
    // A name with a dot is ignored by sudo: the new file is checked there, then renamed into place.
    'f="/etc/sudoers.d/$user"',
    '(umask 0337; { printf \'%s\\n\' "$user ALL=(ALL:ALL) ALL" "Defaults:$user lecture=never"; for d in "$@"; do printf \'Defaults:%s %s\\n\' "$user" "$d"; done; } > "$f.new")',
    'visudo -cqf "$f.new" || { rm -f "$f.new"; echo "visudo refused the sudoers lines for $user" >&2; exit 1; }',
    'mv -f "$f.new" "$f"',
    'if id -u "$user" >/dev/null 2>&1 && [ -s "$pwfile" ]; then cat "$pwfile"; exit 0; fi',
    'id -u "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/sh "$user"',
    'pw="pw-$(od -An -N12 -tx1 /dev/urandom | tr -d \' \\n\')"',
    'printf \'%s:%s\\n\' "$user" "$pw" | chpasswd',
    '(umask 0177; printf \'%s\\n\' "$pw" > "$pwfile")',
    'printf \'%s\\n\' "$pw"',
  ].join('\n');
  const password = execFileSync(
    'flock',
    [join(SUDO_USER_DIR, 'lock'), 'sh', '-c', script, name, SUDO_USER_DIR, ...defaults],
    {
      encoding: 'utf8',
    },
  ).trim();
  return { user: name, password };
}

/**
 * The sessions' environment, plus HOME set to the lab host's own empty home: a lab host must not run the
 * machine user's rc files (a developer's root `.bashrc` runs `pyenv rehash`, whose lock a killed login
 * leaves behind; every later login then waited or printed pyenv's complaint into the command's output),
 * nor write into the real home. sshd takes only the first SetEnv line, so HOME joins it.
 */
function withLabHome(home: string, lines: string[]): string[] {
  const i = lines.findIndex((l) => /^SetEnv\s/.test(l));
  if (i < 0) return [...lines, `SetEnv HOME=${home}`];
  return lines.map((l, j) => (j === i ? `${l} HOME=${home}` : l));
}
