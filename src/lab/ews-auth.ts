// Authentication of the fake EWS virtual directory, as IIS does it for a default Exchange 2013: Windows
// authentication with the providers Negotiate and NTLM (one WWW-Authenticate header each), Basic off unless
// turned on. NTLM authenticates the connection: once a handshake succeeded, later requests on that socket need
// no Authorization header. A Negotiate header carrying a raw NTLMSSP token is NTLM under that name (what
// requests_ntlm and curl send); SPNEGO/Kerberos tokens are not understood and get a 401. A locked or disabled
// account gets the same 401 as a wrong password after a valid login, as Windows gives clients no reason.
import type { IncomingMessage } from 'node:http';
import {
  type AccountLookup,
  messageType,
  type NtlmRefusal,
  NtlmServer,
  windowsDomainOf,
} from './ntlm-server.js';

export type WindowsAuthProvider = 'Negotiate' | 'NTLM';
export type AuthScheme = WindowsAuthProvider | 'Basic';

export interface EwsAuthOptions {
  /** Accounts and their passwords: `user`, `DOMAIN\user` or `user@domain`. */
  users: Record<string, string>;
  /** Basic authentication on the virtual directory (off by default, as on Exchange). */
  basicAuth?: boolean;
  /** Windows authentication providers offered, in order (default Negotiate, NTLM; [] turns it off). */
  windowsAuthProviders?: WindowsAuthProvider[];
  /** Accounts that are locked out or disabled: a correct password still gets a 401. */
  lockedAccounts?: string[];
  /** The site's DNS domain (names the NTLM domain and server in the challenge). */
  dnsDomain: string;
}

/** Why a request got a 401 (for the request log and tests; the client only sees the 401). */
export type AuthFailure =
  | 'no-credentials'
  | 'scheme-off'
  | 'unknown-scheme'
  | 'spnego'
  | 'locked'
  | 'wrong-password'
  | NtlmRefusal;

export type AuthCheck =
  | { ok: true; account: string; scheme: AuthScheme }
  | {
      ok: false;
      /** The WWW-Authenticate headers of the 401: the offers, or an NTLM challenge. */
      authenticate: string[];
      scheme?: AuthScheme;
      failure?: AuthFailure;
    };

export class EwsAuthentication {
  private readonly providers: WindowsAuthProvider[];
  private readonly locked: Set<string>;
  private readonly ntlm: NtlmServer;
  /** Connections NTLM authenticated, and as whom. */
  private readonly connections = new WeakMap<object, { account: string; scheme: AuthScheme }>();

  constructor(private readonly opts: EwsAuthOptions) {
    this.providers = opts.windowsAuthProviders ?? ['Negotiate', 'NTLM'];
    this.locked = new Set((opts.lockedAccounts ?? []).map((a) => a.toLowerCase()));
    this.ntlm = new NtlmServer(windowsDomainOf(opts.dnsDomain), accountLookup(opts.users));
  }

  /** What a 401 offers, one header per scheme as IIS sends them. */
  offers(host: string | undefined): string[] {
    return [...this.providers, ...(this.opts.basicAuth ? [`Basic realm="${host ?? 'localhost'}"`] : [])];
  }

  check(req: IncomingMessage): AuthCheck {
    const refuse = (failure: AuthFailure, scheme?: AuthScheme): AuthCheck => ({
      ok: false,
      authenticate: this.offers(req.headers.host),
      failure,
      ...(scheme ? { scheme } : {}),
    });
    const connection = req.socket;
    const m = /^(\S+)\s+(\S+)\s*$/.exec(req.headers.authorization ?? '');
    if (!m?.[1] || !m[2]) {
      const known = this.connections.get(connection);
      if (known && !this.isLocked(known.account)) return { ok: true, ...known };
      return refuse('no-credentials');
    }
    const scheme = schemeNamed(m[1]);
    if (!scheme) return refuse('unknown-scheme');
    if (scheme === 'Basic') {
      if (!this.opts.basicAuth) return refuse('scheme-off', scheme);
      const account = basicAccount(m[2], this.opts.users);
      if (!account) return refuse('wrong-password', scheme);
      if (this.isLocked(account)) return refuse('locked', scheme);
      return { ok: true, account, scheme };
    }
    if (!this.providers.includes(scheme)) return refuse('scheme-off', scheme);
    const token = Buffer.from(m[2], 'base64');
    // SPNEGO (an ASN.1 GSS token, 0x60 or 0xa1) would need Kerberos or SPNEGO unwrapping; only raw NTLM is served.
    if (messageType(token) === undefined)
      return refuse(token[0] === 0x60 || token[0] === 0xa1 ? 'spnego' : 'malformed', scheme);
    // A new handshake replaces whoever the connection was.
    this.connections.delete(connection);
    const step = this.ntlm.step(connection, token);
    if (step.kind === 'challenge') {
      return { ok: false, authenticate: [`${scheme} ${step.token.toString('base64')}`], scheme };
    }
    if (step.kind === 'refused') return refuse(step.reason, scheme);
    if (this.isLocked(step.account)) return refuse('locked', scheme);
    this.connections.set(connection, { account: step.account, scheme });
    return { ok: true, account: step.account, scheme };
  }

  private isLocked(account: string): boolean {
    return this.locked.has(account.toLowerCase());
  }
}

function schemeNamed(name: string): AuthScheme | undefined {
  const lower = name.toLowerCase();
  if (lower === 'basic') return 'Basic';
  if (lower === 'ntlm') return 'NTLM';
  if (lower === 'negotiate') return 'Negotiate';
  return undefined;
}

function basicAccount(credentials: string, users: Record<string, string>): string | undefined {
  const decoded = Buffer.from(credentials, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const user = decoded.slice(0, colon);
  return Object.hasOwn(users, user) && users[user] === decoded.slice(colon + 1) ? user : undefined;
}

/**
 * Matches an NTLM user and domain to an account as Active Directory would, names compared case-insensitively:
 * `DOMAIN\user` needs that domain (or none), `user@domain` is a UPN sent whole in the user field (or its
 * local part with the domain), a bare `user` matches in any domain.
 */
function accountLookup(users: Record<string, string>): AccountLookup {
  return (user, domain) => {
    const u = user.toLowerCase();
    const d = domain.toLowerCase();
    for (const [account, password] of Object.entries(users)) {
      const a = account.toLowerCase();
      const slash = a.indexOf('\\');
      const at = a.indexOf('@');
      const matches =
        slash >= 0
          ? u === a.slice(slash + 1) && (d === '' || d === a.slice(0, slash))
          : at >= 0
            ? u === a ||
              (u === a.slice(0, at) && (d === a.slice(at + 1) || d === a.slice(at + 1).split('.')[0]))
            : u === a;
      if (matches) return { account, password };
    }
    return undefined;
  };
}
