// How commands run on an SSH connection (ssh.ts): framed jobs on long-lived remote shells, or a channel of
// their own (pty commands, jobs too big for a shell, targets without one), and how a job is killed.
import { randomBytes } from 'node:crypto';
import type { Client, ClientChannel } from 'ssh2';
import { shq } from '../core/shell-quote.js';

/** Limits concurrent session channels; acquire() resolves a release function. */
export class ChannelSlots {
  private used = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly max: number) {}

  get free(): number {
    return this.max - this.used;
  }

  acquire(): Promise<() => void> {
    return new Promise((resolve) => {
      const grant = () => {
        this.used++;
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.used--;
          this.waiting.shift()?.();
        });
      };
      if (this.used < this.max) grant();
      else this.waiting.push(grant);
    });
  }
}

/** What one command needs on the target, before framing. */
export interface Job {
  /** The script a fresh /bin/sh runs: exports, cd, then the command. */
  script: string;
  stdin: Buffer | undefined;
  token: string;
}

export interface JobOutcome {
  rc: number;
  stdout: Buffer;
  stderr: Buffer;
}

/** A running job on the target. */
export interface RunningJob {
  done: Promise<JobOutcome>;
  /** Resolves the script that kills the job on the target (run through another shell or channel). */
  killScript: Promise<string>;
  /** Forget the job (the channel or shell is closed); done then rejects. */
  abandon(reason: Error): void;
}

/**
 * Splits a stream that arrives in chunks into the job's own bytes and marker lines
 * (`<token><kind><number>\n`, kind P = job pid, E = end). Nothing after an E marker belongs to the job.
 */
class FramedStream {
  private readonly token: Buffer;
  private readonly out: Buffer[] = [];
  private pending: Buffer = Buffer.alloc(0);
  ended = false;

  constructor(token: string) {
    this.token = Buffer.from(token, 'latin1');
  }

  push(chunk: Buffer): Array<{ kind: string; value: number }> {
    const found: Array<{ kind: string; value: number }> = [];
    if (this.ended) return found;
    let buf: Buffer = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    for (;;) {
      const at = buf.indexOf(this.token);
      if (at < 0) {
        // Keep a tail that may be the start of a token split across chunks.
        const keep = Math.min(buf.length, this.token.length - 1);
        this.out.push(buf.subarray(0, buf.length - keep));
        this.pending = buf.subarray(buf.length - keep);
        return found;
      }
      const nl = buf.indexOf(0x0a, at);
      if (nl < 0) {
        this.out.push(buf.subarray(0, at));
        this.pending = buf.subarray(at);
        return found;
      }
      this.out.push(buf.subarray(0, at));
      // A pty turns "\n" into "\r\n": the "\r" belongs to the marker line.
      const line = buf
        .subarray(at + this.token.length, nl)
        .toString('latin1')
        .replace(/\r$/, '');
      const kind = line.slice(0, 1);
      found.push({ kind, value: line.length > 1 ? Number.parseInt(line.slice(1), 10) : 0 });
      buf = buf.subarray(nl + 1);
      if (kind === 'E') {
        this.ended = true;
        this.pending = Buffer.alloc(0);
        return found;
      }
    }
  }

  /** The job's bytes (including an unfinished tail when the stream simply closed). */
  get data(): Buffer {
    return Buffer.concat([...this.out, this.pending]);
  }
}

/** A long-lived `/bin/sh` on the target that runs framed jobs, one at a time. */
export class RemoteShell {
  busy = false;
  /** The shell's process group, which its jobs share: killed whole only where processes cannot be listed. */
  pgid = 0;
  /** Set when its job is being killed (timeout, abort): should the shell end with it, that is the job's end. */
  killing = false;
  private closed = false;
  private onData: ((d: Buffer) => void) | undefined;
  private onStderr: ((d: Buffer) => void) | undefined;
  private onClose: (() => void) | undefined;

  private constructor(
    private readonly channel: ClientChannel,
    private readonly release: () => void,
  ) {
    channel.on('data', (d: Buffer) => this.onData?.(d));
    channel.stderr.on('data', (d: Buffer) => this.onStderr?.(d));
    channel.on('close', () => {
      this.closed = true;
      this.release();
      this.onClose?.();
    });
  }

  get usable(): boolean {
    return !this.closed;
  }

  /** Starts a shell; undefined when the target lacks what jobs need (then commands use channels). */
  static async start(client: Client, release: () => void): Promise<RemoteShell | undefined> {
    const channel = await openExec(client, 'exec /bin/sh', false).catch((e) => {
      release();
      throw e;
    });
    const shell = new RemoteShell(channel, release);
    // Jobs run in subshells of this shell (a fork per job instead of setsid + sh execs: a command costs
    // ~0.5 ms instead of ~1.6), so they share its process group: a timeout kills the job's process tree
    // (killTreeScript), not the group, so that what an earlier job left running in the background lives on.
    // The group is learnt for targets that cannot list processes. base64 carries stdin inside the job stream.
    const token = newToken();
    const ok = await new Promise<boolean>((resolve) => {
      const stream = new FramedStream(token);
      shell.onData = (d) => {
        for (const m of stream.push(d)) {
          if (m.kind === 'P') shell.pgid = m.value;
          if (m.kind === 'E') resolve(m.value === 1 && shell.pgid > 1);
        }
      };
      shell.onClose = () => resolve(false);
      channel.write(
        // fd 3 keeps the channel's stdin for the watcher of each job (an asynchronous list's own stdin is
        // /dev/null); __ews_kill kills a process tree, the same way a timeout does.
        `exec 3<&0\n__ews_kill() {\n${killTreeLines('"$1"', undefined).join('\n')}\n}\n` +
          // The process group from /proc with builtins only (no process start); else ps; else $$, which
          // it is anyway when the login shell execs /bin/sh as sshd's session leader.
          `g=; if read -r l </proc/$$/stat 2>/dev/null; then set -- \${l##*) }; g=$3; ` +
          `elif command -v ps >/dev/null 2>&1; then g=$(ps -o pgid= -p $$); fi; set --; g=\${g:-$$}; ` +
          `if command -v base64 >/dev/null 2>&1; then printf '%sP%s\n%sE1\n' '${token}' $g '${token}'; ` +
          `else printf '%sE0\n' '${token}'; fi; unset g l\n`,
      );
    });
    shell.onData = shell.onClose = undefined;
    if (!ok) {
      shell.close();
      return undefined;
    }
    return shell;
  }

  run(job: Job): RunningJob {
    const out = new FramedStream(job.token);
    const err = new FramedStream(job.token);
    let rc: number | undefined;
    let resolvePid!: (n: number) => void;
    const pid = new Promise<number>((r) => {
      resolvePid = r;
    });
    let settle!: { resolve: (o: JobOutcome) => void; reject: (e: Error) => void };
    const done = new Promise<JobOutcome>((resolve, reject) => {
      settle = { resolve, reject };
    });
    const finish = () => {
      if (rc === undefined || !err.ended) return;
      this.onData = this.onStderr = this.onClose = undefined;
      this.killing = false;
      settle.resolve({ rc, stdout: out.data, stderr: err.data });
    };
    this.onData = (d) => {
      const end = out.push(d).find((m) => m.kind === 'E');
      if (end) rc = end.value;
      finish();
    };
    this.onStderr = (d) => {
      // The job pid marker may land anywhere in the job's stderr; the stream cuts it out.
      for (const m of err.push(d)) if (m.kind === 'P') resolvePid(m.value);
      finish();
    };
    this.onClose = () => {
      if (this.killing) settle.resolve({ rc: 128 + 9, stdout: out.data, stderr: err.data });
      else settle.reject(new Error('the remote shell ended'));
    };

    // The job script travels in a shell variable (not argv, so `ps` does not show it) to a subshell;
    // stdin, if any, as base64 in a here-document. The shell reports the subshell's pid (the P marker):
    // a timeout kills that process and its descendants, and the shell lives on for the next job.
    // While the job runs nothing else is sent on this channel, so a watcher waits on its stdin: end of
    // file there means the connection is gone (ewsplay killed, the network cut), and the job is killed
    // with it instead of running on unseen. The shell stops the watcher when the job ends.
    const launch = `( eval "$__EWS_JOB" ) 3<&-`;
    const input = job.stdin
      ? `base64 -d <<'${job.token}IN' 3<&- | ${launch} &\n` +
        `${job.stdin.toString('base64').replace(/.{1,4096}/g, '$&\n')}${job.token}IN\n`
      : `${launch} </dev/null &\n`;
    // One compound command: the shell reads all of it before it starts any of it, so nothing of this
    // job's text is still unread on stdin when the watcher starts reading there.
    this.channel.write(
      `{\n__EWS_JOB=${shq(job.script)}\n${input}__ews_p=$!; unset __EWS_JOB\n` +
        `{ read -r __ews_x <&3 || __ews_kill "$__ews_p"; } >/dev/null 2>&1 & __ews_w=$!\n` +
        `printf '%sP%s\n' '${job.token}' "$__ews_p" >&2; wait "$__ews_p"; __ews_rc=$?\n` +
        `kill "$__ews_w" 2>/dev/null; wait "$__ews_w" 2>/dev/null\n` +
        `printf '%sE%s\n' '${job.token}' "$__ews_rc"; printf '%sE\n' '${job.token}' >&2\n}\n`,
    );
    return {
      done,
      killScript: pid.then((p) => killTreeScript(p, this.pgid)),
      abandon: (reason) => {
        this.close();
        settle.reject(reason);
      },
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.channel.close();
  }
}

/**
 * Kills process `pid` and its descendants: freezes them (SIGSTOP, again until the set stops growing, so
 * none forks away meanwhile), then SIGKILL. Processes outside the tree are left alone: what an earlier
 * job started in the background, and daemons that detached. Where neither /proc nor ps can list
 * processes, the remote shell's whole process group `group` is killed instead (the shell with it).
 */
function killTreeScript(pid: number, group: number): string {
  return killTreeLines(String(pid), group > 1 ? String(group) : undefined).join('\n');
}

/** The lines of killTreeScript for the process `pid` (a number or a shell word such as "$1"). */
function killTreeLines(pid: string, group: string | undefined): string[] {
  const awk =
    '{ pp[$1] = $2 } END { for (p in pp) { q = p; n = 0; ' +
    'while (q != r && (q in pp) && n++ < 4096) q = pp[q]; if (q == r) print p } }';
  return [
    `r=${pid}`,
    'procs() {',
    '  if [ -r /proc/self/stat ]; then',
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so cut at the last ") ".
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a JS template
    '    for s in /proc/[0-9]*/stat; do read -r l <"$s" 2>/dev/null || continue; set -- ${l##*) }; echo "${l%% *} $2"; done',
    '  else ps -e -o pid= -o ppid= 2>/dev/null; fi',
    '}',
    `if [ -z "$(procs | head -n 1)" ]; then ${group ? `kill -9 -${group} 2>/dev/null; ` : ''}exit 0; fi`,
    `tree() { procs | awk -v r="$r" '${awk}' | sort -n; }`,
    'seen=; i=0',
    'while [ $i -lt 8 ]; do',
    '  now=$(tree)',
    '  [ -n "$now" ] && [ "$now" != "$seen" ] || break',
    '  seen=$now; kill -STOP $now 2>/dev/null; i=$((i + 1))',
    'done',
    '[ -z "$seen" ] || kill -KILL $seen 2>/dev/null',
    'true',
  ];
}

export function newToken(): string {
  return `__EWS${randomBytes(9).toString('hex')}`;
}

export function openExec(
  client: Client,
  command: string,
  pty: boolean,
  /**
   * Told the command's exit status. Attached as the channel opens: a quick command's exit-status can arrive in
   * the same read as the open confirmation, before a listener attached after `await` (it was lost under load).
   */
  onExit?: (code: number | null, signal?: string) => void,
): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    const cb = (err: Error | undefined, channel: ClientChannel) => {
      if (err) return reject(err);
      if (onExit) channel.on('exit', onExit);
      resolve(channel);
    };
    // No echo on a pty: the job lines sent on stdin (environment values among them) must not come back.
    if (pty) client.exec(command, { pty: { term: 'xterm', modes: { ECHO: 0 } } }, cb);
    else client.exec(command, cb);
  });
}

/**
 * The fixed command of a channel of its own: it reads the job script from stdin as base64 lines up
 * to a "." line (short lines: a pty's line discipline truncates long ones), then runs it.
 */
const CHANNEL_BOOTSTRAP = shq(
  'l=; while IFS= read -r x && [ "$x" != . ]; do l=$l$x; done; eval "$(printf %s "$l" | base64 -d)"',
);

/** A command on a channel of its own (pty commands, jobs too big for a shell, targets without one). */
export function runOnChannel(client: Client, job: Job, pty: boolean, release: () => void): RunningJob {
  let resolvePgid!: (n: number) => void;
  const pgid = new Promise<number>((r) => {
    resolvePgid = r;
  });
  let channel: ClientChannel | undefined;
  let abandoned = false;
  let rejectDone!: (e: Error) => void;
  const done = new Promise<JobOutcome>((resolve, reject) => {
    rejectDone = reject;
    openExec(client, `exec /bin/sh -c ${CHANNEL_BOOTSTRAP}`, pty).then(
      (ch) => {
        channel = ch;
        if (abandoned) {
          ch.close();
          return;
        }
        const out = new FramedStream(job.token);
        const err = new FramedStream(job.token);
        let rc: number | undefined;
        const onMarkers = (ms: Array<{ kind: string; value: number }>) => {
          for (const m of ms) if (m.kind === 'P') resolvePgid(m.value);
        };
        ch.on('data', (d: Buffer) => onMarkers(out.push(d)));
        ch.stderr.on('data', (d: Buffer) => onMarkers(err.push(d)));
        ch.on('exit', (code: number | null, signal?: string) => {
          rc = code ?? 128 + (SIGNAL_NUMBERS[signal ?? ''] ?? 0);
        });
        ch.on('close', () => {
          release();
          if (rc === undefined) reject(new Error('the channel closed without an exit status'));
          else resolve({ rc, stdout: out.data, stderr: err.data });
        });
        // The shell is its session's leader (sshd calls setsid), so its pid is the job's process group.
        // The job owns stdin here, so a watcher looks at sshd's session process instead: when it is gone
        // (the connection dropped) while the job runs, the job's process group is killed.
        const script =
          `printf '%sP%s\n' '${job.token}' "$$" >&2\n` +
          `( p=$PPID; while kill -0 "$p" 2>/dev/null || [ -d "/proc/$p" ]; do sleep 1; done; kill -9 -$$ ) </dev/null >/dev/null 2>&1 &\n` +
          `__ews_w=$!; trap 'kill "$__ews_w" 2>/dev/null' EXIT\n${job.script}`;
        ch.write(
          `${Buffer.from(script)
            .toString('base64')
            .replace(/.{1,1000}/g, '$&\n')}.\n`,
        );
        if (job.stdin) ch.write(job.stdin);
        if (!pty) ch.end();
      },
      (e: Error) => {
        release();
        reject(e);
      },
    );
  });
  return {
    done,
    // The channel's shell leads a session of its own: its process group is the job and nothing else.
    killScript: pgid.then((g) => `kill -9 -${g} 2>/dev/null; true`),
    abandon: (reason) => {
      abandoned = true;
      channel?.close();
      rejectDone(reason);
    },
  };
}

export const SIGNAL_NUMBERS: Record<string, number> = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  KILL: 9,
  PIPE: 13,
  TERM: 15,
};
