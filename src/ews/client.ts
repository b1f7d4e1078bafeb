// The EWS client: ews-javascript-api behind a small API for the verification (check access, create,
// find, delete a calendar event while impersonating a mailbox). The library costs ~0.5 s to import, so it
// is loaded on the first call, never at start-up.
//
// Guards around the library (see DESIGN.md, "EWS facts"):
// - every call races a timeout, and a late rejection of an abandoned call is swallowed, never unhandled;
// - an HTTP 500 without a SOAP fault (empty body: the library's issue #364) is caught in our XHR layer
//   before the library parses it: that parse throws inside a promise the library never returns, which
//   crashes the process on an unhandled rejection and never settles the call. The XHR layer knows which
//   call it serves, so the failure goes to exactly that call, also when several hosts verify at once;
// - the XHR layer also keeps the original Node error (its .code), which the library flattens to text,
//   so TLS failures are named precisely;
// - the XHR layer is ours (auth-xhr.ts): it authenticates as the server offers (NTLM, Negotiate, Basic) over our
//   own agents, so NTLM keeps the CA, the TLS versions and the SSH tunnel; an authentication failure is an
//   EwsError from there, which fails the call directly.
import { readFile } from 'node:fs/promises';
import https from 'node:https';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { AuthXhr } from './auth-xhr.js';
import {
  describeEwsFailure,
  type EwsAuth,
  EwsError,
  type FailureContext,
  isTlsVersionFailure,
  setServiceErrorNames,
  timeoutError,
} from './errors.js';

export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

export interface EwsConnectOptions {
  /** https://HOST[:PORT]/EWS/Exchange.asmx */
  url: string;
  username: string;
  password: string;
  /** auto: what the server's 401 offers, NTLM first; ntlm: NTLMv2 (also under Negotiate); basic. */
  auth: EwsAuth;
  /** Trust this CA (PEM) in addition to the system's roots. */
  caPem?: string;
  /** Same, read from a file. */
  caFile?: string;
  /** Do not verify the server's certificate (tests only). */
  skipVerify?: boolean;
  /** Lowest TLS version offered; below TLSv1.2 the OpenSSL security level is lowered, as old servers need. */
  minTlsVersion?: TlsVersion;
  /** Per-call limit in ms. */
  timeoutMs: number;
  /** Opens a TCP stream to host:port from elsewhere (an SSH host's forwardOut); TLS runs end to end inside. */
  tunnel?: (host: string, port: number) => Promise<Duplex>;
}

export interface CalendarAccess {
  folderId: string;
  displayName: string;
  totalCount: number;
}

export interface FoundEvent {
  id: string;
  subject: string;
  start: string;
  end: string;
  /** TotalItemsInView of the CalendarView that found it. */
  itemsInView: number;
}

export interface EwsClient {
  /** GetFolder of the mailbox's calendar while impersonating it: proves endpoint, credentials and impersonation. */
  checkAccess(mailbox: string): Promise<CalendarAccess>;
  /** Creates a calendar item (no invitations sent) and returns its ItemId. */
  createTestEvent(mailbox: string, subject: string, start: Date, end: Date): Promise<string>;
  /** Finds an item by exact subject in a CalendarView over [start, end]. */
  findEvent(mailbox: string, subject: string, start: Date, end: Date): Promise<FoundEvent | undefined>;
  /** Binds the item (GetItem) and hard-deletes it, as the impersonated mailbox. */
  deleteEvent(mailbox: string, id: string): Promise<void>;
  /** Closes pooled connections. */
  close(): void;
}

type Ews = typeof import('ews-javascript-api');
let loading: Promise<Ews> | undefined;

function loadEws(): Promise<Ews> {
  loading ??= import('ews-javascript-api').then((m) => {
    const ews = m.default as Ews;
    setServiceErrorNames(ews.ServiceError as unknown as Record<number, string>);
    return ews;
  });
  return loading;
}

/** What the library's XHR layer rejects with: an XMLHttpRequest-like object or an axios error. */
interface XhrFailure {
  status?: number;
  responseText?: string;
  code?: string;
  message?: string;
}

interface XhrApiLike {
  apiName: string;
  xhr(options: never, progress?: never): Promise<unknown>;
  xhrStream(options: never, progress: never): Promise<unknown>;
  disconnect(): void;
}

const SOAP_FAULT = /<(?:[\w.-]+:)?Fault[\s>]/;

export async function ewsConnect(opts: EwsConnectOptions): Promise<EwsClient> {
  const caPem = opts.caPem ?? (opts.caFile ? await readCa(opts.caFile) : undefined);
  const target = new URL(opts.url);
  if (target.protocol !== 'https:')
    throw new EwsError(`EWS url must start with https:// (got ${opts.url})`, 'ews');
  const oldTls = opts.minTlsVersion === 'TLSv1' || opts.minTlsVersion === 'TLSv1.1';
  const tlsOptions: https.AgentOptions = {
    keepAlive: true,
    rejectUnauthorized: !opts.skipVerify,
    ...(caPem ? { ca: [...tls.rootCertificates, caPem] } : {}),
    ...(opts.minTlsVersion ? { minVersion: opts.minTlsVersion } : {}),
    // OpenSSL 3 refuses TLS 1.0/1.1 (SHA-1 signatures) at the default security level.
    ...(oldTls ? { ciphers: 'DEFAULT@SECLEVEL=0' } : {}),
  };
  // One socket per agent: NTLM authenticates a connection, so each lane of the XHR layer is one connection.
  const laneOptions: https.AgentOptions = { ...tlsOptions, maxSockets: 1 };
  const tunnel = opts.tunnel;
  const base = new AuthXhr({
    url: opts.url,
    auth: opts.auth,
    username: opts.username,
    password: opts.password,
    timeoutMs: opts.timeoutMs,
    newAgent: () => (tunnel ? new TunnelAgent(laneOptions, tunnel) : new https.Agent(laneOptions)),
  });

  const call = async <T>(
    operation: string,
    mailbox: string,
    work: (ews: Ews, svc: InstanceType<Ews['ExchangeService']>) => Promise<T>,
  ): Promise<T> => {
    const ews = await loadEws();
    const ctx: FailureContext = {
      url: opts.url,
      username: opts.username,
      auth: opts.auth,
      mailbox,
      operation,
      ...(opts.minTlsVersion ? { minTlsVersion: opts.minTlsVersion } : {}),
    };
    let transport: { code?: string; message: string; status?: number } | undefined;
    let failEarly: (e: EwsError) => void = () => {};
    const early = new Promise<never>((_, reject) => {
      failEarly = reject;
    });
    const guarded: XhrApiLike = {
      apiName: base.apiName,
      async xhr(options) {
        try {
          return await base.xhr(options);
        } catch (raw) {
          if (raw instanceof EwsError) {
            // An authentication failure, already one sentence: the library would only blur it.
            failEarly(raw);
            return new Promise(() => {});
          }
          const r = raw as XhrFailure;
          if (r.status === 500 && !SOAP_FAULT.test(r.responseText ?? '')) {
            const what = r.responseText?.trim() ? 'a body that is not a SOAP fault' : 'an empty body';
            failEarly(
              new EwsError(
                `EWS at ${opts.url} answered ${operation} with HTTP 500 and ${what}`,
                'bad-response',
              ),
            );
            // Never hand this to the library (issue #364); the abandoned promise is collected with the call.
            return new Promise(() => {});
          }
          transport = { message: r.message ?? '' };
          if (r.code) transport.code = r.code;
          if (typeof r.status === 'number') transport.status = r.status;
          throw raw;
        }
      },
      xhrStream: (options, progress) => base.xhrStream(options, progress),
      disconnect: () => base.disconnect(),
    };
    const svc = new ews.ExchangeService(ews.ExchangeVersion.Exchange2013, ews.TimeZoneInfo.Utc);
    svc.Url = new ews.Uri(opts.url);
    svc.Credentials = new ews.WebCredentials(opts.username, opts.password);
    svc.XHRApi = guarded as never;
    svc.ImpersonatedUserId = new ews.ImpersonatedUserId(ews.ConnectingIdType.SmtpAddress, mailbox);
    svc.HttpHeaders.Add('X-AnchorMailbox', mailbox);

    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(timeoutError(ctx, opts.timeoutMs)), opts.timeoutMs);
    });
    const done = work(ews, svc);
    // Whichever loses the race may still reject later: that must not become an unhandled rejection.
    for (const p of [done, early, timeout]) p.catch(() => {});
    try {
      return await Promise.race([done, early, timeout]);
    } catch (e) {
      // No TLS version in common: ask the server which one it speaks, so the message can say so.
      if (isTlsVersionFailure(e, transport)) {
        const spoken = await serverTlsVersion(target, tunnel);
        if (spoken) ctx.serverTls = spoken;
      }
      throw describeEwsFailure(e, ctx, transport);
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    checkAccess: (mailbox) =>
      call('GetFolder (calendar)', mailbox, async (ews, svc) => {
        const props = new ews.PropertySet(ews.BasePropertySet.IdOnly, [
          ews.FolderSchema.DisplayName,
          ews.FolderSchema.TotalCount,
        ]);
        const folder = await ews.CalendarFolder.Bind(svc, ews.WellKnownFolderName.Calendar, props);
        return {
          folderId: folder.Id.UniqueId,
          displayName: folder.DisplayName,
          totalCount: folder.TotalCount,
        };
      }),
    createTestEvent: (mailbox, subject, start, end) =>
      call('CreateItem', mailbox, async (ews, svc) => {
        const appt = new ews.Appointment(svc);
        appt.Subject = subject;
        appt.Body = new ews.MessageBody(
          ews.BodyType.Text,
          'Created by ewsplay to verify EWS access; safe to delete.',
        );
        appt.Start = new ews.DateTime(start.getTime(), ews.DateTimeKind.Utc);
        appt.End = new ews.DateTime(end.getTime(), ews.DateTimeKind.Utc);
        await appt.Save(ews.WellKnownFolderName.Calendar, ews.SendInvitationsMode.SendToNone);
        return appt.Id.UniqueId;
      }),
    findEvent: (mailbox, subject, start, end) =>
      call('FindItem (CalendarView)', mailbox, async (ews, svc) => {
        const view = new ews.CalendarView(
          new ews.DateTime(start.getTime(), ews.DateTimeKind.Utc),
          new ews.DateTime(end.getTime(), ews.DateTimeKind.Utc),
        );
        const found = await svc.FindAppointments(ews.WellKnownFolderName.Calendar, view);
        const hit = found.Items.find((a) => a.Subject === subject);
        if (!hit) return undefined;
        return {
          id: hit.Id.UniqueId,
          subject: hit.Subject,
          start: hit.Start.ToISOString(),
          end: hit.End.ToISOString(),
          itemsInView: found.TotalCount,
        };
      }),
    deleteEvent: (mailbox, id) =>
      call('DeleteItem', mailbox, async (ews, svc) => {
        const appt = await ews.Appointment.Bind(svc, new ews.ItemId(id), ews.PropertySet.IdOnly);
        await appt.Delete(ews.DeleteMode.HardDelete, ews.SendCancellationsMode.SendToNone);
      }),
    close: () => base.close(),
  };
}

async function readCa(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new EwsError(`cannot read ca_file ${file}: ${(e as Error).message}`, 'tls');
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) {
    throw new EwsError(`ca_file ${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`, 'tls');
  }
  return text;
}

/**
 * The TLS version a server settles on when offered every one from TLSv1 to TLSv1.3 (the newest it speaks),
 * over the same path as the calls (the tunnel, if any); undefined when no handshake completes in time. The
 * certificate is not looked at: only the version is read, and the connection closed.
 */
export async function serverTlsVersion(
  url: URL,
  tunnel?: (host: string, port: number) => Promise<Duplex>,
  timeoutMs = 5000,
): Promise<string | undefined> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 443);
  let socket: Duplex | undefined;
  try {
    if (tunnel) socket = await tunnel(host, port);
  } catch {
    return undefined;
  }
  return new Promise((resolve) => {
    const s = tls.connect({
      host,
      port,
      ...(socket ? { socket } : {}),
      ...(isIP(host) ? {} : { servername: host }),
      minVersion: 'TLSv1',
      maxVersion: 'TLSv1.3',
      ciphers: 'DEFAULT@SECLEVEL=0',
      rejectUnauthorized: false,
    });
    const done = (version: string | undefined) => {
      clearTimeout(timer);
      s.destroy();
      socket?.destroy();
      resolve(version);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    s.once('secureConnect', () => done(s.getProtocol() ?? undefined));
    s.once('error', () => done(undefined));
  });
}

/** An https.Agent whose TCP streams come from a tunnel (e.g. SSH forwardOut); TLS still runs end to end. */
class TunnelAgent extends https.Agent {
  constructor(
    options: https.AgentOptions,
    private readonly tunnel: (host: string, port: number) => Promise<Duplex>,
  ) {
    super(options);
  }

  // Node's Agent accepts an asynchronous createConnection that reports through the callback.
  override createConnection(
    options: tls.ConnectionOptions & { host?: string; port?: number },
    done: (err: Error | null, socket?: Duplex) => void,
  ): undefined {
    this.tunnel(options.host ?? 'localhost', Number(options.port ?? 443)).then(
      (stream) => done(null, tls.connect({ ...options, socket: stream })),
      (err: Error) => done(err),
    );
    return undefined;
  }
}
