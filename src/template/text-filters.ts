// Ansible's string, path and hash filters (plugins/filter/core.py, mathstuff.py's human_readable) with
// Python's semantics: re.escape, os.path.join/splitext/expanduser, hashlib, uuid.uuid5.
// Like every filter they run on the control node: expanduser gives the home of the user running ewsplay
// (its HOME), not of the remote user.
import { createHash, getHashes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { TemplateError } from './errors.js';
import type { Filter } from './filter-util.js';
import { pyFixed } from './py-format.js';
import { type Kwargs, pyRepr, pyStr, splitKwargs } from './python.js';

function str(v: unknown, filter: string): string {
  if (typeof v === 'string') return v;
  throw new TemplateError(`${filter}: expected a string, got ${pyRepr(v)}`);
}

/** Python's os.path.join (posix): an absolute part starts over; no normalisation. */
function pathJoin(parts: string[]): string {
  let path = parts[0] ?? '';
  for (const b of parts.slice(1)) {
    if (b.startsWith('/')) path = b;
    else if (path === '' || path.endsWith('/')) path += b;
    else path += `/${b}`;
  }
  return path;
}

/** Python's os.path.splitext: leading dots of the file name are not an extension ('.bashrc'). */
function splitext(p: string): [string, string] {
  const sep = p.lastIndexOf('/');
  const dot = p.lastIndexOf('.');
  if (dot > sep) {
    for (let i = sep + 1; i < dot; i++) if (p[i] !== '.') return [p.slice(0, dot), p.slice(dot)];
  }
  return [p, ''];
}

/** A user's home from the passwd file (Node has no getpwnam). */
function passwdHome(user: string): string | undefined {
  try {
    if (user === userInfo().username) return userInfo().homedir;
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === user && f.length >= 6) return f[5];
    }
  } catch {
    /* no passwd file: leave the path as it is, as Python does for an unknown user */
  }
  return undefined;
}

/** Python's os.path.expanduser on the control node: ~ is $HOME, ~user that user's home. */
function expanduser(path: string): string {
  if (!path.startsWith('~')) return path;
  let i = path.indexOf('/', 1);
  if (i < 0) i = path.length;
  const home = i === 1 ? (process.env.HOME ?? homedir()) : passwdHome(path.slice(1, i));
  if (home === undefined) return path;
  return home.replace(/\/+$/, '') + path.slice(i) || '/';
}

/** Python's re.escape (3.7+): only characters special in a pattern get a backslash. */
const PY_SPECIAL = /[()[\]{}?*+\-|^$\\.&~# \t\n\r\v\f]/g;

/** hashlib names that Node spells otherwise. */
const HASH_NAMES: Record<string, string> = {
  sha3_224: 'sha3-224',
  sha3_256: 'sha3-256',
  sha3_384: 'sha3-384',
  sha3_512: 'sha3-512',
  blake2b: 'blake2b512',
  blake2s: 'blake2s256',
};
const PY_HASHES = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512', ...Object.keys(HASH_NAMES)];

/** Ansible hashes to_bytes(data): a string's UTF-8, anything else as Python prints it. */
function digest(data: unknown, hashtype: string, filter: string): string {
  const name = HASH_NAMES[hashtype] ?? hashtype;
  if (!PY_HASHES.includes(hashtype) || !getHashes().includes(name))
    throw new TemplateError(
      `${filter}: unsupported hash type ${pyRepr(hashtype)} (use one of ${PY_HASHES.join(', ')})`,
    );
  return createHash(name).update(pyStr(data), 'utf8').digest('hex');
}

const UUID_NAMESPACE_ANSIBLE = '361E6D51-FAEC-444A-9079-341386DA8E2E';

/** uuid.uuid5(namespace, name). */
function uuid5(name: string, namespace: string): string {
  const hex = namespace.replace(/^urn:uuid:/i, '').replace(/[{}-]/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex))
    throw new TemplateError(
      `to_uuid: invalid value ${pyRepr(namespace)} for 'namespace': badly formed UUID string`,
    );
  const h = createHash('sha1').update(Buffer.from(hex, 'hex')).update(name, 'utf8').digest().subarray(0, 16);
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const s = h.toString('hex');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

const COMMENT_STYLES: Record<string, Kwargs> = {
  plain: { decoration: '# ' },
  erlang: { decoration: '% ' },
  c: { decoration: '// ' },
  cblock: { beginning: '/*', decoration: ' * ', end: ' */' },
  xml: { beginning: '<!--', decoration: ' - ', end: '-->' },
};

/** Ansible's comment filter, option for option. */
function comment(text: string, style: string, kw: Kwargs): string {
  const styleParams = COMMENT_STYLES[style];
  if (!styleParams)
    throw new TemplateError(
      `comment: invalid style ${pyRepr(style)}; available styles: ${Object.keys(COMMENT_STYLES).join(', ')}`,
    );
  const prepostfix = String('decoration' in kw ? kw.decoration : styleParams.decoration);
  const p: Kwargs = {
    newline: '\n',
    beginning: '',
    prefix: prepostfix.trimEnd(),
    prefix_count: 1,
    decoration: '',
    postfix: prepostfix.trimEnd(),
    postfix_count: 1,
    end: '',
    ...styleParams,
    ...kw,
  };
  const nl = String(p.newline);
  const decoration = String(p.decoration);
  const prefix = String(p.prefix);
  const beginning = p.beginning ? `${String(p.beginning)}${nl}` : '';
  const prefixText = prefix ? (prefix !== nl ? `${prefix}${nl}` : nl).repeat(Number(p.prefix_count)) : '';
  const body = `${decoration}${text.split(nl).join(`${nl}${decoration}`)}`
    .split(`${decoration}${nl}`)
    .join(`${decoration.trimEnd()}${nl}`);
  const postfix = ['', ...Array.from({ length: Number(p.postfix_count) }, () => String(p.postfix))].join(nl);
  const end = p.end ? `${nl}${String(p.end)}` : '';
  return beginning + prefixText + body + postfix + end;
}

const SIZE_RANGES: [string, number][] = [
  ['Y', 2 ** 80],
  ['Z', 2 ** 70],
  ['E', 2 ** 60],
  ['P', 2 ** 50],
  ['T', 2 ** 40],
  ['G', 2 ** 30],
  ['M', 2 ** 20],
  ['K', 2 ** 10],
  ['B', 1],
];

/** Ansible's bytes_to_human: '1.15 GB', '1.15 Gb' (isbits), or in a forced unit. */
function humanReadable(size: number, isbits: boolean, unit: unknown): string {
  const wanted = unit === undefined || unit === null ? undefined : String(unit).toUpperCase()[0];
  if (wanted !== undefined && !SIZE_RANGES.some(([s]) => s === wanted))
    throw new TemplateError(
      `human_readable: unknown unit ${pyRepr(unit)} (use one of ${SIZE_RANGES.map(([s]) => s).join(', ')})`,
    );
  const [suffix, limit] =
    SIZE_RANGES.find(([s, l]) => (wanted === undefined ? size >= l : s === wanted)) ?? SIZE_RANGES.at(-1)!;
  const base = isbits ? 'bits' : 'Bytes';
  return `${pyFixed(size / limit, 2)} ${limit === 1 ? base : suffix + base[0]}`;
}

export const textFilters: Record<string, Filter> = {
  regex_escape(value: unknown, reType: unknown = 'python') {
    const s = pyStr(value);
    if (reType === 'python') return s.replace(PY_SPECIAL, (c) => `\\${c}`);
    if (reType === 'posix_basic') return s.replace(/[\].[^$*\\]/g, (c) => `\\${c}`);
    if (reType === 'posix_extended') return s.replace(/[\^$.*+?[\]|(){}\\]/g, (c) => `\\${c}`);
    throw new TemplateError(
      `regex_escape: invalid regex type ${pyRepr(reType)} (use python, posix_basic or posix_extended)`,
    );
  },
  path_join(value: unknown) {
    if (typeof value === 'string') return value;
    if (Array.isArray(value)) return pathJoin(value.map((p, i) => str(p, `path_join (item ${i})`)));
    throw new TemplateError(`path_join: expected a list of path parts or a string, got ${pyRepr(value)}`);
  },
  splitext: (value: unknown) => splitext(str(value, 'splitext')),
  expanduser: (value: unknown) => expanduser(str(value, 'expanduser')),
  hash: (value: unknown, hashtype: unknown = 'sha1') => digest(value, String(hashtype), 'hash'),
  md5: (value: unknown) => digest(value, 'md5', 'md5'),
  sha1: (value: unknown) => digest(value, 'sha1', 'sha1'),
  // Ansible: the sha1 of the string, as it checksums files.
  checksum: (value: unknown) => digest(value, 'sha1', 'checksum'),
  to_uuid(value: unknown, ...args: unknown[]) {
    const [pos, kw] = splitKwargs(args);
    return uuid5(pyStr(value), String(pos[0] ?? kw.namespace ?? UUID_NAMESPACE_ANSIBLE));
  },
  comment(value: unknown, ...args: unknown[]) {
    const [pos, kw] = splitKwargs(args);
    const { style = 'plain', ...options } = kw;
    return comment(str(value, 'comment'), String(pos[0] ?? style), options);
  },
  human_readable(value: unknown, ...args: unknown[]) {
    const [pos, kw] = splitKwargs(args);
    if (typeof value !== 'number')
      throw new TemplateError(`human_readable: expected a number of bytes (or bits), got ${pyRepr(value)}`);
    return humanReadable(value, (pos[0] ?? kw.isbits) === true, pos[1] ?? kw.unit);
  },
};
