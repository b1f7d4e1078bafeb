// File helpers shared by the file-writing modules. Each decides in ONE round trip (a small POSIX sh script
// run through ctx.conn) what a path looks like, and writes through ctx.conn.put (temp file + rename), so a
// module behaves the same over the local and the SSH connection, with become honoured everywhere.
import { createHash } from 'node:crypto';
import { type ExecOptions, type ExecResult, UnreachableError } from '../connection/connection.js';
import { controlFileCandidates } from '../core/control-file-candidates.js';
import { InputFileError, readInputBytes } from '../core/input-file.js';
import { shq } from '../core/shell-quote.js';
import type { ModuleContext } from './module.js';

export interface PathState {
  path: string;
  exists: boolean;
  /** The type of what the path names (after following a symlink unless `follow: false`). */
  type?: 'file' | 'directory' | 'link' | 'other';
  /** The path itself is a symbolic link. */
  isLink: boolean;
  /** Where a followed symbolic link leads (absolute). */
  realPath?: string;
  /** The directory that would hold the path exists. */
  parentExists: boolean;
  /** Permission bits as a 4-digit octal string, e.g. '0644'. */
  mode?: string;
  owner?: string;
  group?: string;
  uid?: number;
  gid?: number;
  size?: number;
  /** Modification time, seconds since the epoch. */
  mtime?: number;
  sha256?: string;
  sha1?: string;
  /** The file's bytes, when asked for and not larger than the limit. */
  content?: Buffer;
}

export interface ProbeOptions {
  /** Follow a symlink to what it points at (default true, as writing modules do). */
  follow?: boolean;
  /** Digests to compute for a regular file. */
  checksums?: ('sha256' | 'sha1')[];
  /** Also return the content of a regular file up to this many bytes. */
  contentLimit?: number;
}

const CONTENT_MARK = '--ewsplay-content--';

/** The sh script behind `probePath` (exported for tests of its output parsing). */
export function probeScript(path: string, opts: ProbeOptions = {}): string {
  const follow = opts.follow !== false;
  const L = follow ? '-L ' : '';
  const lines = [
    `p=${shq(path)}`,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a JS template
    'case "$p" in */*) d="${p%/*}"; [ -n "$d" ] || d=/ ;; *) d=. ;; esac',
    '[ -d "$d" ] && echo parent=1 || echo parent=0',
    '[ -L "$p" ] && echo link=1',
    // Following links, a dangling link names nothing; not following, it names the link itself.
    // A path we may not look at is not "absent": fail on permission denied instead.
    `if [ ! -e "$p" ]${follow ? '' : ' && [ ! -L "$p" ]'}; then`,
    `  e=$(LC_ALL=C stat ${L}"$p" 2>&1 >/dev/null)`,
    '  case "$e" in *"ermission denied"*) echo "$e" >&2; exit 6 ;; esac',
    '  echo exists=0; exit 0',
    'fi',
    'echo exists=1',
    // Writers follow a link to the file it names (and must replace that file, not the link).
    ...(follow ? ['[ -L "$p" ] && echo "real=$(readlink -f "$p" 2>/dev/null || realpath "$p")"'] : []),
    `if ${follow ? '' : '[ -L "$p" ]; then t=link; elif '}[ -f "$p" ]; then t=file; elif [ -d "$p" ]; then t=directory; else t=other; fi`,
    'echo type=$t',
    // GNU stat, then BSD stat.
    `s=$(stat ${L}-c '%a|%U|%G|%u|%g|%s|%Y' "$p" 2>/dev/null || stat ${L}-f '%Lp|%Su|%Sg|%u|%g|%z|%m' "$p") || exit 3`,
    'echo "stat=$s"',
  ];
  for (const algo of opts.checksums ?? []) {
    lines.push(
      `if [ "$t" = file ]; then`,
      `  if command -v ${algo}sum >/dev/null 2>&1; then h=$(${algo}sum < "$p") || exit 4;`,
      `  else h=$(openssl dgst -${algo} -r < "$p") || exit 4; fi`,
      `  echo "${algo}=\${h%% *}"`,
      'fi',
    );
  }
  if (opts.contentLimit !== undefined) {
    lines.push(
      // The size is stat's 6th field, cut out with parameter expansion: no pipeline, no process.
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a JS template
      'z=${s#*|*|*|*|*|}; z=${z%%|*}',
      `if [ "$t" = file ] && [ "$z" -le ${opts.contentLimit} ]; then`,
      `  echo ${CONTENT_MARK}`,
      '  if command -v base64 >/dev/null 2>&1; then base64 < "$p" || exit 5; else openssl base64 < "$p" || exit 5; fi',
      'fi',
    );
  }
  return lines.join('\n');
}

/** Parses the output of `probeScript`. */
export function parseProbe(path: string, stdout: string): PathState {
  const [head = '', body] = stdout.split(`${CONTENT_MARK}\n`);
  const kv = new Map<string, string>();
  for (const line of head.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) kv.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const state: PathState = {
    path,
    exists: kv.get('exists') === '1',
    isLink: kv.get('link') === '1',
    parentExists: kv.get('parent') === '1',
  };
  if (!state.exists) return state;
  state.type = kv.get('type') as PathState['type'];
  const real = kv.get('real');
  if (real) state.realPath = real;
  const [mode, owner, group, uid, gid, size, mtime] = (kv.get('stat') ?? '').split('|');
  if (mode) state.mode = mode.padStart(4, '0');
  if (owner) state.owner = owner;
  if (group) state.group = group;
  if (uid) state.uid = Number(uid);
  if (gid) state.gid = Number(gid);
  if (size) state.size = Number(size);
  if (mtime) state.mtime = Number(mtime);
  const sha256 = kv.get('sha256');
  const sha1 = kv.get('sha1');
  if (sha256) state.sha256 = sha256;
  if (sha1) state.sha1 = sha1;
  if (body !== undefined) state.content = Buffer.from(body.replace(/\s+/g, ''), 'base64');
  return state;
}

/** What `path` is on the target, in one round trip. */
export async function probePath(
  ctx: ModuleContext,
  path: string,
  opts: ProbeOptions = {},
): Promise<PathState> {
  const r = await execOn(ctx, probeScript(path, opts));
  if (r.rc !== 0) throw new Error(`cannot inspect ${path}: ${r.stderr.trim() || `exit ${r.rc}`}`);
  return parseProbe(path, r.stdout);
}

/**
 * What every command of a task runs with: its timeout, abort signal, become and `environment:` (as in
 * Ansible, the task's environment reaches every module's commands, e.g. http_proxy for a package install).
 */
export function taskExecOptions(ctx: ModuleContext): ExecOptions {
  return {
    timeoutMs: ctx.timeoutMs,
    signal: ctx.signal,
    ...(ctx.become ? { become: ctx.become } : {}),
    ...(ctx.env ? { env: ctx.env } : {}),
  };
}

/** Runs a script on the target with the task's options (taskExecOptions). */
export function execOn(ctx: ModuleContext, script: string, stdin?: string | Buffer): Promise<ExecResult> {
  return ctx.conn.exec(script, { ...taskExecOptions(ctx), ...(stdin !== undefined ? { stdin } : {}) });
}

/** Runs a script and throws with its stderr when it fails. */
export async function execOk(ctx: ModuleContext, script: string, what: string): Promise<ExecResult> {
  const r = await execOn(ctx, script);
  if (r.rc !== 0) throw new Error(`${what}: ${r.stderr.trim() || r.stdout.trim() || `exit ${r.rc}`}`);
  return r;
}

export interface Attributes {
  mode?: string;
  owner?: string;
  group?: string;
}

/** Writes a whole file atomically (temp file beside it, then rename) with the given attributes. */
export async function writeFile(
  ctx: ModuleContext,
  path: string,
  content: string | Buffer,
  attrs: Attributes,
): Promise<void> {
  await ctx.conn.put(path, content, {
    ...attrs,
    timeoutMs: ctx.timeoutMs,
    signal: ctx.signal,
    ...(ctx.become ? { become: ctx.become } : {}),
  });
}

/** The shell commands that set mode/owner/group on a path (empty when there is nothing to set). */
export function attributeCommands(path: string, attrs: Attributes): string[] {
  const cmds: string[] = [];
  if (attrs.owner || attrs.group)
    cmds.push(`chown ${shq(`${attrs.owner ?? ''}${attrs.group ? `:${attrs.group}` : ''}`)} ${shq(path)}`);
  if (attrs.mode) cmds.push(`chmod ${shq(attrs.mode)} ${shq(path)}`);
  return cmds;
}

/** Which of the wanted attributes differ from the current state (undefined wants are ignored). */
export function attributeChanges(state: PathState, want: Attributes): Attributes {
  const out: Attributes = {};
  if (want.mode && want.mode !== state.mode) out.mode = want.mode;
  if (want.owner && want.owner !== state.owner && want.owner !== String(state.uid)) out.owner = want.owner;
  if (want.group && want.group !== state.group && want.group !== String(state.gid)) out.group = want.group;
  return out;
}

export function hasAttributes(a: Attributes): boolean {
  return a.mode !== undefined || a.owner !== undefined || a.group !== undefined;
}

/** A readable one-line summary of attribute changes: "mode 0600 -> 0644, owner root -> www". */
export function describeAttributes(state: PathState, changes: Attributes): string {
  const parts: string[] = [];
  if (changes.mode) parts.push(`mode ${state.mode ?? '(none)'} -> ${changes.mode}`);
  if (changes.owner) parts.push(`owner ${state.owner ?? '(none)'} -> ${changes.owner}`);
  if (changes.group) parts.push(`group ${state.group ?? '(none)'} -> ${changes.group}`);
  return parts.join(', ');
}

/** Attribute lines for a --diff of file attributes ("mode: 0644"). */
export function attributeText(a: Attributes & { state?: string }): string {
  return (['state', 'mode', 'owner', 'group'] as const)
    .filter((k) => a[k] !== undefined)
    .map((k) => `${k}: ${a[k]}\n`)
    .join('');
}

/** Ansible's backup name: `<path>.<YYYY-MM-DD@HH:MM:SS>~`, made unique if taken. */
function backupStamp(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())}@${p(now.getHours())}:${p(now.getMinutes())}:${p(now.getSeconds())}`;
}

/** The script that copies `path` to a fresh backup name (keeping mode and owner) and prints that name. */
export function backupScript(path: string): string {
  const base = `${path}.${backupStamp()}`;
  return [
    `b=${shq(`${base}~`)}`,
    'n=0',
    `while [ -e "$b" ]; do n=$((n+1)); b=${shq(base)}".$n~"; done`,
    `cp -p ${shq(path)} "$b"`,
    'echo "$b"',
  ].join('\n');
}

/** Copies `path` aside before it is overwritten; returns the backup's path. */
export async function backupFile(ctx: ModuleContext, path: string): Promise<string> {
  const r = await execOk(ctx, backupScript(path), `cannot back up ${path}`);
  return r.stdout.trim();
}

export function sha256(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

export function sha1(content: string | Buffer): string {
  return createHash('sha1').update(content).digest('hex');
}

/**
 * Normalizes a `mode` argument to a 4-digit octal string. A YAML integer such as 644 (YAML 1.2 reads an
 * unquoted 0644 as the decimal 644) is taken as the octal digits the user wrote.
 */
export function normalizeMode(mode: unknown): string | undefined {
  if (mode === undefined || mode === null) return undefined;
  const s = String(mode);
  if (!/^[0-7]{3,4}$/.test(s))
    throw new Error(`mode must be octal like '0644' (got ${JSON.stringify(mode)})`);
  return s.padStart(4, '0');
}

/** JSON Schema for a `mode` argument: an octal string like '0644' (or the same digits unquoted). */
export const MODE_SCHEMA = {
  description: "Octal permission bits like '0644' or '0755' (symbolic modes such as u+x are not supported)",
  anyOf: [
    { type: 'string', pattern: '^[0-7]{3,4}$' },
    { type: 'integer', minimum: 0, maximum: 7777 },
  ],
} as const;

/** Text for a --diff, or a placeholder for content that is not printable text. */
export function diffText(content: Buffer | undefined, size: number | undefined, limit: number): string {
  if (content === undefined)
    return size !== undefined && size > limit ? `(file of ${size} bytes: too large to show)\n` : '';
  if (content.includes(0)) return `(binary file of ${content.length} bytes)\n`;
  return content.toString('utf8');
}

/** The directories of the task's role and of the roles above it, nearest first (none outside roles). */
function roleDirs(vars: Record<string, unknown>): string[] {
  const own = vars.role_path;
  if (typeof own !== 'string') return [];
  const parents = vars.ansible_parent_role_paths;
  return [own, ...(Array.isArray(parents) ? parents.filter((p): p is string => typeof p === 'string') : [])];
}

/**
 * Finds a control-node file named by a relative `src:`: in `<dir>/<kind>/` then `<dir>/` for the playbook's
 * directory and the task file's directory, then in `<playbook dir>/../<kind>/` (Ansible's search order, roughly).
 */
export async function readControlFile(
  ctx: ModuleContext,
  src: string,
  kind: 'files' | 'templates',
): Promise<{ path: string; content: Buffer }> {
  // Inside a role, Ansible looks in the role first, then in the roles that depend on it (role_path and
  // ansible_parent_role_paths, set by the engine for a role's tasks and handlers).
  const candidates = controlFileCandidates(src, kind, {
    baseDir: ctx.baseDir,
    taskFile: ctx.pos.file,
    roleDirs: roleDirs(ctx.vars),
  });
  for (const path of candidates) {
    try {
      // A template is input like a playbook (bounded); a copied file may be large, but never a device.
      return { path, content: await readInputBytes(path, kind === 'templates' ? undefined : Infinity) };
    } catch (e) {
      if (!(e instanceof InputFileError)) throw e;
      if (e.reason.includes('directory, not a file'))
        throw new Error(`${src} is a directory: copying directories is not supported`);
      if (e.code !== 'missing') throw new Error(e.message);
    }
  }
  throw new Error(`could not find ${src} (looked in ${candidates.join(', ')})`);
}

/** One connection attempt from the host: true when something accepts it. */
export async function portOpen(
  ctx: ModuleContext,
  host: string,
  port: number,
  timeoutMs: number,
): Promise<boolean> {
  try {
    const stream = await ctx.conn.forwardOut(host, port, { timeoutMs });
    stream.destroy();
    return true;
  } catch (e) {
    // A dead connection to the host says nothing about the port.
    if (e instanceof UnreachableError) throw e;
    return false;
  }
}

/** Polls from the host until something accepts TCP on host:port, or the time is up. */
export async function waitPortOpen(
  ctx: ModuleContext,
  host: string,
  port: number,
  timeoutMs: number,
): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await portOpen(ctx, host, port, Math.min(2000, timeoutMs))) return true;
    if (Date.now() >= until) return false;
    await new Promise((res) => setTimeout(res, 100));
  }
}
