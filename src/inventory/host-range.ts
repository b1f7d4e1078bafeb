// Host keys as Ansible reads them: `name[:port]`, `[v6addr]:port`, and ranges `web[01:10].example.com`,
// `db-[a:c]`, `node[0:20:5]` (ansible/parsing/utils/addresses.py and plugins/inventory/__init__.py).
import { MAX_RANGE_HOSTS } from '../core/bounds.js';

const numericRange = String.raw`\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\]`;
const hexRange = String.raw`\[(?:[0-9a-f]+:[0-9a-f]+)(?::[0-9]+)?\]`;
const alnumRange = String.raw`\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]`;
const v6 = `(?:[0-9a-f]{1,4}|${hexRange})`;
const v4 = `(?:[01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]|${numericRange})`;
const label = String.raw`(?:[\p{L}\p{N}_]|${alnumRange})(?:[\p{L}\p{N}_-]|${alnumRange})*(?<![_-])`;
const asciiLabel = `(?:[a-z0-9_]|${alnumRange})(?:[a-z0-9_-]|${alnumRange})*(?<![_-])`;

const bracketedHostPort = /^\[(.+)\]:([0-9]+)$/;
const hostPort = /^((?:[^:[\]]|\[[^\]]*\])*):([0-9]+)$/;
export const ipv4 = new RegExp(`^(?:${v4}\\.){3}${v4}$`, 'i');
export const ipv6 = new RegExp(
  `^(?:${[
    `(?:${v6}:){7}${v6}`,
    `(?:${v6}:){1,6}:`,
    `(?:${v6}:)(?::${v6}){1,6}`,
    `(?:${v6}:){2}(?::${v6}){1,5}`,
    `(?:${v6}:){3}(?::${v6}){1,4}`,
    `(?:${v6}:){4}(?::${v6}){1,3}`,
    `(?:${v6}:){5}(?::${v6}){1,2}`,
    `(?:${v6}:){6}(?::${v6})`,
    `:(?::${v6}){1,6}`,
    `${v6}?::`,
    `(?:0:){6}(?:${v6}\\.){3}${v6}`,
    `::(?:ffff:)?(?:${v6}\\.){3}${v6}`,
    `(?:0:){5}ffff:(?:${v6}\\.){3}${v6}`,
  ].join('|')})$`,
  'i',
);
// The Unicode form costs ~10 ms to compile; ASCII names (nearly all) take the cheap one, same rules.
const asciiHostname = new RegExp(`^${asciiLabel}(?:\\.${asciiLabel})*$`, 'i');
let unicodeHostname: RegExp | undefined;
function isHostname(host: string): boolean {
  if (/^[ -~]*$/.test(host)) return asciiHostname.test(host);
  unicodeHostname ??= new RegExp(`^${label}(?:\\.${label})*$`, 'iu');
  return unicodeHostname.test(host);
}

/** Splits `host:port` / `[host]:port`; undefined when the text is not a host address at all. */
export function parseAddress(text: string): { host: string; port?: number } | undefined {
  let host = text;
  let port: number | undefined;
  for (const re of [bracketedHostPort, hostPort]) {
    const m = re.exec(host);
    if (m) {
      host = m[1]!;
      port = Number(m[2]);
    }
  }
  if (!isHostname(host) && !ipv4.test(host) && !ipv6.test(host)) return undefined;
  return port === undefined ? { host } : { host, port };
}

export class HostRangeError extends Error {}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** One `[begin:end(:step)]` of a host name: how many items it gives and the i-th of them. */
interface HostRange {
  count: number;
  item(i: number): string;
}

/** Expands every `[begin:end(:step)]` in a host name, left to right, as Ansible does. */
export function expandHostRange(name: string): string[] {
  const parts = splitHostRanges(name);
  let total = 1;
  for (const part of parts) if (typeof part !== 'string') total *= part.count;
  // Counted before a name is built: `web[1:100000000]` must fail at once, not after filling memory.
  if (total > MAX_RANGE_HOSTS)
    throw new HostRangeError(
      `it names ${total.toLocaleString('en')} hosts, over the limit of ${MAX_RANGE_HOSTS.toLocaleString('en')} hosts per range`,
    );
  let names = [''];
  for (const part of parts) {
    if (typeof part === 'string') names = names.map((n) => n + part);
    else names = names.flatMap((n) => Array.from({ length: part.count }, (_, i) => n + part.item(i)));
  }
  return names;
}

function splitHostRanges(name: string): (string | HostRange)[] {
  const parts: (string | HostRange)[] = [];
  let rest = name;
  for (;;) {
    const open = rest.indexOf('[');
    if (open < 0) break;
    const close = rest.indexOf(']', open);
    if (close < 0) throw new HostRangeError(`unclosed '[' in host range '${name}'`);
    parts.push(rest.slice(0, open), hostRange(rest.slice(open + 1, close).split(':')));
    rest = rest.slice(close + 1);
  }
  parts.push(rest);
  return parts;
}

function hostRange(bounds: string[]): HostRange {
  if (bounds.length !== 2 && bounds.length !== 3)
    throw new HostRangeError('host range must be begin:end or begin:end:step');
  const begin = bounds[0] || '0';
  const end = bounds[1]!;
  const step = bounds.length === 3 ? Number(bounds[2]) : 1;
  if (!end) throw new HostRangeError('host range must specify end value');
  if (!Number.isSafeInteger(step) || step < 1) throw new HostRangeError(`bad host range step '${bounds[2]}'`);
  let width = 0;
  if (begin[0] === '0' && begin.length > 1) {
    if (begin.length !== end.length)
      throw new HostRangeError('host range must specify equal-length begin and end formats');
    width = begin.length;
  }
  const iBegin = begin.length === 1 ? LETTERS.indexOf(begin) : -1;
  const iEnd = end.length === 1 ? LETTERS.indexOf(end) : -1;
  if (iBegin >= 0 && iEnd >= 0) {
    if (iBegin > iEnd) throw new HostRangeError('host range must have begin <= end');
    return { count: Math.floor((iEnd - iBegin) / step) + 1, item: (i) => LETTERS[iBegin + i * step]! };
  }
  if (!/^[0-9]+$/.test(begin) || !/^[0-9]+$/.test(end))
    throw new HostRangeError(`host range [${bounds.join(':')}] must be numbers or single letters`);
  const [from, to] = [Number(begin), Number(end)];
  if (!Number.isSafeInteger(to))
    throw new HostRangeError(`host range [${bounds.join(':')}] has an end too large to count to`);
  return {
    count: from > to ? 0 : Math.floor((to - from) / step) + 1,
    item: (i) => String(from + i * step).padStart(width, '0'),
  };
}

/** A host key: its names (ranges expanded) and a port written as `name:port`. */
export function parseHostKey(key: string): { names: string[]; port?: number } {
  const address = parseAddress(key);
  const pattern = address?.host ?? key;
  const names = pattern.includes('[') ? expandHostRange(pattern) : [pattern];
  return address?.port === undefined ? { names } : { names, port: address.port };
}
