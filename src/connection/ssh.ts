// The SSH connection: ONE ssh2 connection per host for the whole run; every command is a channel on it.
// Plain commands go through a few long-lived `/bin/sh` processes on the target ("remote shells") fed
// framed jobs on one channel each: sshd starts every exec through the login shell (root's bash with its
// .bashrc here costs ~80-150 ms), so paying that once per shell instead of once per command is most of the
// speed. pty commands, and jobs a shell cannot take, get a channel of their own.
//
// Secrets: environment values and stdin travel inside the channel's data stream, never in the argv of
// a remote process, so `ps` on the target never shows them. How commands run: ssh-jobs.ts.
import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { AnyAuthMethod, AuthHandlerMiddleware, ConnectConfig, ParsedKey, SFTPWrapper } from 'ssh2';
import ssh2 from 'ssh2';
import { shq } from '../core/shell-quote.js';
import { atomicWriteScript, becomeWrap, LEFTOVER_MINUTES, SUDO_PROMPT } from './become.js';
import type {
  BecomeOptions,
  Connection,
  ConnectionSpec,
  ExecOptions,
  ExecResult,
  PutOptions,
} from './connection.js';
import { LoginRefusedError, TimeoutError, UnreachableError } from './connection.js';
import { HostKeyChecker, type HostKeyError } from './known-hosts.js';
import { resolveSshRoute, type SshHop } from './ssh-config.js';
import {
  ChannelSlots,
  type Job,
  type JobOutcome,
  newToken,
  openExec,
  RemoteShell,
  type RunningJob,
  runOnChannel,
  SIGNAL_NUMBERS,
} from './ssh-jobs.js';

const { Client, utils } = ssh2;
type SshClient = InstanceType<typeof Client>;

const DEFAULT_TIMEOUT_MS = 600_000;
/** sshd's MaxSessions default: channels beyond it are refused, so they queue here instead. */
const DEFAULT_MAX_CHANNELS = 10;
const DEFAULT_MAX_SHELLS = 4;
/** Jobs are handed to a remote shell through an environment variable, which Linux caps at 128 KiB. */
const MAX_SHELL_JOB_BYTES = 100_000;
/** The temp files put() and become writes make: `.ewsplay-tmp-` and 12 hex digits, or mktemp's 6 characters. */
const OUR_TEMP_FILE = /^\.ewsplay-tmp-([0-9a-f]{12}|[A-Za-z0-9]{6})$/;
/** After killing a timed-out or aborted command, how long to wait for its end before giving up on it. */
const KILL_GRACE_MS = 5_000;

/** sudo refused: wrong or missing password, or the user may not sudo. */
export class BecomeError extends Error {
  override name = 'BecomeError';
}

export interface SshConnectOptions {
  signal?: AbortSignal;
  secrets?: { add(v: string): void };
  /** Concurrent session channels (remote shells, pty commands, SFTP); keep <= sshd's MaxSessions. */
  maxChannels?: number;
  /** Remote shells kept per host; 0 runs every command on a channel of its own. */
  maxShells?: number;
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /** A Windows target (OpenSSH for Windows): commands run as given, see execOnWindows. */
  windows?: boolean;
}

/** Opens the one SSH connection for a host: TCP (through its jump hosts, if any), host key check, authentication. */
export async function connectSsh(spec: ConnectionSpec, opts: SshConnectOptions = {}): Promise<SshConnection> {
  for (const s of [spec.password, spec.privateKeyPassphrase, spec.becomePassword])
    if (s) opts.secrets?.add(s);
  const route = await resolveSshRoute(spec);
  const knownHostsFile = spec.knownHostsFile ?? route.knownHostsFile;
  const checked: ConnectionSpec = { ...spec, ...(knownHostsFile ? { knownHostsFile } : {}) };
  // A jump host is authenticated with keys and the agent only: the target's password is not its.
  const keysOnly: ConnectionSpec = { ...checked, password: undefined };
  const releases: (() => void)[] = [];
  try {
    let previous: { client: SshClient; hop: SshHop } | undefined;
    let key = '';
    for (const hop of route.hops) {
      const via = previous;
      key = JSON.stringify([
        key,
        hop,
        keysOnly.privateKeyFile,
        keysOnly.knownHostsFile,
        !!keysOnly.acceptNewHostKeys,
      ]);
      const jump = await acquireJump(key, spec.host, async () => {
        const sock = via && (await forwardThrough(via.client, spec, via.hop, hop.address, hop.port));
        return handshake(keysOnly, hop, sock, opts, 'jump host ');
      });
      releases.push(jump.release);
      previous = { client: jump.client, hop };
    }
    const sock =
      previous &&
      (await forwardThrough(previous.client, spec, previous.hop, route.target.address, route.target.port));
    const client = await handshake(checked, route.target, sock, opts, '');
    const windows = spec.shellType === 'powershell' || spec.shellType === 'cmd';
    const connOpts = { ...opts, ...(windows ? { windows } : {}) };
    return new SshConnection(spec.host, route.target.user, client, connOpts, releases);
  } catch (e) {
    for (const release of releases.reverse()) release();
    throw e;
  }
}

interface SharedJump {
  /** The host whose connect opened it: its name starts the errors of the opening. */
  opener: string;
  client: Promise<SshClient>;
  users: number;
}

/**
 * Jump host connections, shared by the hosts that go through the same chain with the same credentials: one
 * login on the bastion for the run, each host's tunnel a channel on it. A bastion's sshd throttles parallel
 * logins (MaxStartups drops them at random past 10), which 50 hosts opening their own at once would hit.
 */
const sharedJumps = new Map<string, SharedJump>();

async function acquireJump(
  key: string,
  host: string,
  open: () => Promise<SshClient>,
): Promise<{ client: SshClient; release: () => void }> {
  let entry = sharedJumps.get(key);
  if (!entry) {
    const opening: SharedJump = { opener: host, client: open(), users: 0 };
    const forget = () => {
      if (sharedJumps.get(key) === opening) sharedJumps.delete(key);
    };
    opening.client.then((c) => c.once('close', forget), forget);
    sharedJumps.set(key, opening);
    entry = opening;
  }
  const shared = entry;
  shared.users++;
  let client: SshClient;
  try {
    client = await shared.client;
  } catch (e) {
    shared.users--;
    // The opener's failure, told as this host's.
    const prefix = `${shared.opener}: `;
    if (host !== shared.opener && e instanceof UnreachableError && e.message.startsWith(prefix))
      throw new UnreachableError(`${host}: ${e.message.slice(prefix.length)}`);
    throw e;
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    if (--shared.users > 0) return;
    if (sharedJumps.get(key) === shared) sharedJumps.delete(key);
    client.end();
  };
  return { client, release };
}

/**
 * One SSH handshake with `hop` (over `sock` when it comes through a jump host): host key check, then
 * authentication with the credentials of `spec`.
 */
async function handshake(
  spec: ConnectionSpec,
  hop: SshHop,
  sock: Duplex | undefined,
  opts: SshConnectOptions,
  role: string,
): Promise<SshClient> {
  const where = `${role}${hop.user}@${hop.address}:${hop.port}`;
  const hostKeys = await new HostKeyChecker({
    // A jump host may serve several hosts: its key errors name no one of them.
    host: role ? role.trim() : spec.host,
    address: hop.address,
    port: hop.port,
    ...(spec.knownHostsFile ? { knownHostsFile: spec.knownHostsFile } : {}),
    ...(spec.acceptNewHostKeys ? { acceptNewHostKeys: true } : {}),
  }).load();
  const auth = await authMethods(spec, hop.user, hop.identityFiles);
  if (opts.signal?.aborted) throw new UnreachableError(`${spec.host}: connect aborted`);

  const client = new Client();
  let hostKeyRefusal: HostKeyError | undefined;
  const config: ConnectConfig = {
    host: hop.address,
    port: hop.port,
    ...(sock ? { sock } : {}),
    username: hop.user,
    readyTimeout: spec.connectTimeoutMs,
    keepaliveInterval: opts.keepaliveIntervalMs ?? 10_000,
    keepaliveCountMax: opts.keepaliveCountMax ?? 3,
    algorithms: { serverHostKey: hostKeys.hostKeyAlgorithms() as never },
    hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
      hostKeys.verify(key).then(
        (refusal) => {
          hostKeyRefusal = refusal;
          verify(!refusal);
        },
        () => verify(false),
      );
    },
    authHandler: auth.handler,
  };

  await new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      // destroy, not end: end() only half-closes, and a host that never speaks SSH would keep the socket,
      // and so the process, alive until the connect timeout.
      client.destroy();
      reject(new UnreachableError(`${spec.host}: connect aborted`));
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    client.once('ready', () => {
      opts.signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    // `on`, not `once`: a failing connection can report several errors, and an unheard one would crash.
    client.on('error', (e: Error & { level?: string; code?: string }) => {
      opts.signal?.removeEventListener('abort', onAbort);
      client.end();
      reject(connectError(spec, where, e, hostKeyRefusal, auth.tried));
    });
    client.connect(config);
  });
  return client;
}

/** A TCP stream from the jump host to the next hop (ssh -J's direct-tcpip channel), within the connect timeout. */
function forwardThrough(
  client: SshClient,
  spec: ConnectionSpec,
  hop: SshHop,
  address: string,
  port: number,
): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      reject(
        new UnreachableError(
          `${spec.host}: jump host ${hop.address}:${hop.port} did not open a tunnel to ${address}:${port} within ${spec.connectTimeoutMs} ms`,
        ),
      );
    }, spec.connectTimeoutMs);
    client.forwardOut('127.0.0.1', 0, address, port, (err, stream) => {
      clearTimeout(timer);
      if (late) stream?.destroy();
      else if (err)
        reject(
          new UnreachableError(
            `${spec.host}: jump host ${hop.address}:${hop.port} cannot reach ${address}:${port}: ${err.message} (its sshd must allow TCP forwarding, AllowTcpForwarding, and reach that address)`,
          ),
        );
      else resolve(stream);
    });
  });
}

function connectError(
  spec: ConnectionSpec,
  where: string,
  e: Error & { level?: string; code?: string },
  hostKeyRefusal: HostKeyError | undefined,
  tried: string[],
): UnreachableError {
  if (hostKeyRefusal) return hostKeyRefusal;
  const prefix = `${spec.host}: cannot connect to ${where}`;
  if (e.level === 'client-authentication')
    return new LoginRefusedError(`${prefix}: authentication failed (tried: ${tried.join(', ') || 'none'})`);
  if (e.level === 'client-timeout')
    return new UnreachableError(`${prefix}: no SSH handshake within ${spec.connectTimeoutMs} ms`);
  if (e.code === 'ECONNREFUSED') return new UnreachableError(`${prefix}: connection refused`);
  return new UnreachableError(`${prefix}: ${e.message}`);
}

/**
 * The authentication methods to try, in OpenSSH's order: keys (the key file given, then ssh_config's
 * IdentityFiles, else the default files), the agent, then the password. Only the key file given must be
 * usable; the others are skipped when missing or locked, as ssh does.
 */
async function authMethods(
  spec: ConnectionSpec,
  user: string,
  identityFiles: string[] = [],
): Promise<{ handler: AuthHandlerMiddleware; tried: string[] }> {
  const methods: AnyAuthMethod[] = [];
  const optional =
    identityFiles.length > 0 || spec.privateKeyFile
      ? identityFiles
      : ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => join(homedir(), '.ssh', f));
  const keyFiles = [...(spec.privateKeyFile ? [spec.privateKeyFile] : []), ...optional];
  for (const [i, file] of keyFiles.entries()) {
    const required = i === 0 && spec.privateKeyFile !== undefined;
    const parsed = await parsedKey(file, spec.privateKeyPassphrase).catch((e: Error) => {
      if (!required) return undefined;
      throw new UnreachableError(`${spec.host}: cannot read private key ${file}: ${e.message}`);
    });
    if (!parsed) continue;
    if (parsed instanceof Error) {
      if (!required) continue;
      throw new UnreachableError(
        `${spec.host}: cannot use private key ${file}: ${
          /passphrase/i.test(parsed.message) ? 'wrong or missing passphrase' : parsed.message
        }`,
      );
    }
    const key = (Array.isArray(parsed) ? parsed[0] : parsed) as ParsedKey;
    methods.push({ type: 'publickey', username: user, key });
  }
  if (process.env.SSH_AUTH_SOCK)
    methods.push({ type: 'agent', username: user, agent: process.env.SSH_AUTH_SOCK });
  if (spec.password !== undefined)
    methods.push({ type: 'password', username: user, password: spec.password });
  const tried: string[] = [];
  const handler: AuthHandlerMiddleware = (_left, _partial, next) => {
    const m = methods.shift();
    if (!m) return next(false as never);
    tried.push(m.type);
    next(m);
  };
  return { handler, tried };
}

/**
 * A private key file read and parsed once per run, not once per host: most inventories give every host
 * the same key, and parsing it (a passphrase's bcrypt rounds above all) is the costly part of connecting.
 */
const parsedKeys = new Map<string, Promise<ReturnType<typeof utils.parseKey>>>();
async function parsedKey(
  file: string,
  passphrase: string | undefined,
): Promise<ReturnType<typeof utils.parseKey>> {
  // The file's identity and mtime are part of the key: a key file replaced during the process is re-read.
  const st = await stat(file);
  const id = `${file}\0${st.ino}\0${st.mtimeMs}\0${st.size}\0${passphrase ?? ''}`;
  let parsed = parsedKeys.get(id);
  if (!parsed) {
    parsed = readFile(file).then((data) => utils.parseKey(data, passphrase));
    parsedKeys.set(id, parsed);
    parsed.catch(() => parsedKeys.delete(id));
  }
  return parsed;
}

export class SshConnection implements Connection {
  readonly kind = 'ssh' as const;
  private dead: UnreachableError | undefined;
  private closing = false;
  private readonly deathWatchers = new Set<(e: UnreachableError) => void>();
  private readonly slots: ChannelSlots;
  private readonly maxShells: number;
  private readonly shells: RemoteShell[] = [];
  private shellsSupported = true;
  private readonly shellWaiters: Array<(s: RemoteShell | undefined) => void> = [];
  private startingShells = 0;
  private sftpChannel: Promise<SFTPWrapper> | undefined;
  private readonly ids = new Map<string, number>();
  private readonly cleanedDirs = new Set<string>();
  private readonly windows: boolean;

  constructor(
    readonly host: string,
    private readonly user: string,
    private readonly client: SshClient,
    opts: SshConnectOptions = {},
    /** Releases the jump host connections this one goes through, after it ends. */
    private readonly jumpReleases: (() => void)[] = [],
  ) {
    const maxChannels = opts.maxChannels ?? DEFAULT_MAX_CHANNELS;
    this.windows = opts.windows === true;
    this.slots = new ChannelSlots(maxChannels);
    // One channel stays free for SFTP, pty commands and kills.
    this.maxShells = Math.max(0, Math.min(opts.maxShells ?? DEFAULT_MAX_SHELLS, maxChannels - 1));
    const lost = (why: string) => {
      if (this.dead) return;
      this.dead = new UnreachableError(
        this.closing ? `${host}: connection closed` : `${host}: SSH connection lost (${why})`,
      );
      for (const watch of this.deathWatchers) watch(this.dead);
      for (const w of this.shellWaiters.splice(0)) w(undefined);
      // The tunnel is of no use without the connection through it.
      this.endHops();
    };
    client.on('error', (e: Error) => lost(e.message));
    client.on('end', () => lost('closed by the remote side'));
    client.on('close', () => lost('closed by the remote side'));
  }

  private alive(): void {
    if (this.dead) throw this.dead;
  }

  /** Runs `work`, failing it with UnreachableError the moment the connection dies. */
  private async guarded<T>(work: Promise<T>, onDeath?: (e: UnreachableError) => void): Promise<T> {
    let watch: ((e: UnreachableError) => void) | undefined;
    try {
      return await Promise.race([
        work,
        new Promise<never>((_, reject) => {
          watch = (e) => {
            onDeath?.(e);
            reject(e);
          };
          if (this.dead) watch(this.dead);
          else this.deathWatchers.add(watch);
        }),
      ]);
    } catch (e) {
      // A channel often reports its end a moment before the connection reports its death.
      if (!(e instanceof UnreachableError) && !(e instanceof TimeoutError) && !this.dead) {
        await new Promise((r) => setTimeout(r, 200));
      }
      throw this.dead ?? e;
    } finally {
      if (watch) this.deathWatchers.delete(watch);
    }
  }

  async exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    this.alive();
    if (this.windows) return this.execOnWindows(command, opts);
    const { script, stdin } = becomeWrap(command, opts);
    const lines = Object.entries(opts.env ?? {}).map(([k, v]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`invalid environment variable name: ${k}`);
      return `export ${k}=${shq(v)}`;
    });
    if (opts.cwd) lines.push(`cd ${shq(opts.cwd)} || exit 1`);
    const job: Job = {
      script: `unset __EWS_JOB\n${lines.join('\n')}\n${script}`,
      stdin: stdin === undefined ? undefined : Buffer.from(stdin),
      token: newToken(),
    };
    const outcome = await this.runJob(job, opts);
    const result: ExecResult = {
      rc: outcome.timedOut ? 124 : outcome.rc,
      stdout: outcome.stdout.toString('utf8'),
      stderr: outcome.stderr.toString('utf8'),
    };
    if (outcome.timedOut) result.timedOut = true;
    return opts.become ? this.checkSudo(result, opts.become, Object.keys(opts.env ?? {})) : result;
  }

  private async runJob(job: Job, opts: ExecOptions): Promise<JobOutcome & { timedOut: boolean }> {
    const useShell =
      !opts.pty && this.maxShells > 0 && Buffer.byteLength(shq(job.script)) < MAX_SHELL_JOB_BYTES;
    const shell = useShell ? await this.acquireShell() : undefined;
    let running: RunningJob;
    if (shell) running = shell.run(job);
    else {
      const release = await this.guarded(this.slots.acquire());
      running = runOnChannel(this.client, job, opts.pty === true, release);
    }
    let timedOut = false;
    let grace: NodeJS.Timeout | undefined;
    const stop = () => {
      if (shell) shell.killing = true;
      running.killScript.then((script) => this.killOnTarget(script)).catch(() => undefined);
      // A target too stuck to report the end: give up on the job (and its shell).
      grace ??= setTimeout(
        () => running.abandon(new TimeoutError(`${this.host}: the command did not end after being killed`)),
        KILL_GRACE_MS,
      );
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    opts.signal?.addEventListener('abort', stop, { once: true });
    if (opts.signal?.aborted) stop();
    try {
      const outcome = await this.guarded(running.done, (e) => running.abandon(e));
      return { ...outcome, timedOut };
    } catch (e) {
      if (timedOut && e instanceof TimeoutError) {
        return { rc: 124, stdout: Buffer.alloc(0), stderr: Buffer.from(e.message), timedOut };
      }
      throw e;
    } finally {
      clearTimeout(timer);
      clearTimeout(grace);
      opts.signal?.removeEventListener('abort', stop);
      if (shell) this.releaseShell(shell);
    }
  }

  /**
   * A Windows host has no /bin/sh to frame jobs with: the command goes to its own channel as given (OpenSSH
   * for Windows runs it through cmd.exe or the configured shell). Secrets still go by stdin, which is why
   * env, cwd, become and pty are refused rather than put on the command line.
   */
  private async execOnWindows(command: string, opts: ExecOptions): Promise<ExecResult> {
    const unsupported = (['env', 'cwd', 'become', 'pty'] as const).filter(
      (k) => opts[k] !== undefined && opts[k] !== false,
    );
    if (unsupported.length > 0)
      throw new Error(
        `${this.host} is a Windows host (ansible_shell_type): ${unsupported.join(', ')} not supported`,
      );
    const release = await this.guarded(this.slots.acquire());
    let rc: number | undefined;
    const onExit = (code: number | null, signal?: string) => {
      rc = code ?? 128 + (SIGNAL_NUMBERS[signal ?? ''] ?? 0);
    };
    const channel = await this.guarded(openExec(this.client, command, false, onExit)).catch((e: Error) => {
      release();
      throw e;
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    // On timeout or abort: send a KILL signal request (servers may ignore it), close the channel,
    // and stop waiting, since a stuck target may never confirm the close.
    let giveUp: () => void = () => undefined;
    const stop = () => {
      channel.signal('KILL');
      channel.close();
      giveUp();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    opts.signal?.addEventListener('abort', stop, { once: true });
    try {
      await this.guarded(
        new Promise<void>((resolve) => {
          giveUp = resolve;
          channel.on('data', (d: Buffer) => stdout.push(d));
          channel.stderr.on('data', (d: Buffer) => stderr.push(d));
          channel.on('close', () => resolve());
          if (opts.stdin !== undefined) channel.write(opts.stdin);
          channel.end();
        }),
        () => channel.close(),
      );
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', stop);
      release();
    }
    const result: ExecResult = {
      rc: timedOut ? 124 : (rc ?? 255),
      stdout: Buffer.concat(stdout).toString('utf8'),
      stderr: Buffer.concat(stderr).toString('utf8'),
    };
    if (timedOut) result.timedOut = true;
    return result;
  }

  /**
   * Runs a job's kill script on the target on a channel of its own: every remote shell may be busy, the
   * killed job's among them. Given up after the grace period, like the job itself.
   */
  private killOnTarget(script: string): void {
    if (this.dead) return;
    const job: Job = { script, stdin: undefined, token: newToken() };
    this.slots
      .acquire()
      .then((release) => {
        const kill = runOnChannel(this.client, job, false, release);
        const timer = setTimeout(() => kill.abandon(new TimeoutError('kill')), KILL_GRACE_MS);
        return kill.done.finally(() => clearTimeout(timer));
      })
      .catch(() => undefined);
  }

  /** An idle remote shell, a new one (within limits), or undefined when the target cannot host one. */
  private async acquireShell(): Promise<RemoteShell | undefined> {
    for (;;) {
      this.alive();
      const idle = this.shells.find((s) => !s.busy && s.usable);
      if (idle) {
        idle.busy = true;
        return idle;
      }
      if (!this.shellsSupported) return undefined;
      if (this.shells.length + this.startingShells < this.maxShells && this.slots.free > 0) {
        this.startingShells++;
        try {
          const release = await this.guarded(this.slots.acquire());
          const shell = await this.guarded(RemoteShell.start(this.client, release));
          if (!shell) {
            this.shellsSupported = false;
            for (const w of this.shellWaiters.splice(0)) w(undefined);
            return undefined;
          }
          shell.busy = true;
          this.shells.push(shell);
          return shell;
        } catch (e) {
          if (e instanceof UnreachableError) throw e;
          throw new UnreachableError(`${this.host}: cannot open a channel: ${(e as Error).message}`);
        } finally {
          this.startingShells--;
        }
      }
      const handed = await new Promise<RemoteShell | undefined>((r) => this.shellWaiters.push(r));
      if (handed) return handed;
    }
  }

  private releaseShell(shell: RemoteShell): void {
    shell.busy = false;
    if (!shell.usable) {
      this.shells.splice(this.shells.indexOf(shell), 1);
      this.shellWaiters.shift()?.(undefined); // that waiter loops and starts a replacement
      return;
    }
    const waiter = this.shellWaiters.shift();
    if (waiter) {
      shell.busy = true;
      waiter(shell);
    }
  }

  /** Turns sudo's refusals into one clear error and removes sudo's prompt from stderr. */
  private checkSudo(result: ExecResult, become: BecomeOptions, envNames: string[]): ExecResult {
    const asked = result.stderr.includes(SUDO_PROMPT);
    const target = become.user ?? 'root';
    if (
      result.rc !== 0 &&
      asked &&
      /Sorry, try again|incorrect password|no password was provided/.test(result.stderr)
    ) {
      throw new BecomeError(`sudo: incorrect password for user ${this.user} on host ${this.host}`);
    }
    if (result.rc !== 0 && /sudo: a (terminal|password) is required/.test(result.stderr)) {
      throw new BecomeError(
        `sudo: a password is required for user ${this.user} to become ${target} on host ${this.host} (set ansible_become_password)`,
      );
    }
    if (result.rc !== 0 && /is not in the sudoers file|is not allowed to execute/.test(result.stderr)) {
      throw new BecomeError(`sudo: user ${this.user} may not become ${target} on host ${this.host}`);
    }
    // The environment crosses sudo with --preserve-env (never on its command line): the policy must allow it.
    if (
      result.rc !== 0 &&
      /not allowed to (set the following environment variables|preserve the environment)/.test(result.stderr)
    ) {
      throw new BecomeError(
        `sudo on host ${this.host} does not let user ${this.user} pass the task's environment (${envNames.join(', ')}) to ${target}: ` +
          `allow it in sudoers (Defaults:${this.user} env_keep += "${envNames.join(' ')}", or the SETENV tag), or give environment: only to tasks without become`,
      );
    }
    if (asked) result.stderr = result.stderr.split(SUDO_PROMPT).join('');
    return result;
  }

  async put(remotePath: string, content: string | Buffer, opts: PutOptions = {}): Promise<void> {
    this.alive();
    if (this.windows)
      throw new Error(`${this.host} is a Windows host (ansible_shell_type): file transfer is not supported`);
    if (opts.become) {
      // Privileged write: stream through sudo in the shell; SFTP runs as the login user.
      const r = await this.exec(atomicWriteScript(remotePath, opts), {
        stdin: content,
        become: opts.become,
        ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      if (r.rc !== 0)
        throw new Error(`cannot write ${remotePath} on ${this.host}: ${r.stderr.trim() || `exit ${r.rc}`}`);
      return;
    }
    await this.withTimeout(`put ${remotePath}`, opts, async () => {
      const sftp = await this.sftp();
      const dir = remotePath.replace(/\/[^/]*$/, '') || (remotePath.startsWith('/') ? '/' : '.');
      await sftpMkdirs(sftp, dir);
      await this.removeLeftovers(sftp, dir);
      const tmp = `${dir}/.ewsplay-tmp-${randomBytes(6).toString('hex')}`;
      const mode = Number.parseInt(opts.mode ?? '0644', 8);
      try {
        await sftpCall<void>((cb) => sftp.writeFile(tmp, content, { mode }, cb));
        await sftpCall<void>((cb) => sftp.chmod(tmp, mode, cb));
        if (opts.owner || opts.group) {
          const uid = opts.owner ? await this.numericId('-u', opts.owner) : -1;
          const gid = opts.group ? await this.numericId('-g', opts.group) : -1;
          await sftpCall<void>((cb) => sftp.chown(tmp, uid, gid, cb));
        }
        await sftpCall<void>((cb) => sftp.ext_openssh_rename(tmp, remotePath, cb));
      } catch (e) {
        await sftpCall<void>((cb) => sftp.unlink(tmp, cb)).catch(() => undefined);
        throw new Error(`cannot write ${remotePath} on ${this.host}: ${(e as Error).message}`);
      }
    });
  }

  /**
   * Removes what transfers cut off by a lost connection left in `dir`: temp files of ours (their exact name
   * pattern) older than LEFTOVER_MINUTES, so none in flight is touched. Once per directory and connection;
   * never fails the transfer (a directory that cannot be listed is simply left as it is).
   */
  private async removeLeftovers(sftp: SFTPWrapper, dir: string): Promise<void> {
    if (this.cleanedDirs.has(dir)) return;
    this.cleanedDirs.add(dir);
    const list = await sftpCall<{ filename: string; attrs: { mtime: number; mode: number } }[]>((cb) =>
      sftp.readdir(dir, cb),
    ).catch(() => []);
    const before = Date.now() / 1000 - LEFTOVER_MINUTES * 60;
    for (const entry of list) {
      if (!OUR_TEMP_FILE.test(entry.filename) || entry.attrs.mtime >= before) continue;
      if ((entry.attrs.mode & 0o170000) !== 0o100000) continue; // regular files only
      await sftpCall<void>((cb) => sftp.unlink(`${dir}/${entry.filename}`, cb)).catch(() => undefined);
    }
  }

  /** uid/gid for a user or group name on the target (SFTP chown takes numbers). */
  private async numericId(kind: '-u' | '-g', name: string): Promise<number> {
    if (/^\d+$/.test(name)) return Number(name);
    const key = `${kind}${name}`;
    const cached = this.ids.get(key);
    if (cached !== undefined) return cached;
    const cmd =
      kind === '-u' ? `id -u ${shq(name)}` : `getent group ${shq(name)} | cut -d: -f3 | grep . || exit 1`;
    const r = await this.exec(cmd, { timeoutMs: 30_000 });
    const id = Number(r.stdout.trim());
    if (r.rc !== 0 || !Number.isInteger(id))
      throw new Error(`no such ${kind === '-u' ? 'user' : 'group'}: ${name}`);
    this.ids.set(key, id);
    return id;
  }

  async get(remotePath: string, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<Buffer> {
    this.alive();
    return this.withTimeout(`get ${remotePath}`, opts, async () => {
      const sftp = await this.sftp();
      return sftpCall<Buffer>((cb) => sftp.readFile(remotePath, cb)).catch((e: Error) => {
        throw new Error(`cannot read ${remotePath} on ${this.host}: ${e.message}`);
      });
    });
  }

  private sftp(): Promise<SFTPWrapper> {
    this.sftpChannel ??= (async () => {
      await this.slots.acquire(); // held for the connection's life
      return new Promise<SFTPWrapper>((resolve, reject) =>
        this.client.sftp((err, sftp) => (err ? reject(err) : resolve(sftp))),
      );
    })();
    this.sftpChannel.catch(() => {
      this.sftpChannel = undefined;
    });
    return this.sftpChannel;
  }

  forwardOut(host: string, port: number, opts: { timeoutMs?: number } = {}): Promise<Duplex> {
    this.alive();
    return this.withTimeout(
      `connect to ${host}:${port}`,
      opts,
      () =>
        new Promise<Duplex>((resolve, reject) =>
          this.client.forwardOut('127.0.0.1', 0, host, port, (err, stream) =>
            err
              ? reject(new Error(`cannot connect to ${host}:${port} from ${this.host}: ${err.message}`))
              : resolve(stream),
          ),
        ),
    );
  }

  private async withTimeout<T>(
    what: string,
    opts: { timeoutMs?: number; signal?: AbortSignal },
    work: () => Promise<T>,
  ): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const limit = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    try {
      return await this.guarded(
        Promise.race([
          work(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new TimeoutError(`${this.host}: ${what} timed out after ${limit} ms`)),
              limit,
            );
            onAbort = () => reject(new Error(`${this.host}: ${what} aborted`));
            opts.signal?.addEventListener('abort', onAbort, { once: true });
          }),
        ]),
      );
    } finally {
      clearTimeout(timer);
      if (onAbort) opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  async close(): Promise<void> {
    if (this.dead) return this.endHops();
    this.closing = true;
    for (const s of this.shells) s.close();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.client.destroy();
        resolve();
      }, 2000);
      this.client.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.client.end();
    });
    this.endHops();
  }

  private endHops(): void {
    for (const release of this.jumpReleases.splice(0).reverse()) release();
  }
}

function sftpCall<T>(fn: (cb: (err: Error | null | undefined, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));
}

async function sftpMkdirs(sftp: SFTPWrapper, dir: string): Promise<void> {
  const exists = await sftpCall<unknown>((cb) => sftp.stat(dir, cb)).then(
    () => true,
    () => false,
  );
  if (exists) return;
  const parent = dir.replace(/\/[^/]*$/, '');
  if (parent && parent !== dir) await sftpMkdirs(sftp, parent);
  await sftpCall<void>((cb) => sftp.mkdir(dir, cb)).catch(async (e) => {
    // Lost a race with another writer: fine if it is there now.
    const now = await sftpCall<unknown>((cb) => sftp.stat(dir, cb)).catch(() => undefined);
    if (!now) throw e;
  });
}
