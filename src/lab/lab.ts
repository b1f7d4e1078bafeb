// `ewsplay lab up | down | status`: a simulated site on loopback. up starts a lab CA, the fake EWS (TLS 1.0
// only, as an Exchange 2013 on an old Windows; detached) with the installer and admin panel stand-ins, the hosts mail, hypervisor and exchange (sshd processes, or local-connection hosts in
// their own directories), builds VK's socat-static package stand-in and writes inventory/lab/. Everything
// it starts is recorded in .ewsplay/lab/pids.json as it starts; a failure or an abort during up stops it
// all again, and down stops it by PID (with every service the hosts' systemctl stand-in started).
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { FakeEwsProcessConfig } from './fake-ews-main.js';
import { LAB_HOSTS, prepareHost, prepareSsh, SSHD, startHostSshd, VENDOR_DIR } from './lab-hosts.js';
import {
  exampleVariables,
  LAB_MAILBOXES,
  LAB_SITE_NAME,
  type LabSite,
  removeLabInventory,
  SERVICE_ACCOUNT,
  writeLabInventory,
} from './lab-inventory.js';
import {
  type ForwarderMode,
  type HostMode,
  hasProgram,
  isRunning,
  type LabPaths,
  type LabProcess,
  type LabState,
  labPaths,
  markedProcesses,
  readState,
  servicePids,
  startTimeOf,
  stopProcesses,
  writeState,
} from './lab-state.js';
import { issueCert, makeCa } from './pki.js';
import { freePort } from './sshd.js';

const run = promisify(execFile);
const FAKE_EWS_MAIN = fileURLToPath(new URL('../../dist/lab/fake-ews-main.js', import.meta.url));

export interface LabUpOptions {
  /** The project directory (default: the current one). */
  project?: string;
  /** Where the inventory goes (default <project>/inventory/lab). */
  inventoryDir?: string;
  hosts?: HostMode | 'auto';
  /** socat: the distribution's socat does the forwarding; standin: lab/vendor/socat-lite.mjs. */
  forwarder?: ForwarderMode | 'auto';
  /** false: no VK package stand-in, the site uses ewsplay's own forwarder unit (default: when dpkg exists). */
  vendorPackage?: boolean;
  /** The fake EWS offers Basic beside Negotiate and NTLM (off by default, as on Exchange). */
  basicAuth?: boolean;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

export interface LabUpResult {
  state: LabState;
  /** true when the lab was already up (nothing was started). */
  already: boolean;
  warnings: string[];
}

export class LabError extends Error {
  override name = 'LabError';
}

export async function labUp(opts: LabUpOptions = {}): Promise<LabUpResult> {
  const paths = labPaths(opts.project, opts.inventoryDir);
  const log = opts.log ?? (() => {});
  const previous = await readState(paths);
  if (previous) {
    if (previous.processes.length > 0 && previous.processes.every(isRunning))
      return { state: previous, already: true, warnings: [] };
    log('a previous lab is partly down: cleaning it up first');
    await labDown({ project: paths.project, inventoryDir: previous.inventoryDir });
  }
  const hostMode = chooseHosts(opts.hosts ?? 'auto');
  const forwarder: ForwarderMode =
    opts.forwarder === 'socat' || opts.forwarder === 'standin'
      ? opts.forwarder
      : hasProgram('socat')
        ? 'socat'
        : 'standin';
  const state: LabState = {
    version: 1,
    dir: paths.dir,
    inventoryDir: paths.inventoryDir,
    hostMode,
    forwarder,
    hosts: LAB_HOSTS.map((h) => ({ ...h, dir: join(paths.dir, 'hosts', h.name) })),
    processes: [],
    startedAt: new Date().toISOString(),
    basicAuth: opts.basicAuth === true,
  };
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  await writeState(paths, state);
  const record = async (p: LabProcess) => {
    state.processes.push(p);
    await writeState(paths, state);
  };
  const step = (what: string) => {
    if (opts.signal?.aborted) throw new LabError('interrupted');
    log(what);
  };
  try {
    const vendorPackage = opts.vendorPackage ?? hasDpkg();
    state.vendorPackage = vendorPackage;
    const warnings = await bringUp(paths, state, { hostMode, forwarder, vendorPackage, record, step });
    return { state, already: false, warnings };
  } catch (e) {
    await labDown({ project: paths.project, inventoryDir: paths.inventoryDir });
    if ((opts.hosts ?? 'auto') === 'auto' && hostMode === 'sshd' && !opts.signal?.aborted) {
      // OpenSSH is installed but cannot serve here (no privilege separation directory, a sandbox...).
      log(`sshd hosts could not start (${e instanceof Error ? e.message : String(e)}): using local hosts`);
      return labUp({ ...opts, hosts: 'local' });
    }
    throw e;
  }
}

function chooseHosts(want: HostMode | 'auto'): HostMode {
  const sshd = hasProgram(SSHD) && hasProgram('ssh-keygen');
  if (want === 'sshd' && !sshd)
    throw new LabError(
      '--hosts sshd needs OpenSSH (sshd, ssh-keygen): install openssh-server, or use --hosts local',
    );
  if (want === 'auto') return sshd ? 'sshd' : 'local';
  return want;
}

interface UpContext {
  hostMode: HostMode;
  forwarder: ForwarderMode;
  vendorPackage: boolean;
  record: (p: LabProcess) => Promise<void>;
  step: (what: string) => void;
}

async function bringUp(paths: LabPaths, state: LabState, ctx: UpContext): Promise<string[]> {
  const { dir } = paths;
  const user = userInfo().username;
  ctx.step('lab CA and the EWS server certificate (localhost, 127.0.0.1)');
  const ca = await makeCa('ewsplay lab CA');
  const cert = await issueCert(ca, 'localhost', ['localhost', '127.0.0.1']);
  await mkdir(join(dir, 'ca'), { recursive: true });
  await mkdir(join(dir, 'files'), { recursive: true });
  // The site's files, laid out as inventory/example expects them (site_files).
  const caFile = join(dir, 'files', 'exchange-root-ca.pem');
  await writeFile(caFile, ca.certPem);
  await writeFile(join(dir, 'ca', 'ca.key'), ca.keyPem, { mode: 0o600 });
  await writeFile(join(dir, 'ca', 'ews.pem'), cert.certPem);
  await writeFile(join(dir, 'ca', 'ews.key'), cert.keyPem, { mode: 0o600 });

  ctx.step('secrets (.ewsplay/lab/secrets, mode 0600)');
  const secretsDir = join(dir, 'secrets');
  await mkdir(secretsDir, { recursive: true, mode: 0o700 });
  await chmod(secretsDir, 0o700);
  const password = `lab-${randomBytes(12).toString('base64url')}`;
  await writeFile(join(secretsDir, 'ews_service_password'), password, { mode: 0o600 });
  // The lab's sudo stand-in asks for no password.
  await writeFile(join(secretsDir, 'ansible_become_password'), '', { mode: 0o600 });

  ctx.step(`hosts: ${state.hosts.map((h) => h.name).join(', ')} (${ctx.hostMode})`);
  const deployerHome = join(state.hosts.find((h) => h.group === 'hypervisor')!.dir, 'home', 'deployer');
  // Steps 1-3 are not done: no container runs and nothing is set until the operator uses the installer.
  for (const host of state.hosts) {
    await prepareHost(dir, host, ctx.forwarder, {
      deployerHome,
      exchangeUsers: [SERVICE_ACCOUNT],
      noContainers: true,
    });
  }
  const exchange = state.hosts.find((h) => h.group === 'exchange')!;
  const hypervisor = state.hosts.find((h) => h.group === 'hypervisor')!;

  ctx.step(
    `fake EWS (HTTPS, TLS 1.0 only, Negotiate and NTLM${state.basicAuth ? ' and Basic' : ', Basic off'}), installer UI and admin panel (stand-ins)`,
  );
  const ews = await startFakeEwsProcess(
    dir,
    {
      users: { [SERVICE_ACCOUNT]: password },
      mailboxes: LAB_MAILBOXES,
      basicAuth: state.basicAuth === true,
      tls: 'tls1.0-only',
      certFile: join(dir, 'ca', 'ews.pem'),
      keyFile: join(dir, 'ca', 'ews.key'),
      grantsDir: join(exchange.dir, 'state', 'impersonation-granted'),
      requestLog: join(dir, 'fake-ews', 'requests.jsonl'),
      stateFile: join(dir, 'fake-ews', 'state.json'),
      installerSettingsFile: join(dir, 'installer', 'settings.json'),
      hypervisorDockerState: join(hypervisor.dir, 'state', 'docker'),
      adminProjectsFile: join(dir, 'admin-panel', 'projects'),
    },
    ctx.record,
  );
  state.ewsPort = ews.port;
  state.ewsUrl = ews.url;
  for (const p of state.processes) if (p.name === 'fake EWS') p.port = ews.port;
  await writeState(paths, state);

  let ssh: LabSite['ssh'];
  if (ctx.hostMode === 'sshd') {
    const sshDir = join(dir, 'ssh');
    const setup = await prepareSsh(sshDir, user);
    ssh = { clientKeyFile: setup.clientKeyFile, knownHostsFile: setup.knownHostsFile };
    for (const host of state.hosts) {
      ctx.step(`sshd for ${host.name}`);
      host.port = await startHostSshd(dir, sshDir, host, ctx.forwarder, ctx.record);
    }
  }

  ctx.step("VK's socat-static package (stand-in)");
  let socatPackage: string | undefined;
  if (ctx.vendorPackage) {
    const out = await run('sh', [join(VENDOR_DIR, 'build-socat-static-deb.sh'), join(dir, 'files')]);
    socatPackage = out.stdout.trim();
  }
  state.forwarderPort = await freePort();

  ctx.step(`inventory ${state.inventoryDir}`);
  const unknown = await writeLabInventory(
    {
      labDir: dir,
      inventoryDir: state.inventoryDir,
      hostMode: ctx.hostMode,
      hosts: state.hosts,
      user,
      ...(ssh ? { ssh } : {}),
      ewsPort: ews.port,
      installerPort: ews.installerPort,
      adminPort: ews.adminPort,
      forwarderPort: state.forwarderPort,
      caFile,
      socatPackage,
    },
    await exampleVariables(),
  );
  await writeState(paths, state);
  const warnings = unknown.map(
    (k) => `inventory/example defines ${k}, which the lab does not set: the example's value is used`,
  );
  if (!socatPackage && !hasDpkg())
    warnings.push("dpkg is missing: the lab uses ewsplay's own forwarder unit instead of VK's package");
  return warnings;
}

/** VK's package is built with dpkg-deb and installed by the dpkg stand-in, which runs the real dpkg. */
const hasDpkg = () => hasProgram('dpkg-deb') && hasProgram('dpkg');

interface FakeEwsStarted {
  port: number;
  url: string;
  installerPort: number;
  adminPort: number;
}

async function startFakeEwsProcess(
  labDir: string,
  config: FakeEwsProcessConfig,
  record: (p: LabProcess) => Promise<void>,
): Promise<FakeEwsStarted> {
  const dir = join(labDir, 'fake-ews');
  await mkdir(dir, { recursive: true });
  await mkdir(join(labDir, 'installer'), { recursive: true });
  await mkdir(join(labDir, 'admin-panel'), { recursive: true });
  const configFile = join(dir, 'config.json');
  await writeFile(configFile, JSON.stringify(config, null, 2), { mode: 0o600 });
  const logFd = openSync(join(dir, 'fake-ews.log'), 'a');
  const child = spawn(process.execPath, [FAKE_EWS_MAIN, configFile], {
    detached: true,
    stdio: ['ignore', logFd, logFd],
    env: { ...process.env, EWSPLAY_LAB: labDir },
  });
  closeSync(logFd);
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new LabError('cannot start the fake EWS');
  const startTime = startTimeOf(pid);
  await record({ name: 'fake EWS', pid, ...(startTime ? { startTime } : {}) });
  const deadline = Date.now() + 15_000;
  for (;;) {
    const text = await readFile(config.stateFile, 'utf8').catch(() => undefined);
    if (text) {
      return JSON.parse(text) as FakeEwsStarted;
    }
    if (exited || Date.now() > deadline) {
      const out = await readFile(join(dir, 'fake-ews.log'), 'utf8').catch(() => '');
      throw new LabError(`the fake EWS did not start: ${out.trim() || 'no output'}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface LabDownOptions {
  project?: string;
  inventoryDir?: string;
}

/** Stops everything the lab started and removes its state; returns the PIDs it stopped. */
export async function labDown(opts: LabDownOptions = {}): Promise<{ wasUp: boolean; stopped: number[] }> {
  const paths = labPaths(opts.project, opts.inventoryDir);
  const state = await readState(paths);
  const pids = new Set<number>();
  for (const p of state?.processes ?? []) if (isRunning(p)) pids.add(p.pid);
  for (const h of state?.hosts ?? []) for (const pid of servicePids(h.dir)) pids.add(pid);
  for (const pid of markedProcesses(paths.dir)) pids.add(pid);
  await stopProcesses([...pids]);
  // What a stopping process started meanwhile (a forking socat) carries the mark too.
  const late = markedProcesses(paths.dir);
  if (late.length > 0) await stopProcesses(late, 500);
  await rm(paths.dir, { recursive: true, force: true });
  // The control node's memory of the lab site (calendar_sync's per-mailbox outcomes) goes with it.
  await rm(join(paths.project, '.ewsplay', 'state', LAB_SITE_NAME), { recursive: true, force: true });
  await removeLabInventory(state?.inventoryDir ?? paths.inventoryDir);
  return { wasUp: state !== undefined, stopped: [...pids] };
}

export interface LabStatusLine {
  name: string;
  pid: number;
  port?: number;
  alive: boolean;
}

export async function labStatus(
  opts: LabDownOptions = {},
): Promise<{ state: LabState | undefined; processes: LabStatusLine[] }> {
  const paths = labPaths(opts.project, opts.inventoryDir);
  const state = await readState(paths);
  if (!state) return { state, processes: [] };
  const processes: LabStatusLine[] = state.processes.map((p) => ({
    name: p.name,
    pid: p.pid,
    ...(p.port !== undefined ? { port: p.port } : {}),
    alive: isRunning(p),
  }));
  for (const h of state.hosts) {
    for (const pid of servicePids(h.dir)) {
      processes.push({
        name: `service on ${h.name}`,
        pid,
        ...(h.group === 'mail' && state.forwarderPort ? { port: state.forwarderPort } : {}),
        alive: isRunning({ pid }),
      });
    }
  }
  return { state, processes };
}
