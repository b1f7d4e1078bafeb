// The local connection: every command is a child `/bin/sh -c` on the control node.
// With `root` (lab hosts), HOME and the working directory are that directory and its bin/ leads PATH, so
// each simulated host keeps its own state and programs.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { dirname, isAbsolute, join } from 'node:path';
import type { Duplex } from 'node:stream';
import { becomeWrap } from './become.js';
import type { Connection, ExecOptions, ExecResult, PutOptions } from './connection.js';
import { TimeoutError } from './connection.js';

const DEFAULT_TIMEOUT_MS = 600_000;

export class LocalConnection implements Connection {
  readonly kind = 'local' as const;
  constructor(
    readonly host: string,
    private readonly root?: string,
    private readonly extraEnv: Record<string, string> = {},
  ) {}

  private path(p: string): string {
    return this.root && !isAbsolute(p) ? join(this.root, p) : p;
  }

  exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const { script, stdin } = becomeWrap(command, opts);
    return new Promise((resolve, reject) => {
      const env: NodeJS.ProcessEnv = { ...process.env, ...this.extraEnv, ...opts.env };
      if (this.root) {
        env.HOME = this.root;
        // As a login shell's ~/.profile does: the host's own ~/bin comes first (the lab's stand-ins).
        env.PATH = `${join(this.root, 'bin')}:${env.PATH ?? '/usr/bin:/bin'}`;
      }
      // The script travels in an environment variable, not in argv, where `ps` would show the secrets in it.
      env.__EWS_JOB = script;
      const child = spawn('/bin/sh', ['-c', 'eval "unset __EWS_JOB; $__EWS_JOB"'], {
        cwd: opts.cwd ? this.path(opts.cwd) : (this.root ?? process.cwd()),
        env,
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true, // own process group, so a timeout kills the whole tree
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timedOut = false;
      const kill = () => {
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      };
      const timer = setTimeout(() => {
        timedOut = true;
        kill();
      }, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
      const onAbort = () => kill();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => err.push(d));
      child.stdin.on('error', () => {
        /* the command may exit without reading stdin */
      });
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on('close', (code, sig) => {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        const result: ExecResult = {
          rc: timedOut ? 124 : (code ?? (sig ? 128 : 1)),
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
        };
        if (timedOut) result.timedOut = true;
        resolve(result);
      });
      child.stdin.end(stdin);
    });
  }

  async put(remotePath: string, content: string | Buffer, opts: PutOptions = {}): Promise<void> {
    const dest = this.path(remotePath);
    if (opts.become) {
      // Privileged write: stream through the shell so sudo applies.
      const { atomicWriteScript } = await import('./become.js');
      const r = await this.exec(atomicWriteScript(dest, opts), {
        stdin: content,
        ...(opts.become ? { become: opts.become } : {}),
        ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
      });
      if (r.rc !== 0) throw new Error(`cannot write ${remotePath}: ${r.stderr.trim() || `exit ${r.rc}`}`);
      return;
    }
    await mkdir(dirname(dest), { recursive: true });
    const tmp = join(dirname(dest), `.ewsplay-tmp-${randomBytes(6).toString('hex')}`);
    try {
      await writeFile(tmp, content, { mode: opts.mode ? Number.parseInt(opts.mode, 8) : 0o644 });
      if (opts.mode) await chmod(tmp, Number.parseInt(opts.mode, 8));
      if (opts.owner || opts.group) await chownByName(tmp, opts.owner, opts.group);
      await rename(tmp, dest);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }

  async get(remotePath: string): Promise<Buffer> {
    return readFile(this.path(remotePath));
  }

  forwardOut(host: string, port: number, opts: { timeoutMs?: number } = {}): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host, port });
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new TimeoutError(`connect to ${host}:${port} timed out`));
      }, opts.timeoutMs ?? 10_000);
      sock.once('connect', () => {
        clearTimeout(timer);
        resolve(sock);
      });
      sock.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  async close(): Promise<void> {}
}

async function chownByName(path: string, owner?: string, group?: string): Promise<void> {
  const id = async (flag: string, name: string) => {
    if (/^\d+$/.test(name)) return Number(name);
    const { execFileSync } = await import('node:child_process');
    return Number(execFileSync('id', [flag, name]).toString().trim());
  };
  const uid = owner ? await id('-u', owner) : -1;
  const gid = group
    ? Number(
        (await import('node:child_process'))
          .execFileSync('getent', ['group', group])
          .toString()
          .split(':')[2],
      )
    : -1;
  await chown(path, uid, gid);
}
