// A fake Exchange 2013 EWS endpoint for tests: HTTPS, Windows authentication (NTLM; Basic when turned on, see
// ews-auth.ts), impersonation rights per mailbox, the folder
// tree of a real mailbox, and SOAP 1.1 replies and faults shaped as Exchange 2013 sends them. This module is
// the HTTP side (authentication, RequestServerVersion, impersonation); ews-operations.ts carries out the
// operations on ews-mailbox.ts's mailboxes and ews-soap.ts frames the replies.
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { SecureVersion } from 'node:tls';
import {
  type AuthFailure,
  type AuthScheme,
  EwsAuthentication,
  type WindowsAuthProvider,
} from './ews-auth.js';
import { type FakeEvent, FakeMailbox } from './ews-mailbox.js';
import { operate } from './ews-operations.js';
import {
  checkRequestServerVersion,
  EXCHANGE_2013_OPERATIONS,
  envelopeOf,
  faultOf,
  NS,
  SoapFault,
  schemaFault,
} from './ews-soap.js';
import { type Ca, type IssuedCert, issueCert, makeCa } from './pki.js';
import { child, descendants, esc, parseXml } from './xml.js';

export type { FakeEvent } from './ews-mailbox.js';
export const EWS_PATH = '/EWS/Exchange.asmx';

/**
 * TLS profile: modern (1.2-1.3), Exchange 2013's usual 1.2 only, or an old server speaking only 1.1 or only
 * 1.0 (an Exchange 2013 on a Windows that offers nothing newer: the case VK's forwarder exists for).
 */
export type FakeTls = 'modern' | 'tls1.2-only' | 'tls1.1-only' | 'tls1.0-only';

export interface FakeEwsOptions {
  /** Accounts that may log in, with their passwords: `user`, `DOMAIN\user` or `user@domain`. */
  users: Record<string, string>;
  /** Basic authentication, off by default as on Exchange's EWS virtual directory (the lab's switch). */
  basicAuth?: boolean;
  /** Windows authentication providers offered in the 401, in order (default Negotiate, NTLM). */
  windowsAuthProviders?: WindowsAuthProvider[];
  /** Accounts locked out or disabled in Active Directory: their correct password still gets a 401. */
  lockedAccounts?: string[];
  /** Mailboxes (SMTP addresses) that exist; matched case-insensitively, as Exchange does. */
  mailboxes: string[];
  /** Accounts holding the ApplicationImpersonation role from the start. */
  impersonators?: string[];
  /**
   * Mailboxes an account may not impersonate although it holds the role (its role assignment's management
   * scope leaves them out): account -> SMTP addresses, answered with ErrorImpersonateUserDenied.
   */
  impersonationDeniedFor?: Record<string, string[]>;
  tls?: FakeTls;
  /** Certificate to serve; by default one for localhost/127.0.0.1 from a CA made for this server. */
  cert?: IssuedCert;
  /** Milliseconds to wait before answering every request. */
  delayMs?: number;
  /**
   * Accounts granted the role since start-up, asked on every request (the lab reads the PowerShell
   * stand-in's grants here, so impersonation works only once the impersonation task has run).
   */
  grantedImpersonators?: () => Iterable<string>;
  /** Called with each request once it has been answered. */
  onRequest?: (request: FakeRequest) => void;
}

export interface FakeRequest {
  operation: string;
  account?: string;
  /** The scheme of the request's Authorization header, or of the connection NTLM authenticated. */
  auth?: AuthScheme;
  /** Why it got a 401, if it did. */
  authFailure?: AuthFailure;
  /** The SMTP address in ExchangeImpersonation/ConnectingSID, if any. */
  impersonated?: string;
  anchorMailbox?: string;
  status: number;
  /** Response code sent (NoError, ErrorImpersonateUserDenied, ...). */
  responseCode?: string;
  sendMeetingInvitations?: string;
}

export interface FakeEws {
  url: string;
  port: number;
  /** PEM of the CA that issued the server certificate (undefined when opts.cert was given). */
  caPem: string | undefined;
  ca: Ca | undefined;
  requests: FakeRequest[];
  /** The calendar of a mailbox (a live array). */
  events(mailbox: string): FakeEvent[];
  /** The items of one of a mailbox's folders by distinguished name, e.g. deleteditems (a live array). */
  folderItems(mailbox: string, folder: string): FakeEvent[];
  grantImpersonation(account: string): void;
  revokeImpersonation(account: string): void;
  /** Takes one mailbox out of (or back into) what an account may impersonate, keeping its other rights. */
  denyImpersonation(account: string, mailbox: string): void;
  allowImpersonation(account: string, mailbox: string): void;
  /** Answer the next `count` requests with an HTTP 500 and an empty body (ews-javascript-api issue #364). */
  failNextWithEmpty500(count?: number): void;
  setDelay(ms: number): void;
  close(): Promise<void>;
}

const VERSIONS: Record<FakeTls, { minVersion: SecureVersion; maxVersion: SecureVersion; ciphers?: string }> =
  {
    modern: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' },
    'tls1.2-only': { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' },
    // OpenSSL 3 refuses TLS < 1.2 at the default security level.
    'tls1.1-only': { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' },
    'tls1.0-only': { minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' },
  };

export async function startFakeEws(opts: FakeEwsOptions): Promise<FakeEws> {
  const ca = opts.cert ? undefined : await makeCa('Fake Exchange CA');
  const cert = opts.cert ?? (await issueCert(ca as Ca, 'localhost', ['localhost', '127.0.0.1']));
  const impersonators = new Set(opts.impersonators ?? []);
  const mailboxes = new Map(
    opts.mailboxes.map((m) => [m.toLowerCase(), new FakeMailbox(m, displayNameOf(m))]),
  );
  const denied = new Map(
    Object.entries(opts.impersonationDeniedFor ?? {}).map(([a, ms]) => [
      a,
      new Set(ms.map((m) => m.toLowerCase())),
    ]),
  );
  const requests: FakeRequest[] = [];
  const authentication = new EwsAuthentication({
    users: opts.users,
    ...(opts.basicAuth !== undefined ? { basicAuth: opts.basicAuth } : {}),
    ...(opts.windowsAuthProviders ? { windowsAuthProviders: opts.windowsAuthProviders } : {}),
    ...(opts.lockedAccounts ? { lockedAccounts: opts.lockedAccounts } : {}),
    // The Active Directory domain is named after the mail domain, as on most sites.
    dnsDomain: opts.mailboxes[0]?.split('@')[1] ?? 'corp.example',
  });
  let empty500 = 0;
  let delayMs = opts.delayMs ?? 0;

  const mailboxOf = (smtp: string): FakeMailbox | undefined => mailboxes.get(smtp.toLowerCase());
  const mayImpersonate = (account: string, mailbox: FakeMailbox): boolean => {
    for (const a of opts.grantedImpersonators?.() ?? []) impersonators.add(a);
    return impersonators.has(account) && !denied.get(account)?.has(mailbox.smtp.toLowerCase());
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, body: string): Promise<FakeRequest> => {
    const entry: FakeRequest = { operation: '?', status: 0 };
    const anchor = req.headers['x-anchormailbox'];
    if (typeof anchor === 'string') entry.anchorMailbox = anchor;
    requests.push(entry);
    const send = (status: number, xml: string, headers: Record<string, string | string[]> = {}) => {
      entry.status = status;
      res.writeHead(status, { 'Content-Type': 'text/xml; charset=utf-8', ...headers });
      res.end(xml);
    };
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    if (req.url?.split('?')[0]?.toLowerCase() !== EWS_PATH.toLowerCase()) {
      entry.status = 404;
      res.writeHead(404).end();
      return entry;
    }
    const login = authentication.check(req);
    if (login.scheme) entry.auth = login.scheme;
    if (!login.ok) {
      // IIS offers every enabled scheme (or sends the NTLM challenge), one header each, with an empty body.
      entry.status = 401;
      if (login.failure) entry.authFailure = login.failure;
      res.writeHead(401, { 'WWW-Authenticate': login.authenticate, 'Content-Length': '0' });
      res.end();
      return entry;
    }
    const account = login.account;
    entry.account = account;
    if (empty500 > 0) {
      empty500--;
      entry.status = 500;
      res.writeHead(500, { 'Content-Length': '0' }).end();
      return entry;
    }
    if (req.method !== 'POST') {
      // Exchange answers a browser's GET with an HTML service page; clients never need it.
      entry.status = 200;
      res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html><body>EWS</body></html>');
      return entry;
    }
    try {
      const envelope = parseXml(body);
      const soapBody = child(envelope, 'Body', NS.soap);
      const op = soapBody?.children[0];
      if (envelope.local !== 'Envelope' || envelope.ns !== NS.soap || !op) {
        throw new SoapFault('ErrorInvalidRequest', 'The request is invalid.');
      }
      entry.operation = op.local;
      const header = child(envelope, 'Header', NS.soap);
      checkRequestServerVersion(child(header, 'RequestServerVersion')?.attrs.Version);
      if (op.ns !== NS.m || !EXCHANGE_2013_OPERATIONS.has(op.local)) {
        throw schemaFault(
          `The element 'Body' in namespace '${NS.soap}' has invalid child element '${op.local}' in namespace '${op.ns}'.`,
        );
      }
      const sid = descendants(header, 'ConnectingSID')[0];
      const target =
        child(sid, 'SmtpAddress') ?? child(sid, 'PrimarySmtpAddress') ?? child(sid, 'PrincipalName');
      if (sid && !target) throw new SoapFault('ErrorInvalidRequest', 'ConnectingSID needs an SMTP address.');
      // Without impersonation the request acts on the caller's own mailbox, which a service account may lack.
      let mailbox = mailboxOf(account);
      if (target) {
        const address = target.text.trim();
        entry.impersonated = address;
        mailbox = mailboxOf(address);
        if (!mailbox) {
          throw new SoapFault(
            'ErrorNonExistentMailbox',
            'The SMTP address has no mailbox associated with it.',
            `<t:Value Name="SmtpAddress">${esc(address)}</t:Value>`,
          );
        }
        if (!mayImpersonate(account, mailbox)) {
          throw new SoapFault(
            'ErrorImpersonateUserDenied',
            'The account does not have permission to impersonate the requested user.',
          );
        }
      }
      const xml = operate(op, {
        mailbox,
        directory: mailboxOf,
        allMailboxes: () => [...mailboxes.values()],
        notes: entry,
      });
      entry.responseCode ??= 'NoError';
      send(200, envelopeOf(xml));
    } catch (e) {
      if (e instanceof SoapFault) {
        entry.responseCode = e.code;
        send(500, faultOf(e));
      } else {
        entry.responseCode = 'ErrorSchemaValidation';
        send(
          500,
          faultOf(new SoapFault('ErrorSchemaValidation', `The request failed schema validation: ${e}`)),
        );
      }
    }
    return entry;
  };

  const sockets = new Set<Socket>();
  const server = https.createServer({
    cert: cert.certPem,
    key: cert.keyPem,
    ...VERSIONS[opts.tls ?? 'modern'],
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void handle(req, res, Buffer.concat(chunks).toString('utf8')).then((entry) => opts.onRequest?.(entry));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `https://localhost:${port}${EWS_PATH}`,
    port,
    caPem: ca?.certPem,
    ca,
    requests,
    events: (mailbox) => {
      const box = mailboxOf(mailbox);
      if (!box) throw new Error(`fake EWS: no mailbox ${mailbox}`);
      return box.wellKnown('calendar').items;
    },
    folderItems: (mailbox, folder) => {
      const box = mailboxOf(mailbox);
      if (!box) throw new Error(`fake EWS: no mailbox ${mailbox}`);
      return box.wellKnown(folder).items;
    },
    grantImpersonation: (account) => impersonators.add(account),
    revokeImpersonation: (account) => impersonators.delete(account),
    denyImpersonation: (account, mailbox) => {
      const set = denied.get(account) ?? new Set<string>();
      set.add(mailbox.toLowerCase());
      denied.set(account, set);
    },
    allowImpersonation: (account, mailbox) => denied.get(account)?.delete(mailbox.toLowerCase()),
    failNextWithEmpty500: (count = 1) => {
      empty500 = count;
    },
    setDelay: (ms) => {
      delayMs = ms;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** "ivan.petrov@corp.example" -> "Ivan Petrov": the display name Active Directory would show. */
function displayNameOf(smtp: string): string {
  const local = smtp.split('@')[0] ?? smtp;
  return local
    .split(/[._-]+/)
    .filter(Boolean)
    .map((w) => w[0]?.toUpperCase() + w.slice(1))
    .join(' ');
}
