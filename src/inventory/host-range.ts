// Host keys as Ansible reads them: `name[:port]`, `[v6addr]:port`, and ranges `web[01:10].example.com`,
// `db-[a:c]`, `node[0:20:5]` (ansible/parsing/utils/addresses.py and plugins/inventory/__init__.py).

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

/** Expands every `[begin:end(:step)]` in a host name, left to right, as Ansible does. */
export function expandHostRange(name: string): string[] {
  const open = name.indexOf('[');
  if (open < 0) return [name];
  const close = name.indexOf(']', open);
  if (close < 0) throw new HostRangeError(`unclosed '[' in host range '${name}'`);
  const head = name.slice(0, open);
  const tail = name.slice(close + 1);
  const bounds = name.slice(open + 1, close).split(':');
  if (bounds.length !== 2 && bounds.length !== 3)
    throw new HostRangeError('host range must be begin:end or begin:end:step');
  const begin = bounds[0] || '0';
  const end = bounds[1]!;
  const step = bounds.length === 3 ? Number(bounds[2]) : 1;
  if (!end) throw new HostRangeError('host range must specify end value');
  if (!Number.isInteger(step) || step < 1) throw new HostRangeError(`bad host range step '${bounds[2]}'`);
  let width = 0;
  if (begin[0] === '0' && begin.length > 1) {
    if (begin.length !== end.length)
      throw new HostRangeError('host range must specify equal-length begin and end formats');
    width = begin.length;
  }
  const items: string[] = [];
  const iBegin = begin.length === 1 ? LETTERS.indexOf(begin) : -1;
  const iEnd = end.length === 1 ? LETTERS.indexOf(end) : -1;
  if (iBegin >= 0 && iEnd >= 0) {
    if (iBegin > iEnd) throw new HostRangeError('host range must have begin <= end');
    for (let i = iBegin; i <= iEnd; i += step) items.push(LETTERS[i]!);
  } else {
    if (!/^[0-9]+$/.test(begin) || !/^[0-9]+$/.test(end))
      throw new HostRangeError(`host range [${bounds.join(':')}] must be numbers or single letters`);
    for (let i = Number(begin); i <= Number(end); i += step) items.push(String(i).padStart(width, '0'));
  }
  return items.flatMap((item) => expandHostRange(`${head}${item}${tail}`));
}

/** A host key: its names (ranges expanded) and a port written as `name:port`. */
export function parseHostKey(key: string): { names: string[]; port?: number } {
  const address = parseAddress(key);
  const pattern = address?.host ?? key;
  const names = pattern.includes('[') ? expandHostRange(pattern) : [pattern];
  return address?.port === undefined ? { names } : { names, port: address.port };
}
