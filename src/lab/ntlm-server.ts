// The server side of NTLM as Windows authentication (IIS, hence Exchange's EWS) runs it over HTTP: a NEGOTIATE
// (type 1) gets a CHALLENGE (type 2) with a random server challenge and the target info (domain and server
// names); the AUTHENTICATE (type 3) that follows on the same connection is checked against the account's
// password. Only NTLMv2 responses are accepted, as on a hardened Exchange (LmCompatibilityLevel 5): LM and
// NTLMv1 responses are refused. A challenge belongs to the connection it was sent on and is used once.
// Message layouts: MS-NLMP 2.2.1; the NTLMv2 computation: MS-NLMP 3.3.2.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import md4 from 'js-md4';

const SIGNATURE = Buffer.from('NTLMSSP\0', 'latin1');

/** NEGOTIATE flags (MS-NLMP 2.2.2.5) the server reads or sets. */
export const NTLM_FLAGS = {
  unicode: 0x1,
  oem: 0x2,
  requestTarget: 0x4,
  sign: 0x10,
  seal: 0x20,
  ntlm: 0x200,
  alwaysSign: 0x8000,
  targetTypeDomain: 0x10000,
  extendedSessionSecurity: 0x80000,
  targetInfo: 0x800000,
  version: 0x2000000,
  bits128: 0x20000000,
  keyExchange: 0x40000000,
  bits56: 0x80000000,
} as const;

/** Client flags the server agrees to when asked (it never signs or seals: HTTP carries no NTLM session). */
const ECHOED =
  NTLM_FLAGS.alwaysSign |
  NTLM_FLAGS.extendedSessionSecurity |
  NTLM_FLAGS.version |
  NTLM_FLAGS.bits128 |
  NTLM_FLAGS.bits56 |
  NTLM_FLAGS.keyExchange |
  NTLM_FLAGS.sign |
  NTLM_FLAGS.seal;

/** Windows accepts an NTLMv2 response whose timestamp is within this of its own clock (MaxLifetime). */
const MAX_CLOCK_SKEW_MS = 36 * 3600_000;
/** Milliseconds between 1601-01-01 (FILETIME's epoch) and 1970-01-01. */
const FILETIME_EPOCH_MS = 11_644_473_600_000;

export interface WindowsDomain {
  /** NetBIOS domain name, e.g. CORP */
  netbiosDomain: string;
  /** DNS domain, e.g. corp.example */
  dnsDomain: string;
  /** NetBIOS name of the Exchange server, e.g. EXCH1 */
  server: string;
}

/** The Windows domain of a mail domain as an Active Directory of that name would call itself. */
export function windowsDomainOf(dnsDomain: string): WindowsDomain {
  const first = dnsDomain.split('.')[0] || 'CORP';
  return {
    netbiosDomain: first.toUpperCase().slice(0, 15),
    dnsDomain: dnsDomain.toLowerCase(),
    server: 'EXCH1',
  };
}

/** Who an AUTHENTICATE message says it is. */
export interface NtlmIdentity {
  user: string;
  domain: string;
  workstation: string;
}

export type NtlmRefusal =
  | 'malformed'
  | 'no-challenge'
  | 'anonymous'
  | 'not-ntlmv2'
  | 'unknown-account'
  | 'wrong-password'
  | 'stale';

export type NtlmStep =
  | { kind: 'challenge'; token: Buffer }
  | { kind: 'authenticated'; account: string; identity: NtlmIdentity }
  | { kind: 'refused'; reason: NtlmRefusal; identity?: NtlmIdentity };

/** Finds the account an NTLM user and domain name, with its password. */
export type AccountLookup = (
  user: string,
  domain: string,
) => { account: string; password: string } | undefined;

interface Pending {
  challenge: Buffer;
  flags: number;
}

export class NtlmServer {
  private readonly pending = new WeakMap<object, Pending>();

  constructor(
    private readonly domain: WindowsDomain,
    private readonly lookup: AccountLookup,
  ) {}

  /** One leg of the handshake on `connection` (its socket: the challenge is bound to it). */
  step(connection: object, token: Buffer): NtlmStep {
    const type = messageType(token);
    if (type === 1) {
      const challenge = randomBytes(8);
      const flags = negotiatedFlags(token.readUInt32LE(12));
      this.pending.set(connection, { challenge, flags });
      return { kind: 'challenge', token: challengeMessage(this.domain, challenge, flags) };
    }
    if (type === 3) {
      const pending = this.pending.get(connection);
      // A challenge answers once: a replayed or second AUTHENTICATE finds none.
      this.pending.delete(connection);
      if (!pending) return { kind: 'refused', reason: 'no-challenge' };
      return this.verify(pending, token);
    }
    return { kind: 'refused', reason: 'malformed' };
  }

  private verify(pending: Pending, token: Buffer): NtlmStep {
    const unicode = (pending.flags & NTLM_FLAGS.unicode) !== 0;
    const fields = readAuthenticate(token, unicode);
    if (!fields) return { kind: 'refused', reason: 'malformed' };
    const { identity, ntResponse } = fields;
    if (!identity.user && ntResponse.length === 0) return { kind: 'refused', reason: 'anonymous', identity };
    // 24 bytes is an NTLMv1 (or NTLM2 session) response, none an LM-only one; NTLMv2's blob starts 01 01.
    if (ntResponse.length < 16 + 28 || ntResponse[16] !== 1 || ntResponse[17] !== 1) {
      return { kind: 'refused', reason: 'not-ntlmv2', identity };
    }
    const found = this.lookup(identity.user, identity.domain);
    if (!found) return { kind: 'refused', reason: 'unknown-account', identity };
    const blob = ntResponse.subarray(16);
    const key = hmacMd5(
      ntHash(found.password),
      Buffer.from(identity.user.toUpperCase() + identity.domain, 'utf16le'),
    );
    const proof = hmacMd5(key, Buffer.concat([pending.challenge, blob]));
    if (!timingSafeEqual(proof, ntResponse.subarray(0, 16))) {
      return { kind: 'refused', reason: 'wrong-password', identity };
    }
    const sentAt = Number(blob.readBigUInt64LE(8) / 10_000n) - FILETIME_EPOCH_MS;
    if (Math.abs(Date.now() - sentAt) > MAX_CLOCK_SKEW_MS)
      return { kind: 'refused', reason: 'stale', identity };
    return { kind: 'authenticated', account: found.account, identity };
  }
}

/** 1, 2 or 3 for an NTLMSSP message, undefined for anything else. */
export function messageType(token: Buffer): number | undefined {
  if (token.length < 16 || !token.subarray(0, 8).equals(SIGNATURE)) return undefined;
  return token.readUInt32LE(8);
}

/** The NT hash: MD4 of the UTF-16LE password. */
function ntHash(password: string): Buffer {
  return Buffer.from(md4.arrayBuffer(Buffer.from(password, 'utf16le')));
}

function hmacMd5(key: Buffer, data: Buffer): Buffer {
  return createHmac('md5', key).update(data).digest();
}

function negotiatedFlags(client: number): number {
  const strings = client & NTLM_FLAGS.unicode ? NTLM_FLAGS.unicode : NTLM_FLAGS.oem;
  return (
    (strings |
      NTLM_FLAGS.requestTarget |
      NTLM_FLAGS.ntlm |
      NTLM_FLAGS.targetTypeDomain |
      NTLM_FLAGS.targetInfo |
      (client & ECHOED)) >>>
    0
  );
}

/** CHALLENGE_MESSAGE: 56-byte header (with Version), then the target name and the target info. */
function challengeMessage(domain: WindowsDomain, challenge: Buffer, flags: number): Buffer {
  const unicode = (flags & NTLM_FLAGS.unicode) !== 0;
  const targetName = Buffer.from(domain.netbiosDomain, unicode ? 'utf16le' : 'latin1');
  const targetInfo = Buffer.concat([
    avPair(2, domain.netbiosDomain),
    avPair(1, domain.server),
    avPair(4, domain.dnsDomain),
    avPair(3, `${domain.server.toLowerCase()}.${domain.dnsDomain}`),
    avPair(5, domain.dnsDomain),
    avPair(7, filetimeNow()),
    avPair(0, Buffer.alloc(0)),
  ]);
  const header = Buffer.alloc(56);
  SIGNATURE.copy(header, 0);
  header.writeUInt32LE(2, 8);
  writeField(header, 12, targetName.length, 56);
  header.writeUInt32LE(flags >>> 0, 20);
  challenge.copy(header, 24);
  writeField(header, 40, targetInfo.length, 56 + targetName.length);
  // Windows Server 2012 R2 (6.3, build 9600), NTLM revision 15: what an Exchange 2013 host reports.
  Buffer.from([6, 3, 0x80, 0x25, 0, 0, 0, 15]).copy(header, 48);
  return Buffer.concat([header, targetName, targetInfo]);
}

function avPair(id: number, value: string | Buffer): Buffer {
  const data = typeof value === 'string' ? Buffer.from(value, 'utf16le') : value;
  const head = Buffer.alloc(4);
  head.writeUInt16LE(id, 0);
  head.writeUInt16LE(data.length, 2);
  return Buffer.concat([head, data]);
}

function filetimeNow(): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(Date.now() + FILETIME_EPOCH_MS) * 10_000n);
  return b;
}

function writeField(buf: Buffer, at: number, length: number, offset: number): void {
  buf.writeUInt16LE(length, at);
  buf.writeUInt16LE(length, at + 2);
  buf.writeUInt32LE(offset, at + 4);
}

/** The parts of an AUTHENTICATE_MESSAGE the check needs; undefined when a field points outside the message. */
function readAuthenticate(
  token: Buffer,
  unicode: boolean,
): { identity: NtlmIdentity; ntResponse: Buffer } | undefined {
  if (token.length < 52) return undefined;
  const field = (at: number): Buffer | undefined => {
    const length = token.readUInt16LE(at);
    const offset = token.readUInt32LE(at + 4);
    if (length === 0) return Buffer.alloc(0);
    return offset + length <= token.length ? token.subarray(offset, offset + length) : undefined;
  };
  const [nt, domain, user, workstation] = [field(20), field(28), field(36), field(44)];
  if (!nt || !domain || !user || !workstation) return undefined;
  const text = (b: Buffer) => b.toString(unicode ? 'utf16le' : 'latin1');
  return {
    identity: { user: text(user), domain: text(domain), workstation: text(workstation) },
    ntResponse: nt,
  };
}
