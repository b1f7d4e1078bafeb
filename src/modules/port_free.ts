// port_free: a TCP port on the host is free, or held only by an expected process (e.g. our own forwarder).
// One round trip lists the listeners with ss, else netstat, else /proc/net/tcp (which names no process).
// Read-only: never changed, and it runs the same in check mode.
import { fail } from './kit.js';
import type { Module } from './module.js';
import { taskExecOptions } from './remote.js';

export interface Listener {
  address: string;
  port: number;
  /** Processes holding the socket; undefined when the listing cannot name them. */
  processes?: { name: string; pid: number }[];
}

export const LISTENERS_SCRIPT = [
  "if command -v ss >/dev/null 2>&1 && out=$(ss -tlnp 2>/dev/null); then echo '#ss'; printf '%s\\n' \"$out\"",
  "elif command -v netstat >/dev/null 2>&1 && out=$(netstat -tlnp 2>/dev/null); then echo '#netstat'; printf '%s\\n' \"$out\"",
  // Shell builtins only: a host without ss and netstat may lack other tools too.
  "elif [ -r /proc/net/tcp ]; then echo '#proc'",
  '  for f in /proc/net/tcp /proc/net/tcp6; do [ -r $f ] && while IFS= read -r l; do printf \'%s\\n\' "$l"; done < $f; done',
  "else echo 'found neither ss, netstat nor /proc/net/tcp on this host' >&2; exit 3; fi",
].join('\n');

/** `127.0.0.1:22`, `[::]:22`, `*:22`, `127.0.0.53%lo:53`, `:::22` -> address and port. */
function splitAddress(local: string): { address: string; port: number } | undefined {
  const colon = local.lastIndexOf(':');
  if (colon < 0) return undefined;
  const port = Number(local.slice(colon + 1));
  const address = local
    .slice(0, colon)
    .replace(/%.*$/, '')
    .replace(/^\[(.*)\]$/, '$1');
  return Number.isInteger(port) ? { address: address || '::', port } : undefined;
}

/** /proc/net/tcp's hex address: 32-bit words in host (little-endian) byte order. */
function procAddress(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((w) => (w.match(/../g) ?? []).reverse().map((b) => Number.parseInt(b, 16)));
  if (bytes.length === 4) return bytes.join('.');
  // An IPv4-mapped address (a dual-stack socket bound to an IPv4 address) reads as ::ffff:a.b.c.d.
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff)
    return `::ffff:${bytes.slice(12).join('.')}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  // The URL parser writes IPv6 addresses in their canonical short form.
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

/** Parses the output of LISTENERS_SCRIPT. */
export function parseListeners(stdout: string): { source: string; listeners: Listener[] } {
  const [first = '', ...rest] = stdout.split('\n');
  const source = first.replace(/^#/, '').trim();
  const listeners: Listener[] = [];
  for (const line of rest) {
    const t = line.trim().split(/\s+/);
    if (source === 'ss' && t[0] === 'LISTEN' && t[3]) {
      const at = splitAddress(t[3]);
      if (!at) continue;
      const users = t.slice(5).join(' ');
      const processes = [...users.matchAll(/\("([^"]*)",pid=(\d+)/g)].map((m) => ({
        name: m[1]!,
        pid: Number(m[2]),
      }));
      listeners.push({ ...at, ...(processes.length ? { processes } : {}) });
    } else if (source === 'netstat' && t[0]?.startsWith('tcp') && t[5] === 'LISTEN' && t[3]) {
      const at = splitAddress(t[3]);
      if (!at) continue;
      const m = /^(\d+)\/([^\s:]+)/.exec(t.slice(6).join(' '));
      listeners.push({ ...at, ...(m ? { processes: [{ name: m[2]!, pid: Number(m[1]) }] } : {}) });
    } else if (source === 'proc' && /^\d+:$/.test(t[0] ?? '') && t[3] === '0A' && t[1]) {
      const [hexAddress = '', hexPort = ''] = t[1].split(':');
      listeners.push({ address: procAddress(hexAddress), port: Number.parseInt(hexPort, 16) });
    }
  }
  return { source, listeners };
}

const WILDCARD = new Set(['0.0.0.0', '::', '*']);

/** Whether a socket bound to `address` keeps `wanted` from being bound on the same port. */
export function overlaps(address: string, wanted: string): boolean {
  const plain = (a: string) => a.replace(/^::ffff:/, '');
  return WILDCARD.has(address) || WILDCARD.has(wanted) || plain(address) === plain(wanted);
}

export const portFreeModule: Module = {
  name: 'port_free',
  summary: 'Check that a TCP port on the host is free, or held only by an expected process (never changed)',
  args: {
    type: 'object',
    additionalProperties: false,
    required: ['port'],
    properties: {
      port: { type: 'integer', minimum: 1, maximum: 65535, description: 'The TCP port' },
      host: {
        type: 'string',
        minLength: 1,
        default: '0.0.0.0',
        description: 'The address the port would be bound on (0.0.0.0: any listener on the port counts)',
      },
      allowed_process: {
        type: 'string',
        minLength: 1,
        description: "A process name or regular expression (whole name) that may hold the port, e.g. 'socat'",
      },
    },
  },
  check: 'full',
  async run(ctx, args) {
    const port = Number(args.port);
    const host = typeof args.host === 'string' ? args.host : '0.0.0.0';
    const r = await ctx.conn.exec(LISTENERS_SCRIPT, taskExecOptions(ctx));
    if (r.rc !== 0) return fail(`cannot list listening ports: ${r.stderr.trim() || `exit ${r.rc}`}`);
    const { source, listeners } = parseListeners(r.stdout);
    const holders = listeners.filter((l) => l.port === port && overlaps(l.address, host));
    const data = { port, host, free: holders.length === 0, listeners: holders, source };
    if (holders.length === 0) return { changed: false, msg: `port ${port} is free on ${host}`, data };

    const names = (l: Listener) => l.processes?.map((p) => `${p.name} (pid ${p.pid})`).join(', ');
    const who = holders.map((l) => `${names(l) ?? 'an unnamed process'} on ${l.address}`).join('; ');
    if (typeof args.allowed_process === 'string') {
      const allowed = new RegExp(`^(?:${args.allowed_process})$`);
      const unnamed = holders.some((l) => !l.processes);
      if (!unnamed && holders.every((l) => l.processes!.every((p) => allowed.test(p.name))))
        return { changed: false, msg: `port ${port} is held by ${who}: allowed`, data };
      if (unnamed)
        return fail(
          `port ${port} is in use (${who}) and ${source === 'proc' ? 'this host has neither ss nor netstat to name the process' : 'the process cannot be named: run with become'}`,
          data,
        );
    }
    return fail(`port ${port} is in use by ${who}`, data);
  },
};
