// Turns what ews-javascript-api and Node's TLS stack reject with into one clear sentence for people.
// The library rejects with plain objects, not Error instances: SoapFaultDetails (.ResponseCode as a
// ServiceError enum number, .HttpStatusCode) for SOAP faults and HTTP errors, ServiceResponseException
// (.ErrorCode) for a 200 whose message says ResponseClass="Error". Messages never contain the password, nor
// any NTLM message (a type 3 carries what a password can be attacked from).

export type EwsFailureKind =
  | 'impersonation-denied'
  | 'no-mailbox'
  | 'unauthorized'
  | 'tls'
  | 'network'
  | 'timeout'
  | 'bad-response'
  | 'ews';

export class EwsError extends Error {
  override name = 'EwsError';
  constructor(
    message: string,
    readonly kind: EwsFailureKind,
    /** The EWS response code when Exchange sent one (ErrorImpersonateUserDenied, ...). */
    readonly responseCode?: string,
  ) {
    super(message);
  }
}

/** ews_auth: auto takes what the server's 401 offers, NTLM first. */
export type EwsAuth = 'auto' | 'ntlm' | 'basic';

/** What the message needs to name: who, which mailbox, where, how. */
export interface FailureContext {
  url: string;
  username: string;
  auth: EwsAuth;
  mailbox: string;
  operation: string;
  minTlsVersion?: string;
  /**
   * After a handshake failed on the protocol version: the version the server settled on when offered every
   * one from TLSv1 to TLSv1.3, i.e. the newest it speaks (see serverTlsVersion in client.ts).
   */
  serverTls?: string;
}

/** A transport failure seen below the library (the original Node error, with its .code). */
export interface TransportFailure {
  code?: string;
  message: string;
  status?: number;
}

const TLS_TRUST: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'chains to a self-signed CA that is not trusted',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'was issued by a CA that is not trusted',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'was issued by a CA that is not trusted',
  UNABLE_TO_GET_ISSUER_CERT: 'was issued by a CA that is not trusted',
  CERT_SIGNATURE_FAILURE: 'has a signature that does not verify against the trusted CA',
};

const TLS_VERSION_CODES = new Set([
  'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
  'ERR_SSL_UNSUPPORTED_PROTOCOL',
  'ERR_SSL_NO_PROTOCOLS_AVAILABLE',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_VERSION_TOO_LOW',
]);

const NETWORK: Record<string, string> = {
  ECONNREFUSED: 'refused the connection (nothing listens on that port)',
  ENOTFOUND: 'has a host name that does not resolve',
  EAI_AGAIN: 'has a host name that cannot be resolved right now',
  ETIMEDOUT: 'did not answer the TCP connection',
  ECONNRESET: 'closed the connection during the exchange',
  EHOSTUNREACH: 'is unreachable from here',
};

/** Maps any failure of an EWS call to an EwsError with a sentence that says what to do. */
export function describeEwsFailure(
  err: unknown,
  ctx: FailureContext,
  transport?: TransportFailure,
): EwsError {
  if (err instanceof EwsError) return err;
  const where = `EWS at ${ctx.url}`;
  const code = opensslReason(
    transport?.code ?? stringField(err, 'code'),
    transport?.message ?? messageOf(err),
  );
  if (code) {
    const trust = TLS_TRUST[code];
    if (trust) {
      return new EwsError(
        `${where}: the server's certificate ${trust}; give the CA certificate (PEM) in ca_file, or set skip_verify: true to skip the check (tests only)`,
        'tls',
      );
    }
    if (code === 'CERT_HAS_EXPIRED') {
      return new EwsError(
        `${where}: the server's certificate has expired; renew it on Exchange (skip_verify: true bypasses the check, tests only)`,
        'tls',
      );
    }
    if (code === 'CERT_NOT_YET_VALID') {
      return new EwsError(`${where}: the server's certificate is not valid yet (check both clocks)`, 'tls');
    }
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
      return new EwsError(
        `${where}: the server's certificate does not name ${hostOf(ctx.url)}; use a host name the certificate lists in the url, or skip_verify: true (tests only)`,
        'tls',
      );
    }
    if (TLS_VERSION_CODES.has(code)) return new EwsError(tlsVersionMessage(where, ctx), 'tls');
    if (code === 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE' || code === 'ERR_SSL_NO_SHARED_CIPHER') {
      return new EwsError(
        `${where}: the TLS handshake failed: no cipher in common; for TLS older than 1.2 set min_tls_version (it lowers the OpenSSL security level)`,
        'tls',
      );
    }
    if (code === 'EPROTO') {
      return new EwsError(
        `${where}: the TLS handshake failed: ${transport?.message ?? messageOf(err)}`,
        'tls',
      );
    }
    const net = NETWORK[code];
    if (net) return new EwsError(`${where} ${net} (${code})`, 'network');
    if (code === 'ECONNABORTED') return timeoutError(ctx);
  }
  const status = transport?.status ?? numberField(err, 'HttpStatusCode');
  if (status === 401) {
    return new EwsError(
      `${where} rejected the credentials of ${ctx.username} (${ctx.auth} auth); check the user name (DOMAIN\\user or user@domain), the password, and that ${ctx.auth} authentication is enabled on the EWS virtual directory`,
      'unauthorized',
    );
  }
  const responseCode = responseCodeOf(err);
  if (responseCode === 'ErrorImpersonateUserDenied') {
    return new EwsError(
      `the account ${ctx.username} may not impersonate ${ctx.mailbox}: assign the ApplicationImpersonation role (New-ManagementRoleAssignment -Role ApplicationImpersonation -User ${ctx.username}); Exchange applies a new assignment after some minutes`,
      'impersonation-denied',
      responseCode,
    );
  }
  if (responseCode === 'ErrorNonExistentMailbox' || responseCode === 'ErrorInvalidSmtpAddress') {
    return new EwsError(
      `mailbox ${ctx.mailbox} does not exist on Exchange (names are case-sensitive in VK's sync; check the spelling)`,
      'no-mailbox',
      responseCode,
    );
  }
  const text = messageOf(err) ?? transport?.message ?? 'unknown failure';
  if (responseCode) {
    return new EwsError(
      `${where}: ${ctx.operation} failed with ${responseCode}: ${text}`,
      'ews',
      responseCode,
    );
  }
  if (status) return new EwsError(`${where}: ${ctx.operation} failed with HTTP ${status}: ${text}`, 'ews');
  return new EwsError(`${where}: ${ctx.operation} failed: ${text}`, 'ews');
}

/** Did the call fail because client and server share no TLS version (see TLS_VERSION_CODES)? */
export function isTlsVersionFailure(err: unknown, transport?: TransportFailure): boolean {
  const code = opensslReason(
    transport?.code ?? stringField(err, 'code'),
    transport?.message ?? messageOf(err),
  );
  return code !== undefined && TLS_VERSION_CODES.has(code);
}

const TLS_NAMES: Record<string, string> = { TLSv1: 'TLS 1.0', 'TLSv1.1': 'TLS 1.1' };

/**
 * No TLS version in common. An Exchange that speaks only TLS 1.0 or 1.1 (a 2013 on an old Windows) is what
 * the forwarder of step A3 is for: VK's containers refuse old TLS, and so does Node unless told otherwise.
 */
function tlsVersionMessage(where: string, ctx: FailureContext): string {
  const allows = ctx.minTlsVersion ?? 'TLSv1.2';
  const old = ctx.serverTls ? TLS_NAMES[ctx.serverTls] : undefined;
  if (ctx.serverTls && old) {
    return `${where} speaks only ${old} (${ctx.serverTls} is the newest version it accepts) and this side allows ${allows} and newer, so the TLS handshake failed: go through the TLS forwarder of step A3 (ews_verify_through_forwarder: true, the way VK's containers reach EWS: TLS 1.3 to the forwarder on the mail server, ${old} from it to Exchange), or set min_tls_version: ${ctx.serverTls} for a direct call`;
  }
  if (ctx.serverTls) {
    return `${where}: the TLS handshake failed on the protocol version (this side allows ${allows} and newer, the server speaks ${ctx.serverTls} at most); set min_tls_version: ${ctx.serverTls}`;
  }
  return `${where}: the TLS handshake failed on the protocol version (this side allows ${allows} and newer); set min_tls_version to a version the server speaks, or, for an Exchange that speaks only TLS 1.0 or 1.1, go through the TLS forwarder of step A3 (ews_verify_through_forwarder: true)`;
}

/** The server's 401 refused credentials it offered the scheme for. */
export function loginRefused(url: string, username: string, scheme: string, offered: string[]): EwsError {
  const how = scheme.toLowerCase() === 'negotiate' ? 'NTLM (sent under Negotiate)' : scheme;
  return new EwsError(
    `EWS at ${url} refused the ${how} login of ${username} (the server offers ${listed(offered)}): the password is wrong, or the account may be locked or disabled; check the password and the user name (DOMAIN\\user or user@domain), and in Active Directory that the account is enabled and not locked out`,
    'unauthorized',
  );
}

/** The scheme ews_auth asks for is not among those the server's 401 offers. */
export function schemeNotOffered(url: string, auth: EwsAuth, offered: string[]): EwsError {
  const where = `EWS at ${url}`;
  if (offered.length === 0) {
    return new EwsError(
      `${where} answered 401 without offering any authentication scheme (no WWW-Authenticate header): check the EWS virtual directory's authentication settings`,
      'unauthorized',
    );
  }
  const has = `the server offers ${listed(offered)}`;
  if (auth === 'basic') {
    return new EwsError(
      `${where}: ${has}; Basic is off on this Exchange: use ews_auth: ntlm or auto`,
      'unauthorized',
    );
  }
  if (auth === 'ntlm') {
    return new EwsError(
      `${where}: ${has}; Windows authentication (NTLM, Negotiate) is off on this Exchange: use ews_auth: basic or auto, or turn Windows authentication on for the EWS virtual directory`,
      'unauthorized',
    );
  }
  return new EwsError(
    `${where}: ${has}, and ewsplay speaks NTLM (also under Negotiate) and Basic: turn Windows authentication on for the EWS virtual directory`,
    'unauthorized',
  );
}

/** The NTLM negotiate got no challenge back (Negotiate that takes only Kerberos, or a broken proxy). */
export function noNtlmChallenge(url: string, scheme: string, status: number, offered: string[]): EwsError {
  return new EwsError(
    `EWS at ${url} answered the NTLM negotiate sent under ${scheme} with HTTP ${status} and no NTLM challenge (the server offers ${listed(offered)}): it may accept only Kerberos there; turn the NTLM provider of Windows authentication on for the EWS virtual directory`,
    'unauthorized',
  );
}

/** The three NTLM legs did not stay on one connection. */
export function ntlmConnectionLost(url: string, offered: string[]): EwsError {
  return new EwsError(
    `EWS at ${url} closed the connection between its NTLM challenge and the answer (the server offers ${listed(offered)}): NTLM needs one kept-alive connection; a proxy or load balancer in between must keep connections alive`,
    'unauthorized',
  );
}

function listed(offered: string[]): string {
  return offered.join(', ');
}

export function timeoutError(ctx: FailureContext, ms?: number): EwsError {
  const after = ms === undefined ? '' : ` within ${Math.round(ms / 100) / 10} s`;
  return new EwsError(
    `EWS at ${ctx.url} did not answer ${ctx.operation}${after} (raise timeout if Exchange is slow)`,
    'timeout',
  );
}

/** Node reports most handshake alerts as EPROTO with OpenSSL's reason in the text: name them by that reason. */
function opensslReason(code: string | undefined, message: string | undefined): string | undefined {
  if (code !== 'EPROTO' || !message) return code;
  if (/protocol version|unsupported protocol|wrong version number|no protocols available/i.test(message)) {
    return 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION';
  }
  if (/handshake failure|no shared cipher/i.test(message)) return 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE';
  return code;
}

/** The ServiceError name of a SoapFaultDetails or ServiceResponseException, if any. */
function responseCodeOf(err: unknown): string | undefined {
  const raw = field(err, 'ResponseCode') ?? field(err, 'ErrorCode');
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'number') return serviceErrorName(raw);
  return undefined;
}

let serviceErrorNames: Record<number, string> | undefined;

/** Registered by the client once the library is loaded (this file must not import it at start). */
export function setServiceErrorNames(names: Record<number, string>): void {
  serviceErrorNames = names;
}

function serviceErrorName(n: number): string | undefined {
  return serviceErrorNames?.[n];
}

function messageOf(err: unknown): string | undefined {
  const m = field(err, 'message') ?? field(err, 'Message');
  return typeof m === 'string' && m.trim() ? m.trim() : typeof err === 'string' ? err : undefined;
}

function field(err: unknown, name: string): unknown {
  return err && typeof err === 'object' ? (err as Record<string, unknown>)[name] : undefined;
}

function stringField(err: unknown, name: string): string | undefined {
  const v = field(err, name);
  return typeof v === 'string' ? v : undefined;
}

function numberField(err: unknown, name: string): number | undefined {
  const v = field(err, name);
  return typeof v === 'number' ? v : undefined;
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return url;
  }
}
