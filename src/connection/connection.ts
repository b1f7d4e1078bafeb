// The transport contract shared by local.ts and ssh.ts. Every call has a timeout and an abort signal,
// so one slow host can never hang a run.
import type { Duplex } from 'node:stream';

export interface BecomeOptions {
  /** Target user (sudo -u); default root. */
  user?: string;
  /** sudo password: sent on stdin, never in argv. */
  password?: string;
}

export interface ExecOptions {
  /** Bytes written to the command's stdin, then stdin is closed. */
  stdin?: string | Buffer;
  /** Extra environment for the command (how secrets reach remote processes: never argv). */
  env?: Record<string, string>;
  /** Allocate a pseudo-terminal (e.g. for `docker exec -it`). */
  pty?: boolean;
  /** Working directory on the target. */
  cwd?: string;
  /** Kill the command after this many ms; the result then has timedOut: true and rc 124. */
  timeoutMs?: number;
  signal?: AbortSignal;
  become?: BecomeOptions;
}

export interface ExecResult {
  rc: number;
  stdout: string;
  stderr: string;
  timedOut?: boolean;
}

export interface PutOptions {
  /** Octal mode string like '0644' applied after the write. */
  mode?: string;
  owner?: string;
  group?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  become?: BecomeOptions;
}

export interface Connection {
  readonly host: string;
  readonly kind: 'local' | 'ssh';
  /** Runs `command` with /bin/sh -c on the target. Never throws for rc != 0; throws UnreachableError when the transport dies. */
  exec(command: string, opts?: ExecOptions): Promise<ExecResult>;
  /** Writes a file atomically (temp file in the destination directory, then rename). */
  put(remotePath: string, content: string | Buffer, opts?: PutOptions): Promise<void>;
  /** Reads a whole file. */
  get(remotePath: string, opts?: { timeoutMs?: number; signal?: AbortSignal }): Promise<Buffer>;
  /** A TCP stream opened FROM the target host (ssh2 forwardOut; a plain socket for local). */
  forwardOut(host: string, port: number, opts?: { timeoutMs?: number }): Promise<Duplex>;
  close(): Promise<void>;
}

/** The host cannot be reached (connect failure, auth failure, dropped connection). */
export class UnreachableError extends Error {
  override name = 'UnreachableError';
}

/**
 * The host answered SSH and the login did not go through: its host key was refused (HostKeyError), or it
 * refused our credentials. Unreachable to the run, as in Ansible; trying again would not change it.
 */
export class LoginRefusedError extends UnreachableError {}

/** An operation exceeded its timeout. */
export class TimeoutError extends Error {
  override name = 'TimeoutError';
}

/** Connection settings resolved from a host's Ansible connection variables. */
export interface ConnectionSpec {
  host: string;
  connection: 'local' | 'ssh';
  address: string;
  port: number;
  user?: string;
  privateKeyFile?: string;
  privateKeyPassphrase?: string;
  password?: string;
  becomePassword?: string;
  knownHostsFile?: string;
  acceptNewHostKeys?: boolean;
  connectTimeoutMs: number;
  /** local connection only: confine relative paths and HOME to this directory (lab hosts). */
  root?: string;
  /**
   * The target's command shell (Ansible's ansible_shell_type). 'powershell' or 'cmd': a Windows host with
   * OpenSSH, where commands run exactly as given, one channel each, with no /bin/sh, sudo or file transfer.
   */
  shellType?: 'sh' | 'powershell' | 'cmd';
  /**
   * Jump hosts (OpenSSH's ProxyJump / -J), first to last: the connection reaches the target through a
   * tunnel over each. Their host keys are checked like any host's; they get keys and the agent, never the
   * target's password.
   */
  jump?: JumpHost[];
  /** The port is the default (22), not given: ssh_config's Port applies. */
  defaultPort?: boolean;
  /** ssh's -F: the only SSH client configuration read (else ~/.ssh/config, then /etc/ssh/ssh_config). */
  sshConfigFile?: string;
  /** Keys ssh_config names (IdentityFile), tried after privateKeyFile, before the agent. */
  identityFiles?: string[];
}

/**
 * One hop of ProxyJump: `[user@]host[:port]`. What is not given comes from ssh_config for that host, else
 * port 22 and the local user, as with ssh -J.
 */
export interface JumpHost {
  address: string;
  port?: number;
  user?: string;
}
