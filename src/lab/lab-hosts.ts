// The lab's three hosts. Each has its own directory (its HOME when it is a local-connection host) with a
// bin/ of the vendor stand-ins it needs: small wrappers that give the stand-in this host's state
// directory, unit directory and PATH, and mark every process with EWSPLAY_LAB so `lab down` finds it.
// With OpenSSH installed each host is also a real sshd on 127.0.0.1 whose sessions get the same
// environment (sshd_config SetEnv); sshd runs detached, so it outlives `ewsplay lab up`. The exchange host's
// sshd hands every command to a stand-in of Windows OpenSSH's default shell (`powershell.exe -c "<command>"`,
// lab/vendor/windows-openssh-shell as its ForceCommand), so the inventory says ansible_shell_type: powershell
// for it, as for a real Exchange server.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ForwarderMode, LabHostInfo, LabProcess } from './lab-state.js';
import { startTimeOf } from './lab-state.js';
import { answersSsh, freePort, keygen } from './sshd.js';

export const VENDOR_DIR = fileURLToPath(new URL('../../lab/vendor', import.meta.url));
export const SSHD = '/usr/sbin/sshd';

/** Which stand-ins each host gets: what the procedure runs there. */
const STAND_INS: Record<LabHostInfo['group'], string[]> = {
  mail: ['systemctl', 'dpkg', 'dpkg-query', 'sudo'],
  hypervisor: ['docker', 'sudo'],
  exchange: ['powershell', 'powershell.exe', 'windows-openssh-shell'],
};

export const LAB_HOSTS: readonly Pick<LabHostInfo, 'name' | 'group'>[] = [
  { name: 'lab-mail', group: 'mail' },
  { name: 'lab-hypervisor', group: 'hypervisor' },
  { name: 'lab-exchange', group: 'exchange' },
];

const INSTALLER = 'socat-static-tls-forwarder-install.sh';
const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The environment of every command on a lab host. */
export function hostEnv(labDir: string, hostDir: string, forwarder: ForwarderMode): Record<string, string> {
  const state = join(hostDir, 'state');
  return {
    EWSPLAY_LAB: labDir,
    EWSPLAY_LAB_STATE: state,
    EWSPLAY_UNIT_DIR: join(hostDir, 'etc', 'systemd', 'system'),
    EWSPLAY_LAB_BIND: '127.0.0.1',
    ...(forwarder === 'standin' ? { EWSPLAY_LAB_SOCAT: 'standin' } : {}),
    // bin/ first, then what the dpkg stand-in installed (the vendor's /usr/local/bin), then node (for
    // socat-lite) and the system.
    PATH: [
      join(hostDir, 'bin'),
      join(state, 'root', 'usr', 'local', 'bin'),
      dirname(process.execPath),
      '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    ].join(':'),
  };
}

/** Makes the host's directory, its bin/ wrappers and the state the procedure expects to find there. */
export async function prepareHost(
  labDir: string,
  host: LabHostInfo,
  forwarder: ForwarderMode,
  seed: {
    deployerHome?: string;
    exchangeUsers?: string[];
    /** Preset CEXSY_ACCESS_LIST_MODE in the calendar-cexsy container (step 2 done before). */
    cexsyAccessListMode?: string;
    /** No container runs yet: the installer stand-in starts them when the operator presses Play (1.4). */
    noContainers?: boolean;
  },
): Promise<void> {
  const bin = join(host.dir, 'bin');
  await mkdir(bin, { recursive: true });
  await mkdir(join(host.dir, 'state'), { recursive: true });
  const env = hostEnv(labDir, host.dir, forwarder);
  const exports = Object.entries(env)
    .map(([k, v]) => `${k}=${shq(v)}`)
    .join(' ');
  for (const name of STAND_INS[host.group]) {
    await writeFile(
      join(bin, name),
      `#!/bin/sh\n# ${host.name}: the lab's ${name} stand-in with this host's state\n${exports}\nexport ${Object.keys(env).join(' ')}\nexec ${shq(join(VENDOR_DIR, name))} "$@"\n`,
      { mode: 0o755 },
    );
  }
  if (host.group === 'mail' && forwarder === 'standin') {
    // ewsplay's own unit runs `socat` from PATH: here the stand-in.
    await writeFile(
      join(bin, 'socat'),
      `#!/bin/sh\n# ${host.name}: socat stand-in (lab/vendor/socat-lite.mjs)\n${exports}\nexport ${Object.keys(env).join(' ')}\nexec ${shq(join(VENDOR_DIR, 'socat-static'))} "$@"\n`,
      { mode: 0o755 },
    );
  }
  if (host.group === 'mail') {
    // What VK's package installs in /usr/local/bin is found there only once the dpkg stand-in has
    // unpacked it into the host's state; a local host's PATH has only bin/, so bin/ points at it.
    const installed = join(env.EWSPLAY_LAB_STATE!, 'root', 'usr', 'local', 'bin', INSTALLER);
    await writeFile(
      join(bin, INSTALLER),
      `#!/bin/sh
# ${host.name}: VK's installer once its package is installed
${exports}
export ${Object.keys(env).join(' ')}
[ -x ${shq(installed)} ] || { echo "${INSTALLER}: not found (install the socat-static package first)" >&2; exit 127; }
exec ${shq(installed)} "$@"
`,
      { mode: 0o755 },
    );
  }
  if (host.group === 'hypervisor' && seed.deployerHome) {
    await mkdir(seed.deployerHome, { recursive: true });
    await copyFile(join(VENDOR_DIR, 'main.yaml'), join(seed.deployerHome, 'main.yaml'));
  }
  if (host.group === 'hypervisor' && seed.noContainers) {
    // An empty list: the docker stand-in's default (both containers running) is for tests of step 4 alone.
    await mkdir(join(host.dir, 'state', 'docker'), { recursive: true });
    await writeFile(join(host.dir, 'state', 'docker', 'containers'), '');
  }
  if (host.group === 'hypervisor' && seed.cexsyAccessListMode) {
    // What the operator set in the installer's web UI (step 2), as the running container shows it.
    const envDir = join(host.dir, 'state', 'docker', 'env', 'calendar-cexsy-1');
    await mkdir(envDir, { recursive: true });
    await writeFile(join(envDir, 'CEXSY_ACCESS_LIST_MODE'), `${seed.cexsyAccessListMode}\n`);
  }
  if (host.group === 'exchange' && seed.exchangeUsers) {
    // Only these accounts exist in the lab's Active Directory.
    await mkdir(join(host.dir, 'state', 'exchange'), { recursive: true });
    await writeFile(join(host.dir, 'state', 'exchange', 'users'), `${seed.exchangeUsers.join('\n')}\n`);
  }
}

export interface SshdSetup {
  clientKeyFile: string;
  knownHostsFile: string;
  user: string;
}

/** The client key and an empty known_hosts shared by the lab's sshd hosts. */
export async function prepareSsh(sshDir: string, user: string): Promise<SshdSetup> {
  await mkdir(sshDir, { recursive: true, mode: 0o755 });
  await chmod(sshDir, 0o755); // sshd reads authorized_keys as the login user
  const clientKeyFile = join(sshDir, 'id_ed25519');
  keygen(clientKeyFile, 'ewsplay-lab-client');
  await writeFile(join(sshDir, 'authorized_keys'), await readFile(`${clientKeyFile}.pub`), { mode: 0o644 });
  const knownHostsFile = join(sshDir, 'known_hosts');
  await writeFile(knownHostsFile, '');
  return { clientKeyFile, knownHostsFile, user };
}

/**
 * Starts a detached sshd for the host on a free loopback port; `record` is called with the process as soon
 * as it exists (before it answers), so an interrupted start-up still knows what to stop.
 */
export async function startHostSshd(
  labDir: string,
  sshDir: string,
  host: LabHostInfo,
  forwarder: ForwarderMode,
  record: (p: LabProcess) => Promise<void>,
): Promise<number> {
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 }).catch(() => {
    /* only root needs (and may create) the privilege separation directory */
  });
  const hostKey = join(sshDir, `${host.name}_host_ed25519`);
  keygen(hostKey, host.name);
  const port = await freePort();
  const env = hostEnv(labDir, host.dir, forwarder);
  const cfg = join(sshDir, `${host.name}_sshd_config`);
  await writeFile(
    cfg,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${join(sshDir, `${host.name}.pid`)}`,
      `AuthorizedKeysFile ${join(sshDir, 'authorized_keys')}`,
      'UsePAM no',
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'MaxSessions 50',
      'PrintMotd no',
      'Subsystem sftp internal-sftp',
      // Windows OpenSSH runs a command through its default shell, not a login shell of the user.
      ...(host.group === 'exchange'
        ? [`ForceCommand ${join(host.dir, 'bin', 'windows-openssh-shell')}`]
        : []),
      // HOME is the host's own directory, as for a local host: the machine user's rc files (a root .bashrc
      // running pyenv init costs seconds a login) do not run on lab hosts (as in sshd.ts's labs).
      `SetEnv ${Object.entries({ ...env, HOME: host.dir })
        .map(([k, v]) => `"${k}=${v}"`)
        .join(' ')}`,
      '',
    ].join('\n'),
  );
  const logFd = openSync(join(sshDir, `${host.name}.log`), 'a');
  const child = spawn(SSHD, ['-f', cfg, '-D', '-e'], {
    detached: true,
    stdio: ['ignore', logFd, logFd],
    env: { ...process.env, EWSPLAY_LAB: labDir },
  });
  closeSync(logFd);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`cannot start sshd for ${host.name}`);
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  child.unref();
  const startTime = startTimeOf(pid);
  await record({ name: `sshd ${host.name}`, pid, port, ...(startTime ? { startTime } : {}) });
  const deadline = Date.now() + 10_000;
  while (!(await answersSsh(port))) {
    if (exited || Date.now() > deadline) {
      const log = await readFile(join(sshDir, `${host.name}.log`), 'utf8').catch(() => '');
      throw new Error(`sshd for ${host.name} did not start: ${log.trim().split('\n').slice(-3).join(' / ')}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  const pub = (await readFile(`${hostKey}.pub`, 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');
  await writeFile(join(sshDir, 'known_hosts'), `[127.0.0.1]:${port} ${pub}\n`, { flag: 'a' });
  return port;
}
