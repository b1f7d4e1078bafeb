// Host key verification with OpenSSH's known_hosts semantics: plain, comma-listed, wildcard, negated,
// `[host]:port` and hashed (`|1|salt|hash`) host patterns, and `@revoked` markers. A key is accepted
// only when a matching entry holds it, or when the user said --accept-new-host-keys for a host that has
// no entry of that key type (then it is recorded). A changed key is always refused.
// `@cert-authority` lines are read but not used: ssh2 does not verify host certificates, so a host
// known only through a CA is reported as unknown.
import { createHash, createHmac } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { InputFileError, readInputText } from '../core/input-file.js';
import { UsageError } from '../core/problems.js';
import { LoginRefusedError } from './connection.js';

/** Host key refused: unknown, changed or revoked. */
export class HostKeyError extends LoginRefusedError {
  override name = 'HostKeyError';
}

export interface KnownHostEntry {
  file: string;
  line: number;
  marker?: 'revoked' | 'cert-authority';
  patterns: string;
  keyType: string;
  key: Buffer;
}

export type HostKeyVerdict =
  | { status: 'known' }
  | { status: 'new' }
  | { status: 'changed'; entry: KnownHostEntry }
  | { status: 'revoked'; entry: KnownHostEntry };

/** The name known_hosts uses for a host: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

/** `SHA256:` + unpadded base64 of the key blob, as `ssh` prints it. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named inside an SSH wire-format public key blob (e.g. `ssh-ed25519`). */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return 'unknown';
  const len = key.readUInt32BE(0);
  return key.subarray(4, 4 + len).toString('latin1');
}

export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority') {
      marker = fields[0] === '@revoked' ? 'revoked' : 'cert-authority';
      fields.shift();
    }
    const [patterns, keyType, base64] = fields;
    if (!patterns || !keyType || !base64) return; // OpenSSH skips malformed lines too
    entries.push({
      file,
      line: i + 1,
      ...(marker ? { marker } : {}),
      patterns,
      keyType,
      key: Buffer.from(base64, 'base64'),
    });
  });
  return entries;
}

/** OpenSSH host pattern matching: a comma list where `!pattern` vetoes and `*`/`?` are wildcards. */
export function patternsMatch(patterns: string, name: string): boolean {
  if (patterns.startsWith('|1|')) return hashedMatches(patterns, name);
  let matched = false;
  for (const p of patterns.split(',')) {
    const negated = p.startsWith('!');
    if (wildcardMatch(negated ? p.slice(1) : p, name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

function hashedMatches(entry: string, name: string): boolean {
  const [, , salt, hash] = entry.split('|');
  if (!salt || !hash) return false;
  const computed = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
  return computed === hash;
}

/** Compiled wildcard patterns: every host of a run matches the same known_hosts lines. */
const wildcards = new Map<string, RegExp>();

function wildcardMatch(pattern: string, name: string): boolean {
  // Most lines name one host: no regex needed (building one per line and host cost ~2 ms per host at 50).
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern.toLowerCase() === name.toLowerCase();
  let re = wildcards.get(pattern);
  if (!re) {
    const source = pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.');
    re = new RegExp(`^${source}$`, 'i');
    wildcards.set(pattern, re);
  }
  return re.test(name);
}

/** A parsed known_hosts file, its one-host lines indexed by name: every host of a run reads the same file. */
interface ParsedFile {
  text: string;
  entries: KnownHostEntry[];
  /** Lines whose pattern is one plain name (lowercased), by that name. */
  byName: Map<string, KnownHostEntry[]>;
  /** Every other line: wildcards, negations, lists, hashed names, markers. */
  others: KnownHostEntry[];
}

const parsedFiles = new Map<string, ParsedFile>();

function parsedFile(text: string, file: string): ParsedFile {
  const known = parsedFiles.get(file);
  if (known?.text === text) return known;
  const entries = parseKnownHosts(text, file);
  const byName = new Map<string, KnownHostEntry[]>();
  const others: KnownHostEntry[] = [];
  for (const e of entries) {
    if (e.marker || e.patterns.startsWith('|') || /[*?!,]/.test(e.patterns)) others.push(e);
    else {
      const name = e.patterns.toLowerCase();
      byName.set(name, [...(byName.get(name) ?? []), e]);
    }
  }
  const parsed = { text, entries, byName, others };
  parsedFiles.set(file, parsed);
  return parsed;
}

/**
 * The lines of a file that can bear on `name`: those whose patterns match it, and every marker line (a
 * revoked key is refused whatever host presents it), in file order.
 */
function linesFor(parsed: ParsedFile, name: string): KnownHostEntry[] {
  const lines = [
    ...(parsed.byName.get(name.toLowerCase()) ?? []),
    ...parsed.others.filter((e) => e.marker || patternsMatch(e.patterns, name)),
  ];
  return lines.sort((a, b) => a.line - b.line);
}

/** Decides on a presented key the way OpenSSH's check_host_key does. */
export function checkHostKey(entries: KnownHostEntry[], name: string, key: Buffer): HostKeyVerdict {
  const matching = entries.filter((e) => patternsMatch(e.patterns, name));
  const revoked = entries.find((e) => e.marker === 'revoked' && e.key.equals(key));
  if (revoked) return { status: 'revoked', entry: revoked };
  const plain = matching.filter((e) => !e.marker);
  if (plain.some((e) => e.key.equals(key))) return { status: 'known' };
  const type = keyTypeOf(key);
  const sameType = plain.find((e) => e.keyType === type);
  return sameType ? { status: 'changed', entry: sameType } : { status: 'new' };
}

/** Host key algorithms to offer: the types already known for this host first, as OpenSSH does. */
export function preferredHostKeyAlgorithms(entries: KnownHostEntry[], name: string): string[] {
  const defaults = [
    'ssh-ed25519',
    'ecdsa-sha2-nistp256',
    'ecdsa-sha2-nistp384',
    'ecdsa-sha2-nistp521',
    'rsa-sha2-512',
    'rsa-sha2-256',
    'ssh-rsa',
  ];
  const known = new Set(
    entries.filter((e) => !e.marker && patternsMatch(e.patterns, name)).map((e) => e.keyType),
  );
  const algorithmsOf = (type: string) =>
    type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [type];
  const first = [...known].flatMap(algorithmsOf).filter((a) => defaults.includes(a));
  return [...new Set([...first, ...defaults])];
}

export interface HostKeyCheckOptions {
  /** Inventory host name, for messages. */
  host: string;
  address: string;
  port: number;
  /** Extra known_hosts file named by the inventory or --known-hosts; also where new keys are recorded. */
  knownHostsFile?: string;
  acceptNewHostKeys?: boolean;
}

/** Loads the known_hosts files once and verifies the key a server presents. */
export class HostKeyChecker {
  readonly name: string;
  /** The lines of the files that bear on this host (see linesFor): what the checks below go through. */
  private entries: KnownHostEntry[] = [];

  constructor(private readonly opts: HostKeyCheckOptions) {
    this.name = knownHostsName(opts.address, opts.port);
  }

  private get userFile(): string {
    return join(homedir(), '.ssh', 'known_hosts');
  }

  /** Where an accepted new key is recorded. */
  get recordFile(): string {
    return this.opts.knownHostsFile ?? this.userFile;
  }

  async load(): Promise<this> {
    const files = [
      ...new Set([this.userFile, ...(this.opts.knownHostsFile ? [this.opts.knownHostsFile] : [])]),
    ];
    for (const file of files) {
      const text = await readInputText(file).catch((e: unknown) => {
        if (e instanceof InputFileError && e.code === 'missing') return '';
        // One sentence naming the file (a directory, a device, unreadable), not a bare EISDIR.
        throw e instanceof InputFileError
          ? new UsageError(
              `cannot read the known_hosts file ${file}: ${e.reason}`,
              'a known_hosts file is a text file of host keys; move what is there aside',
            )
          : e;
      });
      this.entries.push(...linesFor(parsedFile(text, file), this.name));
    }
    return this;
  }

  hostKeyAlgorithms(): string[] {
    return preferredHostKeyAlgorithms(this.entries, this.name);
  }

  /** Resolves undefined when the key is trusted (recording it under accept-new), else the refusal. */
  async verify(key: Buffer): Promise<HostKeyError | undefined> {
    const verdict = checkHostKey(this.entries, this.name, key);
    if (verdict.status === 'known') return undefined;
    const type = keyTypeOf(key);
    const shown = `${type.replace(/^ssh-/, '').replace(/-.*$/, '').toUpperCase()} key ${fingerprint(key)}`;
    const who = `${this.name} (${this.opts.host})`;
    switch (verdict.status) {
      case 'revoked':
        return new HostKeyError(
          `host key for ${who} is REVOKED (${verdict.entry.file}:${verdict.entry.line}): ${shown}. Refused.`,
        );
      case 'changed': {
        const { entry } = verdict;
        return new HostKeyError(
          `WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED for ${who}! Someone could be eavesdropping on you ` +
            `(man-in-the-middle), or the host key was just changed. The server now presents ${shown}; ` +
            `the old key in ${entry.file}:${entry.line} is ${fingerprint(entry.key)}. Refused (even with ` +
            `--accept-new-host-keys). If the change is expected, remove the old entry with ` +
            `ssh-keygen -R '${this.name}' -f ${entry.file}.`,
        );
      }
      case 'new': {
        if (!this.opts.acceptNewHostKeys) {
          return new HostKeyError(
            `host key for ${who} is not known: the server presents ${shown}. Nothing was accepted. If this ` +
              `fingerprint is right, run again with --accept-new-host-keys (records it in ${this.recordFile}).`,
          );
        }
        await recordHostKey(this.recordFile, this.name, key);
        this.entries.push({ file: this.recordFile, line: 0, patterns: this.name, keyType: type, key });
        return undefined;
      }
    }
  }
}

/** Appends `name type base64` to a known_hosts file, creating it (and ~/.ssh) when missing. */
export async function recordHostKey(file: string, name: string, key: Buffer): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const existing = await readFile(file, 'utf8').catch(() => '');
  const sep = existing && !existing.endsWith('\n') ? '\n' : '';
  await appendFile(file, `${sep}${name} ${keyTypeOf(key)} ${key.toString('base64')}\n`, { mode: 0o600 });
}
