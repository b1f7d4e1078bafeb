// ews-javascript-api's HTTP layer, replaced (svc.XHRApi) by one that authenticates as Exchange offers it and
// sends everything through our own https agents, so the CA, the TLS versions and an SSH tunnel hold for NTLM
// as for Basic (the library's own NTLM makes an agent of its own and drops all three).
//
// NTLM authenticates a connection, not a request: negotiate, challenge and answer travel on ONE kept-alive
// connection, which then stays authenticated. So requests go through lanes, each an agent with a single
// socket; a lane remembers the socket it authenticated, and a request on it needs no new handshake until the
// server closes it. A server offering only Negotiate gets the same raw NTLM token under that name (as curl
// and python requests do). auto takes what the server's 401 offers: NTLM, then Negotiate, then Basic.
import type { IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import {
  type EwsAuth,
  loginRefused,
  noNtlmChallenge,
  ntlmConnectionLost,
  schemeNotOffered,
} from './errors.js';
import { challengesOf, offers, schemesOf, tokenOf } from './www-authenticate.js';

export interface AuthXhrOptions {
  url: string;
  auth: EwsAuth;
  username: string;
  password: string;
  /** An agent for one lane: keep-alive, one socket, carrying the CA, the TLS versions and the tunnel. */
  newAgent: () => https.Agent;
  /** Per HTTP request. */
  timeoutMs: number;
}

/** The part of the library's IXHROptions it fills in for a SOAP call. */
interface XhrRequest {
  type?: string;
  url: string;
  headers?: Record<string, string>;
  data?: string;
}

/** What the library reads of an XMLHttpRequest (the shape @ewsjs/xhr produces). */
export interface XhrResponse {
  status: number;
  statusText: string;
  responseText: string;
  headers: IncomingHttpHeaders;
  getResponseHeader(name: string): string | null;
  getAllResponseHeaders(): string;
}

interface Reply {
  status: number;
  statusText: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
  socket: Socket | undefined;
}

interface Lane {
  agent: https.Agent;
  busy: boolean;
  /** The socket NTLM authenticated on this lane, while it lives. */
  authenticated?: Socket;
}

type Scheme = 'NTLM' | 'Negotiate' | 'Basic';

/** The name Exchange's logs show for the client machine. */
const WORKSTATION = 'EWSPLAY';
/** NTLMSSP_NEGOTIATE_UNICODE: @ewsjs/ntlm-client asks for OEM strings only, which garbles non-ASCII names. */
const NEGOTIATE_UNICODE = 0x1;

type NtlmClient = typeof import('@ewsjs/ntlm-client');
let ntlmLoading: Promise<NtlmClient> | undefined;
const loadNtlm = (): Promise<NtlmClient> => {
  ntlmLoading ??= import('@ewsjs/ntlm-client').then(
    (m) => ((m as { default?: NtlmClient }).default ?? m) as NtlmClient,
  );
  return ntlmLoading;
};

export class AuthXhr {
  readonly apiName = 'ewsplay';
  private readonly lanes: Lane[] = [];
  /** The schemes of the server's last 401, once seen. */
  private offered: string[] | undefined;

  constructor(private readonly opts: AuthXhrOptions) {}

  /** Rejects with an XhrResponse for any status but 200 (as the library expects), with an EwsError for an
   * authentication failure, or with the Node error (its .code) for a transport failure. */
  async xhr(request: XhrRequest): Promise<XhrResponse> {
    const lane = this.lanes.find((l) => !l.busy) ?? this.newLane();
    lane.busy = true;
    try {
      const reply = await this.authenticated(lane, request);
      const response = toXhrResponse(reply);
      if (reply.status === 200) return response;
      throw response;
    } finally {
      lane.busy = false;
    }
  }

  /** Streaming notifications: the response is delivered in one piece once complete. */
  async xhrStream(
    request: XhrRequest,
    progress: (p: { type: 'header' | 'data' | 'end'; headers?: unknown; data?: string }) => void,
  ): Promise<null> {
    const r = await this.xhr(request);
    progress({ type: 'header', headers: r.headers });
    progress({ type: 'data', data: r.responseText });
    progress({ type: 'end' });
    return null;
  }

  /** The library cuts a notification stream with this; xhrStream keeps none open, so there is none to cut. */
  disconnect(): void {}

  /** Closes every connection. */
  close(): void {
    for (const lane of this.lanes.splice(0)) lane.agent.destroy();
  }

  private newLane(): Lane {
    const lane: Lane = { agent: this.opts.newAgent(), busy: false };
    this.lanes.push(lane);
    return lane;
  }

  private async authenticated(lane: Lane, request: XhrRequest): Promise<Reply> {
    const method = request.type ?? 'POST';
    const body = request.data ?? '';
    // The library puts Basic credentials in every request; they go out only when Basic is what is used.
    const headers = Object.fromEntries(
      Object.entries(request.headers ?? {}).filter(
        ([k]) => !['authorization', 'content-length', 'connection'].includes(k.toLowerCase()),
      ),
    );
    const send = (authorization: string | undefined, content: string) =>
      this.send(
        lane,
        method,
        request.url,
        authorization ? { ...headers, Authorization: authorization } : headers,
        content,
      );

    if (this.opts.auth === 'basic') return this.basic(send, body);
    if (lane.authenticated && !lane.authenticated.destroyed) {
      const r = await send(undefined, body);
      if (r.status !== 401) return r;
      this.learn(r);
    }
    if (!this.offered) {
      // The first request learns what the server offers (a server needing no login just answers).
      const probe = await send(undefined, body);
      if (probe.status !== 401) return probe;
      this.learn(probe);
    }
    const scheme = this.choose(this.offered ?? []);
    if (scheme === 'Basic') return this.basic(send, body);
    return this.ntlm(lane, scheme, send, body);
  }

  private async basic(
    send: (authorization: string | undefined, content: string) => Promise<Reply>,
    body: string,
  ): Promise<Reply> {
    const credentials = Buffer.from(`${this.opts.username}:${this.opts.password}`).toString('base64');
    const r = await send(`Basic ${credentials}`, body);
    if (r.status !== 401) return r;
    const offered = this.learn(r);
    if (!offers('Basic', offered)) throw schemeNotOffered(this.opts.url, 'basic', offered);
    throw loginRefused(this.opts.url, this.opts.username, 'Basic', offered);
  }

  /** Negotiate, challenge, answer: three requests on the lane's one connection. */
  private async ntlm(
    lane: Lane,
    scheme: 'NTLM' | 'Negotiate',
    send: (authorization: string | undefined, content: string) => Promise<Reply>,
    body: string,
  ): Promise<Reply> {
    const ntlm = await loadNtlm();
    const { user, domain } = splitAccount(this.opts.username);
    lane.authenticated = undefined;
    // The negotiate carries no body (as curl sends it): the server answers it with a challenge only.
    const challenged = await send(`${scheme} ${negotiateToken(ntlm, domain)}`, '');
    const token = tokenOf(challengesOf(challenged.rawHeaders), scheme);
    if (challenged.status !== 401 || !token) {
      throw noNtlmChallenge(this.opts.url, scheme, challenged.status, this.offered ?? []);
    }
    let type2: ReturnType<NtlmClient['decodeType2Message']>;
    try {
      type2 = ntlm.decodeType2Message(token);
    } catch {
      throw noNtlmChallenge(this.opts.url, scheme, challenged.status, this.offered ?? []);
    }
    // NTLMv2 only, whatever the server's flags suggest (the library's v1 is LM/DES, refused by hardened servers).
    const answer = ntlm
      .createType3Message(
        { ...type2, version: 2, targetInfo: type2.targetInfo ?? { parsed: {}, buffer: Buffer.alloc(0) } },
        user,
        this.opts.password,
        WORKSTATION,
        domain,
      )
      .replace(/^NTLM /, '');
    const r = await send(`${scheme} ${answer}`, body);
    if (r.status !== 401) {
      lane.authenticated = r.socket;
      return r;
    }
    const offered = this.learn(r);
    if (r.socket !== challenged.socket) throw ntlmConnectionLost(this.opts.url, offered);
    throw loginRefused(this.opts.url, this.opts.username, scheme, offered);
  }

  private choose(offered: string[]): Scheme {
    const order: Scheme[] =
      this.opts.auth === 'ntlm' ? ['NTLM', 'Negotiate'] : ['NTLM', 'Negotiate', 'Basic'];
    const scheme = order.find((s) => offers(s, offered));
    if (!scheme) throw schemeNotOffered(this.opts.url, this.opts.auth, offered);
    return scheme;
  }

  /** Remembers the schemes a 401 offers (an NTLM challenge is not an offer) and returns them. */
  private learn(r: Reply): string[] {
    const challenges = challengesOf(r.rawHeaders);
    if (challenges.some((c) => /^\S+\s+\S/.test(c) && !/^basic\s/i.test(c))) return this.offered ?? [];
    this.offered = schemesOf(challenges);
    return this.offered;
  }

  /** One HTTP request on the lane; a request on a reused socket the server had just closed is sent once more. */
  private async send(
    lane: Lane,
    method: string,
    url: string,
    headers: Record<string, string>,
    body: string,
  ): Promise<Reply> {
    try {
      return await this.sendOnce(lane, method, url, headers, body);
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { reusedSocket?: boolean };
      if (!err.reusedSocket || !['ECONNRESET', 'EPIPE'].includes(err.code ?? '')) throw e;
      return this.sendOnce(lane, method, url, headers, body);
    }
  }

  private sendOnce(
    lane: Lane,
    method: string,
    url: string,
    headers: Record<string, string>,
    body: string,
  ): Promise<Reply> {
    return new Promise((resolve, reject) => {
      let socket: Socket | undefined;
      const req = https.request(url, {
        method,
        agent: lane.agent,
        headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) },
      });
      req.setTimeout(this.opts.timeoutMs, () => {
        req.destroy(
          Object.assign(new Error(`no answer within ${this.opts.timeoutMs} ms`), { code: 'ECONNABORTED' }),
        );
      });
      req.on('socket', (s: Socket) => {
        socket = s;
      });
      req.on('error', (e: Error) => reject(Object.assign(e, { reusedSocket: req.reusedSocket })));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            statusText: res.statusMessage ?? '',
            headers: res.headers,
            rawHeaders: res.rawHeaders,
            body: Buffer.concat(chunks).toString('utf8'),
            socket,
          }),
        );
      });
      req.end(body);
    });
  }
}

/** `DOMAIN\user` names its domain; `user@domain` (a UPN) and a bare name go whole, with no domain. */
export function splitAccount(username: string): { user: string; domain: string } {
  const slash = username.indexOf('\\');
  return slash > 0
    ? { domain: username.slice(0, slash), user: username.slice(slash + 1) }
    : { domain: '', user: username };
}

function negotiateToken(ntlm: NtlmClient, domain: string): string {
  const message = Buffer.from(ntlm.createType1Message(WORKSTATION, domain).replace(/^NTLM /, ''), 'base64');
  message.writeUInt32LE((message.readUInt32LE(12) | NEGOTIATE_UNICODE) >>> 0, 12);
  return message.toString('base64');
}

function toXhrResponse(r: Reply): XhrResponse {
  return {
    status: r.status,
    statusText: r.statusText,
    responseText: r.body,
    headers: r.headers,
    getResponseHeader: (name) => {
      const v = r.headers[name.toLowerCase()];
      return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
    },
    getAllResponseHeaders: () =>
      Object.entries(r.headers)
        .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : v}\r\n`)
        .join(''),
  };
}
