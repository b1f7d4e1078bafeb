// The OpenSSH client configuration (ssh_config(5)), read as ssh reads it when Ansible connects: the user's
// ~/.ssh/config, then /etc/ssh/ssh_config (or only the file `-F` names). Of its settings ewsplay honours the
// ones that say where and as whom to connect: HostName, User, Port, IdentityFile, ProxyJump and
// UserKnownHostsFile. The first value found wins (IdentityFile adds up), Host patterns take * ? and !,
// Include takes globs. Match blocks are not evaluated: what they hold is skipped. StrictHostKeyChecking is
// not read: only ewsplay's own flag or the inventory may let a new host key in.
import { readdir, readFile, stat } from 'node:fs/promises';
import { homedir, userInfo } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { expandTilde } from '../util/expand-tilde.js';
import { type ConnectionSpec, type JumpHost, UnreachableError } from './connection.js';

/** One option line, with the Host pattern lists (all must match) it stands under. */
interface OptionLine {
  conditions: string[][];
  key: string;
  value: string;
  file: string;
  line: number;
}

export interface SshConfigSettings {
  hostName?: string;
  user?: string;
  port?: number;
  identityFiles: string[];
  proxyJump?: JumpHost[];
  userKnownHostsFile?: string;
}

const HONOURED = new Set(['hostname', 'user', 'port', 'identityfile', 'proxyjump', 'userknownhostsfile']);
const MAX_INCLUDE_DEPTH = 16;

/** The files ssh reads, in order: `-F FILE` alone, else the user's then the system's. */
export function sshConfigFiles(explicit?: string): { file: string; required: boolean }[] {
  if (explicit) return [{ file: explicit, required: true }];
  return [
    { file: join(homedir(), '.ssh', 'config'), required: false },
    { file: '/etc/ssh/ssh_config', required: false },
  ];
}

// Parsed once per process per file version: every host of a run reads the same files.
const cache = new Map<string, Promise<OptionLine[]>>();

/** The option lines of the files, Includes inlined; an unreadable required file is an error. */
export async function readSshConfig(files: { file: string; required: boolean }[]): Promise<OptionLine[]> {
  const all: OptionLine[] = [];
  for (const { file, required } of files) {
    const st = await stat(file).catch(() => undefined);
    if (!st) {
      if (required)
        throw new UnreachableError(`cannot read the SSH client configuration ${file} (given with -F)`);
      continue;
    }
    const id = `${file}\0${st.mtimeMs}\0${st.size}`;
    let lines = cache.get(id);
    if (!lines) {
      lines = parseFile(file, [], 0);
      cache.set(id, lines);
    }
    all.push(...(await lines));
  }
  return all;
}

async function parseFile(file: string, outer: string[][], depth: number): Promise<OptionLine[]> {
  if (depth > MAX_INCLUDE_DEPTH)
    throw new UnreachableError(
      `${file}: SSH configuration Includes nested more than ${MAX_INCLUDE_DEPTH} deep`,
    );
  const text = await readFile(file, 'utf8');
  const out: OptionLine[] = [];
  // Before any Host line, options apply to every host.
  let block: string[][] = outer;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const m = /^\s*([A-Za-z]+)(?:\s*=\s*|\s+)(.*?)\s*$/.exec(lines[i]!);
    if (!m || lines[i]!.trim().startsWith('#')) continue;
    const key = m[1]!.toLowerCase();
    const args = words(m[2]!);
    if (key === 'host') block = [...outer, args];
    // A Match block is not evaluated: nothing under it applies (a pattern no host name has).
    else if (key === 'match') block = [...outer, ['\0match']];
    else if (key === 'include') {
      for (const pattern of args)
        for (const included of await expandInclude(pattern, file))
          out.push(...(await parseFile(included, block, depth + 1)));
    } else if (HONOURED.has(key) && args.length > 0)
      out.push({ conditions: block, key, value: args.join(' '), file, line: i + 1 });
  }
  return out;
}

/** ssh_config's words: separated by spaces, double quotes keep spaces. */
function words(text: string): string[] {
  return [...text.matchAll(/"([^"]*)"|(\S+)/g)].map((w) => w[1] ?? w[2]!).filter((w) => !w.startsWith('#'));
}

/** Include paths: relative ones from ~/.ssh (user files) or /etc/ssh (system files); * and ? in the name. */
async function expandInclude(pattern: string, from: string): Promise<string[]> {
  const path = expandTilde(pattern);
  const base = from.startsWith('/etc/ssh/') ? '/etc/ssh' : join(homedir(), '.ssh');
  const full = isAbsolute(path) ? path : join(base, path);
  const dir = dirname(full);
  const name = full.slice(dir.length + 1);
  if (!/[*?]/.test(name)) return (await stat(full).catch(() => undefined)) ? [full] : [];
  const re = globRegExp(name);
  const entries = await readdir(dir).catch(() => [] as string[]);
  return entries
    .filter((e) => re.test(e))
    .sort()
    .map((e) => join(dir, e));
}

function globRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

/** ssh's Host matching: one positive pattern matches and no negated one does. */
export function hostMatches(patterns: string[], host: string): boolean {
  let matched = false;
  for (const p of patterns.flatMap((x) => x.split(','))) {
    if (p.startsWith('!')) {
      if (globRegExp(p.slice(1)).test(host)) return false;
    } else if (globRegExp(p).test(host)) matched = true;
  }
  return matched;
}

/**
 * The settings for `host` (the name ssh is given: ansible_host, else the inventory name). Tokens %h %p %r
 * %u %n %d %% and a leading ~ are expanded as ssh does in the options that take them.
 */
export function settingsFor(lines: OptionLine[], host: string): SshConfigSettings {
  const out: SshConfigSettings = { identityFiles: [] };
  const first = new Map<string, OptionLine>();
  for (const line of lines) {
    if (!line.conditions.every((patterns) => hostMatches(patterns, host))) continue;
    if (line.key === 'identityfile') out.identityFiles.push(line.value);
    else if (!first.has(line.key)) first.set(line.key, line);
  }
  const value = (key: string) => first.get(key)?.value;
  const hostName = value('hostname')?.replace(/%h/g, host);
  const port = first.get('port');
  if (port) {
    const n = Number(port.value);
    if (!/^\d+$/.test(port.value) || n < 1 || n > 65535)
      throw new UnreachableError(
        `${port.file}:${port.line}: Port must be a number from 1 to 65535, not '${port.value}'`,
      );
    out.port = n;
  }
  if (hostName !== undefined) out.hostName = hostName;
  const user = value('user');
  if (user !== undefined) out.user = user;
  const jump = first.get('proxyjump');
  if (jump)
    out.proxyJump = parseJumpHosts(jump.value, (message) => {
      throw new UnreachableError(`${jump.file}:${jump.line}: ${message}`);
    });
  const tokens = {
    h: hostName ?? host,
    n: host,
    p: String(out.port ?? 22),
    r: out.user ?? userInfo().username,
    u: userInfo().username,
    d: homedir(),
  };
  const known = value('userknownhostsfile')?.split(/\s+/)[0];
  if (known !== undefined && known.toLowerCase() !== 'none') out.userKnownHostsFile = expand(known, tokens);
  out.identityFiles = out.identityFiles
    .filter((f) => f.toLowerCase() !== 'none')
    .map((f) => expand(f, tokens));
  return out;
}

/** A resolved hop of the way to a host: a jump host or the host itself. */
export interface SshHop {
  address: string;
  port: number;
  user: string;
  identityFiles: string[];
}

/**
 * Where and as whom to connect, ssh_config applied as ssh applies it under Ansible: what the inventory
 * and the command line give wins (ansible_user, ansible_port, a ProxyJump in ansible_ssh_common_args).
 */
export async function resolveSshRoute(
  spec: ConnectionSpec,
): Promise<{ hops: SshHop[]; target: SshHop; knownHostsFile?: string }> {
  const lines = await readSshConfig(sshConfigFiles(spec.sshConfigFile));
  const local = userInfo().username;
  const cfg = settingsFor(lines, spec.address);
  const jumps = spec.jump ?? cfg.proxyJump ?? [];
  const hops = jumps.map((jump): SshHop => {
    const j = settingsFor(lines, jump.address);
    return {
      address: j.hostName ?? jump.address,
      port: jump.port ?? j.port ?? 22,
      user: jump.user ?? j.user ?? local,
      identityFiles: j.identityFiles,
    };
  });
  const target: SshHop = {
    address: cfg.hostName ?? spec.address,
    port: spec.defaultPort ? (cfg.port ?? spec.port) : spec.port,
    user: spec.user ?? cfg.user ?? local,
    identityFiles: cfg.identityFiles,
  };
  return { hops, target, ...(cfg.userKnownHostsFile ? { knownHostsFile: cfg.userKnownHostsFile } : {}) };
}

function expand(path: string, tokens: Record<string, string>): string {
  return expandTilde(path.replace(/%([%hnprud])/g, (_, t: string) => (t === '%' ? '%' : tokens[t]!)));
}

/**
 * ProxyJump's hops: `[user@]host[:port]` or `ssh://[user@]host[:port]`, comma-separated; `[::1]:22` for
 * IPv6; `none` for no jump host, as in ssh_config.
 */
export function parseJumpHosts(value: string, fail: (message: string) => never): JumpHost[] {
  if (value.toLowerCase() === 'none') return [];
  return value.split(',').map((raw) => {
    const m = /^(?:ssh:\/\/)?(?:([^@\s/]+)@)?(\[[0-9a-fA-F:.]+\]|[^:@\s/[\]]+)(?::(\d+))?\/?$/.exec(
      raw.trim(),
    );
    if (!m) return fail(`ProxyJump: cannot read the jump host '${raw.trim()}'`);
    const hop: JumpHost = { address: m[2]!.replace(/^\[(.*)\]$/, '$1') };
    if (m[3] !== undefined) {
      hop.port = Number(m[3]);
      if (hop.port < 1 || hop.port > 65535)
        return fail(`ProxyJump: port ${m[3]} of '${raw.trim()}' is not from 1 to 65535`);
    }
    if (m[1] !== undefined) hop.user = m[1];
    return hop;
  });
}
