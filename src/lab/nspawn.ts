// A host run by real systemd: a Debian bookworm container booted with systemd-nspawn from a root file system
// made by debootstrap (minbase + systemd, sshd, socat, openssl). The tree is built once and kept OUTSIDE
// the repository (NSPAWN_ROOTFS), under a flock, into a temporary directory renamed into place only when
// complete, so a killed build never leaves half a tree. Each boot runs on a volatile overlay (the tree
// read-only under a tmpfs), so the cache stays as built and nothing a test does survives it.
//
// The container shares the host's network namespace (no veth, no address outside 127.0.0.0/8): its sshd
// listens on 127.0.0.1 at a port chosen here, with a host key and an authorized client key made per boot
// and bind-mounted in read-only. The host is not run by systemd (no machined), so the container is not
// registered: it is stopped through its nspawn process (SIGTERM powers it off cleanly) and, should that not
// end it, by killing its init (which ends its whole PID namespace); a watchdog does the same if the process
// that booted it dies first. Needs root.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { answersSsh, descendants, freePort, isAlive, keygen } from './sshd.js';

/** Where the root file system is kept (outside the repository; reused by every later run). */
export const NSPAWN_ROOTFS = process.env.EWSPLAY_NSPAWN_ROOTFS || '/var/cache/ewsplay-test/nspawn-bookworm';

/** What the tree holds beyond minbase: systemd as init, sshd, and what tls_forwarder's own unit runs. */
export const ROOTFS_PACKAGES = ['systemd', 'systemd-sysv', 'dbus', 'openssh-server', 'socat', 'openssl'];
const SUITE = 'bookworm';
/** Written into a finished tree: a tree built from another recipe is built again. */
const RECIPE = `ewsplay nspawn rootfs 1: debootstrap --variant=minbase ${SUITE} + ${ROOTFS_PACKAGES.join(',')}`;
const MARKER = '.ewsplay-rootfs';
/** A first build downloads and installs about 270 MB; it must end (or fail) well within a CI run. */
const BUILD_TIMEOUT_S = 900;
const BOOT_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 20_000;

/** What a probe says: why this machine cannot boot a container, or undefined when it can. */
export async function nspawnUnavailable(rootfs = NSPAWN_ROOTFS): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'systemd-nspawn needs root and this process is not root';
  if (!onPath('systemd-nspawn'))
    return 'systemd-nspawn is not installed (Debian package systemd-container; scripts/test-deps.sh installs it as root)';
  if (!rootfsReady(rootfs) && !onPath('debootstrap'))
    return `debootstrap is not installed and no root file system is cached at ${rootfs} (scripts/test-deps.sh installs debootstrap as root)`;
  if (!existsSync('/sys/fs/cgroup/cgroup.controllers') && !existsSync('/sys/fs/cgroup/systemd'))
    return 'no cgroup hierarchy is mounted at /sys/fs/cgroup (systemd as the container init needs one)';
  // The smallest container: the host's own /usr read-only under a tmpfs root, running true. It needs what a
  // booted one needs from the kernel (mount, PID, UTS, IPC namespaces, pivot_root) and nothing of ours.
  const probe = await run(
    'systemd-nspawn',
    [
      '--quiet',
      '--register=no',
      '--keep-unit',
      '--directory=/',
      '--volatile=yes',
      '--pipe',
      `--machine=ewsplay-probe-${process.pid}`,
      '/usr/bin/true',
    ],
    30_000,
  );
  if (probe.code !== 0)
    return `systemd-nspawn cannot start a container on this machine (exit ${probe.code}): ${meaningful(probe.stderr) || 'no message'}`;
  return undefined;
}

// ---- the root file system -------------------------------------------------------------------------

function rootfsReady(rootfs: string): boolean {
  try {
    return readFileSync(join(rootfs, MARKER), 'utf8').trim() === RECIPE;
  } catch {
    return false;
  }
}

/**
 * The mirror this machine's apt already uses for Debian (its sources.list or deb822 .sources files): the
 * first `deb` entry of a main suite (not -security, -updates, -backports).
 */
export function debianMirror(aptDir = '/etc/apt'): string | undefined {
  const files: string[] = [];
  if (existsSync(join(aptDir, 'sources.list'))) files.push(join(aptDir, 'sources.list'));
  const d = join(aptDir, 'sources.list.d');
  if (existsSync(d))
    for (const f of readdirSync(d).sort()) if (/\.(list|sources)$/.test(f)) files.push(join(d, f));
  const mainSuite = (s: string) => /^[a-z]+$/.test(s);
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    if (file.endsWith('.sources')) {
      for (const para of text.split(/\n\s*\n/)) {
        const field = (name: string) =>
          new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(para.replace(/^#.*$/gm, ''))?.[1]?.trim() ?? '';
        if (/^no$/i.test(field('Enabled'))) continue;
        if (!field('Types').split(/\s+/).includes('deb')) continue;
        if (!field('Suites').split(/\s+/).some(mainSuite)) continue;
        const uri = field('URIs')
          .split(/\s+/)
          .find((u) => /^https?:\/\//.test(u) && !/security/.test(u));
        if (uri) return uri.replace(/\/+$/, '');
      }
    } else {
      for (const line of text.split('\n')) {
        const m = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(https?:\/\/\S+)\s+(\S+)/.exec(line);
        if (m?.[1] && m[2] && mainSuite(m[2]) && !/security/.test(m[1])) return m[1].replace(/\/+$/, '');
      }
    }
  }
  return undefined;
}

// One sh script run under flock: nothing to do when the tree is there; otherwise leftovers of a killed
// build are unmounted (debootstrap mounts /proc and /sys inside its target) and removed without crossing
// into any mount, the tree is built beside its final place and renamed there.
const BUILD_SCRIPT = `
set -eu
rootfs=$1 recipe=$2 mirror=$3 include=$4 suite=$5
if [ -f "$rootfs/${MARKER}" ] && [ "$(cat "$rootfs/${MARKER}")" = "$recipe" ]; then echo cached; exit 0; fi
unmount_under() {
  awk -v p="$1/" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
}
discard() { [ -e "$1" ] || return 0; unmount_under "$1"; rm -rf --one-file-system "$1"; }
for t in "$rootfs".tmp-* "$rootfs".old-*; do discard "$t"; done
tmp="$rootfs.tmp-$$"
trap 'discard "$tmp"' EXIT
debootstrap --variant=minbase --include="$include" "$suite" "$tmp" "$mirror"
unmount_under "$tmp"
# The container's own console login and apt's timers are of no use to a test host.
for u in console-getty.service apt-daily.timer apt-daily-upgrade.timer; do ln -sf /dev/null "$tmp/etc/systemd/system/$u"; done
printf '%s\\n' "$recipe" > "$tmp/${MARKER}"
if [ -e "$rootfs" ]; then mv "$rootfs" "$rootfs.old-$$"; fi
mv "$tmp" "$rootfs"
trap - EXIT
discard "$rootfs.old-$$"
echo built
`;

export interface RootfsResult {
  path: string;
  /** false when the cached tree was used. */
  built: boolean;
  seconds: number;
}

/** The cached root file system, built first when missing or made from another recipe. */
export async function ensureRootfs(rootfs = NSPAWN_ROOTFS): Promise<RootfsResult> {
  const started = Date.now();
  if (rootfsReady(rootfs)) return { path: rootfs, built: false, seconds: 0 };
  const mirror = debianMirror();
  if (!mirror)
    throw new Error(
      'no Debian mirror found in /etc/apt/sources.list or /etc/apt/sources.list.d/ to debootstrap from',
    );
  await mkdir(dirname(rootfs), { recursive: true, mode: 0o755 });
  const log = `${rootfs}.build.log`;
  const r = await run(
    'flock',
    [
      `${rootfs}.lock`,
      'timeout',
      String(BUILD_TIMEOUT_S),
      'sh',
      '-c',
      `exec >${shq(log)} 2>&1\n${BUILD_SCRIPT}`,
      'build-rootfs',
      rootfs,
      RECIPE,
      mirror,
      ROOTFS_PACKAGES.join(','),
      SUITE,
    ],
    (BUILD_TIMEOUT_S + 60) * 1000,
  );
  const text = await readFile(log, 'utf8').catch(() => '');
  if (r.code !== 0 || !rootfsReady(rootfs)) {
    const why = r.code === 124 ? `timed out after ${BUILD_TIMEOUT_S} s` : `exit ${r.code}`;
    throw new Error(
      `building the container's root file system at ${rootfs} from ${mirror} failed (${why}); the end of ${log}:\n${tail(text, 25)}${r.stderr}`,
    );
  }
  return { path: rootfs, built: /^built$/m.test(text), seconds: (Date.now() - started) / 1000 };
}

// ---- a booted container -------------------------------------------------------------------------------

export interface NspawnHost {
  /** The container's machine name (also its host name). */
  name: string;
  /** Port of its sshd on 127.0.0.1. */
  port: number;
  user: 'root';
  clientKeyFile: string;
  knownHostsFile: string;
  /** Everything nspawn and the container's console printed. */
  logFile: string;
  /** PID (on this host) of the container's init, systemd. */
  initPid: number;
  /** Runs a sh script inside the container (nsenter into its namespaces: no SSH involved). */
  exec(script: string): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Powers the container off (or kills it); safe to call twice. */
  stop(): Promise<void>;
}

/** Boots the cached tree (see ensureRootfs) and waits until its sshd answers. */
export async function bootContainer(rootfs = NSPAWN_ROOTFS): Promise<NspawnHost> {
  const dir = await mkdtemp(join(tmpdir(), 'ewsplay-nspawn-'));
  await chmod(dir, 0o700);
  const sshDir = join(dir, 'ssh');
  await mkdir(sshDir, { mode: 0o755 });
  const port = await freePort();
  const name = `ewsplay-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const clientKeyFile = join(dir, 'id_ed25519');
  keygen(clientKeyFile, 'ewsplay-nspawn-client');
  keygen(join(sshDir, 'host_ed25519'), name);
  await writeFile(join(sshDir, 'authorized_keys'), await readFile(`${clientKeyFile}.pub`), { mode: 0o644 });
  // Debian's sshd_config includes sshd_config.d/*.conf first: these lines win, and with a ListenAddress
  // and a HostKey given, sshd uses only them (no port 22, none of the tree's own host keys).
  await writeFile(
    join(sshDir, 'sshd.conf'),
    [
      `ListenAddress 127.0.0.1:${port}`,
      'HostKey /etc/ssh/ewsplay-test/host_ed25519',
      'AuthorizedKeysFile /etc/ssh/ewsplay-test/authorized_keys',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UseDNS no',
      'MaxSessions 50',
      'MaxStartups 200',
      '',
    ].join('\n'),
  );
  const hostKey = (await readFile(join(sshDir, 'host_ed25519.pub'), 'utf8')).trim().split(/\s+/);
  const knownHostsFile = join(dir, 'known_hosts');
  await writeFile(knownHostsFile, `[127.0.0.1]:${port} ${hostKey[0]} ${hostKey[1]}\n`);

  const logFile = join(dir, 'nspawn.log');
  const logFd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(
      'systemd-nspawn',
      [
        '--quiet',
        '--register=no',
        '--keep-unit',
        '--volatile=overlay',
        '--link-journal=no',
        '--console=read-only',
        `--directory=${rootfs}`,
        `--machine=${name}`,
        `--bind-ro=${sshDir}:/etc/ssh/ewsplay-test`,
        `--bind-ro=${join(sshDir, 'sshd.conf')}:/etc/ssh/sshd_config.d/ewsplay-test.conf`,
        '--boot',
      ],
      { stdio: ['ignore', logFd, logFd] },
    );
  } finally {
    closeSync(logFd);
  }
  const nspawnPid = child.pid;
  if (nspawnPid === undefined) throw new Error('cannot start systemd-nspawn');
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let initPid = 0;
  let watchdog: ChildProcess | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (isAlive(nspawnPid)) {
      // nspawn turns SIGTERM into the container's poweroff request (SIGRTMIN+3 to its systemd).
      child.kill('SIGTERM');
      if (!(await within(exited, STOP_GRACE_MS))) {
        // Killing the init ends every process of the container's PID namespace; nspawn follows.
        if (initPid) signal(initPid, 'SIGKILL');
        if (!(await within(exited, 5000))) child.kill('SIGKILL');
        await within(exited, 5000);
      }
    }
    if (watchdog?.pid) signal(watchdog.pid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const deadline = Date.now() + BOOT_TIMEOUT_MS;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`systemd-nspawn exited while booting:\n${tail(await readLog(logFile), 30)}`);
      if (!initPid) initPid = containerInit(nspawnPid) ?? 0;
      if (initPid && (await answersSsh(port))) break;
      if (Date.now() > deadline)
        throw new Error(
          `the container's sshd did not answer on 127.0.0.1:${port} within ${BOOT_TIMEOUT_MS / 1000} s:\n${tail(await readLog(logFile), 30)}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
    // Should this process die without stopping the container, the watchdog does it.
    watchdog = spawn(
      'sh',
      [
        '-c',
        'while kill -0 "$1" 2>/dev/null; do sleep 2; done; kill -TERM "$2" 2>/dev/null; i=0; ' +
          'while kill -0 "$2" 2>/dev/null && [ $i -lt 20 ]; do sleep 1; i=$((i+1)); done; kill -KILL "$3" "$2" 2>/dev/null; rm -rf "$4"; exit 0',
        'ewsplay-nspawn-watchdog',
        String(process.pid),
        String(nspawnPid),
        String(initPid),
        dir,
      ],
      { detached: true, stdio: 'ignore' },
    );
    watchdog.unref();
  } catch (e) {
    await stop();
    throw e;
  }
  const pid = initPid;
  return {
    name,
    port,
    user: 'root',
    clientKeyFile,
    knownHostsFile,
    logFile,
    initPid: pid,
    exec: (script) =>
      run(
        'nsenter',
        [`--target=${pid}`, '-m', '-u', '-i', '-n', '-p', '-r', '-w', '/bin/sh', '-c', script],
        30_000,
        {
          PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
          LC_ALL: 'C',
          HOME: '/root',
        },
      ),
    stop,
  };
}

/** The child of nspawn that is PID 1 of its own namespace: the container's systemd. */
function containerInit(nspawnPid: number): number | undefined {
  for (const pid of descendants(nspawnPid)) {
    try {
      const nspid = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]?.trim();
      if (nspid && /\s1$/.test(nspid)) return pid;
    } catch {
      /* gone */
    }
  }
  return undefined;
}

// ---- small helpers --------------------------------------------------------------------------------

function run(
  cmd: string,
  args: string[],
  timeoutMs: number,
  env?: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      cmd,
      args,
      { timeout: timeoutMs, maxBuffer: 16 << 20, ...(env ? { env } : {}) },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : err.killed ? 124 : 1) : 0;
        done({ code, stdout, stderr: err && !stderr ? String(err.message) : stderr });
      },
    );
  });
}

function onPath(bin: string): boolean {
  return (process.env.PATH ?? '')
    .split(':')
    .concat(['/usr/sbin', '/usr/bin', '/sbin', '/bin'])
    .some((d) => d !== '' && existsSync(join(d, bin)));
}

function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** nspawn's messages without the one it prints on every exit on a host not run by systemd. */
function meaningful(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.includes('/run/systemd/nspawn/propagate/'))
    .slice(0, 5)
    .join(' / ');
}

function tail(text: string, lines: number): string {
  const all = text.trimEnd().split('\n');
  return `${all.slice(-lines).join('\n')}\n`;
}

async function readLog(file: string): Promise<string> {
  // The console speaks ANSI colours: plain text for an error message.
  const esc = String.fromCharCode(27);
  return (await readFile(file, 'utf8').catch(() => ''))
    .split(esc)
    .join('')
    .replace(/\[[0-9;]*m/g, '');
}

function within(p: Promise<void>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    p.then(() => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}
