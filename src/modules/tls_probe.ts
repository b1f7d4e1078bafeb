// tls_probe: step A3.4 (`openssl s_client -connect 127.0.0.1:9443`) done by ewsplay. The TCP connection is
// opened FROM the task's host (ctx.conn.forwardOut: an SSH direct-tcpip channel, or a plain socket for a
// local host), and the TLS handshake runs here on the control node over it, so nothing is needed on the
// host. The certificate is accepted whatever it is during the handshake and judged afterwards, so the
// result carries both its details and the verdict.
//
// A forwarder (socat) completes the client's handshake BEFORE it connects its backend, so a handshake proves
// nothing about what lies behind it. With `http_path`, an HTTP request goes through the TLS session after
// the handshake: any HTTP status (a 401 included) is an answer from behind; a closed connection or silence
// means the backend is down or refuses. `expect_certificate(_file)` pins the certificate served (the one the
// installer's form must hold).
//
// Read-only: never changed, and it runs in check mode too (check: 'full').
import { X509Certificate } from 'node:crypto';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import type * as Tls from 'node:tls';
import type { PeerCertificate, SecureVersion } from 'node:tls';
import { fail } from './kit.js';
import type { Module, ModuleContext } from './module.js';
import { readControlFile } from './remote.js';

// Node's tls loads with the first probe, not with every run that merely has this module registered.
const tlsLib = () => createRequire(import.meta.url)('node:tls') as typeof Tls;

const VERSIONS: SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
const DAY_MS = 86_400_000;

interface ProbeArgs {
  host: string;
  port: number;
  server_name?: string;
  ca_file?: string;
  ca_pem?: string;
  http_path?: string;
  expect_certificate?: string;
  expect_certificate_file?: string;
  expect_subject?: string;
  min_days_valid?: number;
  min_version: SecureVersion;
  verify: boolean;
  timeout: number;
}

export interface CertificateFacts {
  protocol: string;
  cipher: string;
  subject: string;
  subject_cn?: string;
  subject_alt_names: string[];
  issuer: string;
  valid_from: string;
  valid_to: string;
  days_left: number;
  fingerprint256: string;
  serial: string;
  self_signed: boolean;
  trusted: boolean;
  trust_error?: string;
  /** The certificate served (the leaf), as PEM: what a client must be given to trust it. */
  pem: string;
}

/** What came back for the HTTP request sent through the TLS session (http_path). */
export interface HttpAnswer {
  http_status: number;
  /** The WWW-Authenticate schemes offered (Negotiate, NTLM, Basic ...), in order. */
  http_auth: string[];
}

export const tlsProbeModule: Module = {
  name: 'tls_probe',
  summary:
    'TLS handshake to HOST:PORT made from the host: report protocol, cipher, certificate subject, issuer, expiry; judge trust',
  args: {
    type: 'object',
    additionalProperties: false,
    required: ['port'],
    properties: {
      host: {
        type: 'string',
        minLength: 1,
        default: '127.0.0.1',
        description: "Address to connect to, as the task's host sees it",
      },
      port: { type: 'integer', minimum: 1, maximum: 65535, description: 'TCP port (the forwarder: 9443)' },
      server_name: {
        type: 'string',
        minLength: 1,
        description: 'SNI name to send (default: host, unless it is an IP address)',
      },
      ca_file: {
        type: 'string',
        minLength: 1,
        description: 'Control-node PEM file of the CA (or the certificate itself) to trust',
      },
      ca_pem: { type: 'string', minLength: 1, description: 'The same as inline PEM text' },
      http_path: {
        type: 'string',
        pattern: '^/[\\x21-\\x7e]*$',
        description:
          'After the handshake, GET this path through the TLS session: any HTTP status (401 too) proves an answer from behind a forwarder',
      },
      expect_certificate: {
        type: 'string',
        minLength: 1,
        description: 'PEM of the certificate the server must serve (compared byte for byte, DER)',
      },
      expect_certificate_file: {
        type: 'string',
        minLength: 1,
        description: 'The same, read from a control-node file',
      },
      expect_subject: {
        type: 'string',
        minLength: 1,
        description: 'Name the certificate must be for: its subject CN, or a name its subjectAltName covers',
      },
      min_days_valid: {
        type: 'integer',
        minimum: 0,
        description: 'Fail when the certificate expires in fewer days',
      },
      min_version: {
        type: 'string',
        enum: VERSIONS,
        default: 'TLSv1.2',
        description: 'Lowest TLS version offered (below TLSv1.2 also lowers the OpenSSL security level)',
      },
      verify: {
        type: 'boolean',
        default: true,
        description: 'false: report trust and validity without failing on them (as openssl s_client does)',
      },
      timeout: { type: 'integer', minimum: 1, default: 10, description: 'Seconds for connect and handshake' },
    },
    not: { properties: { ca_file: true, ca_pem: true }, required: ['ca_file', 'ca_pem'] },
  },
  check: 'full',
  async run(ctx, rawArgs) {
    const args = withDefaults(rawArgs);
    const target = `${args.host}:${args.port}`;
    const from = ctx.host;
    let ca: string | undefined;
    let expected: { cert: X509Certificate; source: string } | undefined;
    try {
      ca = await loadCa(ctx, args);
      expected = await loadExpected(ctx, args);
    } catch (e) {
      return fail((e as Error).message);
    }
    let duplex: Duplex;
    try {
      duplex = await ctx.conn.forwardOut(args.host, args.port, { timeoutMs: args.timeout * 1000 });
    } catch (e) {
      return fail(connectProblem(e, target, from, args.timeout));
    }
    const offered = offeredVersions(args.min_version);
    let session: { facts: CertificateFacts; http?: HttpAnswer | { problem: string } };
    try {
      session = await handshake(duplex, args, ca);
    } catch (e) {
      return fail(
        `TLS handshake with ${target} (from ${from}) failed: the client offered ${offered}; ${handshakeProblem(e)}`,
      );
    }
    const { facts, http } = session;
    const answer = http && 'http_status' in http ? http : undefined;
    const data = { host: args.host, port: args.port, from, offered, ...facts, ...(answer ?? {}) };
    const problems = judge(facts, args, Date.now());
    if (expected) {
      const served = new X509Certificate(facts.pem);
      if (!served.raw.equals(expected.cert.raw))
        problems.push(
          `the certificate served is not the one in ${expected.source} (served: ${served.fingerprint256}, ${expected.source}: ${expected.cert.fingerprint256})`,
        );
    }
    if (http && 'problem' in http)
      problems.push(
        `the TLS handshake succeeded, but the HTTP request for ${args.http_path} through it got no answer (${http.problem}): what is behind ${target} (a forwarder's backend, EWS) is down or refuses the connection`,
      );
    const heard = answer
      ? `; GET ${args.http_path} answered HTTP ${answer.http_status}${answer.http_auth.length ? ` (WWW-Authenticate: ${answer.http_auth.join(', ')})` : ''}`
      : '';
    const summary = `${facts.protocol} (${facts.cipher}) at ${target} from ${from}: ${facts.subject}, issued by ${facts.issuer}, valid until ${facts.valid_to} (${facts.days_left} days left), ${facts.trusted ? 'trusted' : `not trusted: ${facts.trust_error}`}${heard}`;
    if (problems.length > 0) return fail(`${problems.join('; ')}\n${summary}`, data);
    return { changed: false, msg: summary, data };
  },
};

async function loadCa(ctx: ModuleContext, args: ProbeArgs): Promise<string | undefined> {
  let pem = args.ca_pem;
  let source = 'ca_pem';
  if (args.ca_file) {
    const file = await readControlFile(ctx, args.ca_file, 'files');
    pem = file.content.toString('utf8');
    source = file.path;
  }
  if (pem !== undefined && !pem.includes('-----BEGIN CERTIFICATE-----'))
    throw new Error(`${source} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  return pem;
}

async function loadExpected(
  ctx: ModuleContext,
  args: ProbeArgs,
): Promise<{ cert: X509Certificate; source: string } | undefined> {
  let pem = args.expect_certificate;
  let source = 'expect_certificate';
  if (args.expect_certificate_file) {
    const file = await readControlFile(ctx, args.expect_certificate_file, 'files');
    pem = file.content.toString('utf8');
    source = file.path;
  }
  if (pem === undefined) return undefined;
  const block = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
  if (!block) throw new Error(`${source} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  try {
    return { cert: new X509Certificate(block), source };
  } catch (e) {
    throw new Error(`${source}: the certificate cannot be read (${(e as Error).message})`);
  }
}

/** "TLSv1.2 to TLSv1.3", the versions the probe offers. */
export function offeredVersions(min: SecureVersion): string {
  return min === 'TLSv1.3' ? 'TLSv1.3 only' : `${min} to TLSv1.3`;
}

function handshake(
  duplex: Duplex,
  args: ProbeArgs,
  ca: string | undefined,
): Promise<{ facts: CertificateFacts; http?: HttpAnswer | { problem: string } }> {
  const servername = args.server_name ?? (isIP(args.host) ? undefined : args.host);
  const oldTls = args.min_version === 'TLSv1' || args.min_version === 'TLSv1.1';
  return new Promise((resolve, reject) => {
    const socket = tlsLib().connect({
      socket: duplex,
      ...(servername ? { servername } : {}),
      ...(ca ? { ca } : {}),
      rejectUnauthorized: false,
      // The name is judged below against expect_subject: a probe of 127.0.0.1 has no name to check.
      checkServerIdentity: () => undefined,
      minVersion: args.min_version,
      maxVersion: 'TLSv1.3',
      ...(oldTls ? { ciphers: 'DEFAULT@SECLEVEL=0' } : {}),
    });
    let timer = setTimeout(() => {
      socket.destroy();
      duplex.destroy();
      reject(new Error(`no handshake within ${args.timeout} s`));
    }, args.timeout * 1000);
    const settle = (e?: Error) => {
      clearTimeout(timer);
      if (e) reject(e);
      socket.destroy();
      duplex.destroy();
    };
    socket.once('error', (e) => settle(e));
    socket.once('close', () =>
      settle(Object.assign(new Error('the server closed the connection'), { code: 'ECONNRESET' })),
    );
    socket.once('secureConnect', () => {
      let facts: CertificateFacts;
      try {
        facts = describe(socket);
      } catch (e) {
        settle(e as Error);
        return;
      }
      const path = args.http_path;
      if (path === undefined) {
        resolve({ facts });
        settle();
        return;
      }
      // After the handshake: one HTTP request through the session, answered or not within the timeout.
      socket.removeAllListeners('close');
      socket.removeAllListeners('error');
      clearTimeout(timer);
      let answered = false;
      const done = (http: HttpAnswer | { problem: string }) => {
        if (answered) return;
        answered = true;
        clearTimeout(timer);
        resolve({ facts, http });
        socket.destroy();
        duplex.destroy();
      };
      timer = setTimeout(() => done({ problem: `no answer within ${args.timeout} s` }), args.timeout * 1000);
      let head = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => {
        head += chunk;
        const end = head.indexOf('\r\n\r\n');
        if (end >= 0 || head.length > 16_384) done(parseHttpHead(head.slice(0, end >= 0 ? end : undefined)));
      });
      socket.once('end', () => done(head ? parseHttpHead(head) : { problem: 'the connection was closed' }));
      socket.once('close', () => done({ problem: 'the connection was closed' }));
      socket.once('error', (e: NodeJS.ErrnoException) =>
        done({
          problem:
            e.code === 'ECONNRESET'
              ? 'the connection was reset'
              : `the connection failed: ${e.code ?? e.message}`,
        }),
      );
      const host = args.server_name ?? args.host;
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${host.includes(':') ? `[${host}]` : host}:${args.port}\r\nUser-Agent: ewsplay tls_probe\r\nConnection: close\r\n\r\n`,
      );
    });
  });
}

/** The status and WWW-Authenticate schemes of an HTTP response head, or why it is none. */
export function parseHttpHead(head: string): HttpAnswer | { problem: string } {
  const [statusLine = '', ...headers] = head.split('\r\n');
  const m = /^HTTP\/\d(?:\.\d)? (\d{3})\b/.exec(statusLine);
  if (!m?.[1]) return { problem: `the answer is not HTTP (${JSON.stringify(statusLine.slice(0, 60))})` };
  const auth = headers
    .filter((h) => /^www-authenticate:/i.test(h))
    .flatMap((h) => h.slice(h.indexOf(':') + 1).split(','))
    .map((v) => v.trim().split(/\s+/)[0] ?? '')
    .filter((v) => /^[A-Za-z][\w-]*$/.test(v) && !v.includes('='));
  return { http_status: Number(m[1]), http_auth: auth };
}

function describe(socket: Tls.TLSSocket): CertificateFacts {
  const cert = socket.getPeerCertificate(true);
  if (!cert || Object.keys(cert).length === 0) throw new Error('the server sent no certificate');
  const validTo = new Date(cert.valid_to);
  const facts: CertificateFacts = {
    protocol: socket.getProtocol() ?? 'unknown',
    cipher: socket.getCipher().name,
    subject: dn(cert.subject),
    subject_alt_names: (cert.subjectaltname ?? '').split(/,\s*/).filter((s) => s !== ''),
    issuer: dn(cert.issuer),
    valid_from: new Date(cert.valid_from).toISOString(),
    valid_to: validTo.toISOString(),
    days_left: Math.floor((validTo.getTime() - Date.now()) / DAY_MS),
    fingerprint256: cert.fingerprint256,
    serial: cert.serialNumber,
    self_signed: cert.issuerCertificate === cert || dn(cert.subject) === dn(cert.issuer),
    trusted: socket.authorized,
    pem: new X509Certificate(cert.raw).toString(),
  };
  const cn = first(cert.subject?.CN);
  if (cn !== undefined) facts.subject_cn = cn;
  if (!socket.authorized) facts.trust_error = trustProblem(String(socket.authorizationError));
  return facts;
}

/** Everything wrong with the certificate, in the order a person should fix it. */
export function judge(
  facts: CertificateFacts,
  args: Pick<ProbeArgs, 'verify' | 'expect_subject' | 'min_days_valid'>,
  now: number,
): string[] {
  const problems: string[] = [];
  if (args.verify) {
    if (Date.parse(facts.valid_from) > now)
      problems.push(`the certificate is not valid yet (from ${facts.valid_from})`);
    if (Date.parse(facts.valid_to) < now) problems.push(`the certificate expired on ${facts.valid_to}`);
    if (!facts.trusted && !/expired|not valid yet/.test(facts.trust_error ?? ''))
      problems.push(`the certificate is not trusted: ${facts.trust_error}`);
  }
  if (args.expect_subject !== undefined && !coversName(facts, args.expect_subject))
    problems.push(
      `the certificate is for ${[facts.subject_cn, ...facts.subject_alt_names].filter(Boolean).join(', ') || facts.subject}, not ${args.expect_subject}`,
    );
  if (
    args.min_days_valid !== undefined &&
    facts.days_left < args.min_days_valid &&
    Date.parse(facts.valid_to) >= now
  )
    problems.push(
      `the certificate expires in ${facts.days_left} days (${facts.valid_to}), fewer than ${args.min_days_valid}`,
    );
  return problems;
}

function coversName(facts: CertificateFacts, name: string): boolean {
  if (facts.subject_cn === name) return true;
  const altNames = facts.subject_alt_names.join(', ');
  if (altNames === '') return false;
  // Node's own RFC 6125 matching (wildcards, IP addresses) over the certificate's names.
  const asCert = { subject: { CN: facts.subject_cn ?? '' }, subjectaltname: altNames } as PeerCertificate;
  return tlsLib().checkServerIdentity(name, asCert) === undefined;
}

function trustProblem(code: string): string {
  switch (code) {
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
      return 'it is self-signed; give ca_file (the certificate itself) to trust it';
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
      return `it is issued by an unknown CA (${code}); give ca_file with the CA that issued it`;
    case 'CERT_HAS_EXPIRED':
      return 'it has expired';
    case 'CERT_NOT_YET_VALID':
      return 'it is not valid yet';
    default:
      return code;
  }
}

function connectProblem(e: unknown, target: string, from: string, timeout: number): string {
  const err = e as NodeJS.ErrnoException;
  const text = err.message ?? String(e);
  if (err.code === 'ECONNREFUSED' || /refused/i.test(text))
    return `nothing listens on ${target} on ${from}: is the forwarder running?`;
  if (err.name === 'TimeoutError' || err.code === 'ETIMEDOUT')
    return `no answer from ${target} (from ${from}) within ${timeout} s: a firewall dropping packets?`;
  if (/prohibited|open failed/i.test(text))
    return `${from} refused to open a connection to ${target} for ewsplay (${text}): sshd there must allow TCP forwarding (AllowTcpForwarding)`;
  return `cannot connect to ${target} from ${from}: ${text}`;
}

function handshakeProblem(e: unknown): string {
  const err = e as Error & { code?: string; reason?: string };
  const said = err.reason ?? err.message;
  if (/wrong version number|packet length too long|http request/i.test(said))
    return `the server did not answer in TLS (${said}): is this a plain TCP or HTTP port?`;
  if (err.code === 'ECONNRESET')
    return 'the server closed the connection during the handshake (a TLS version or cipher it does not accept?)';
  return `the server said: ${said}${err.code && !said.includes(err.code) ? ` (${err.code})` : ''}`;
}

function dn(name: Tls.Certificate | undefined): string {
  if (!name) return '';
  return Object.entries(name)
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${k}=${x}`))
    .join(', ');
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function withDefaults(a: Record<string, unknown>): ProbeArgs {
  const str = (k: string) => (typeof a[k] === 'string' ? (a[k] as string) : undefined);
  const out: ProbeArgs = {
    host: str('host') ?? '127.0.0.1',
    port: Number(a.port),
    min_version: (str('min_version') as SecureVersion | undefined) ?? 'TLSv1.2',
    verify: a.verify !== false,
    timeout: typeof a.timeout === 'number' ? a.timeout : 10,
  };
  for (const k of [
    'server_name',
    'ca_file',
    'ca_pem',
    'http_path',
    'expect_certificate',
    'expect_certificate_file',
    'expect_subject',
  ] as const) {
    const v = str(k);
    if (v !== undefined) out[k] = v;
  }
  if (typeof a.min_days_valid === 'number') out.min_days_valid = a.min_days_valid;
  return out;
}
