// The fake EWS's Windows authentication, spoken to over raw HTTPS with NTLM messages made by
// @ewsjs/ntlm-client (an implementation no one here wrote): NTLMv2 checked against the password, LM/NTLMv1
// refused, the challenge bound to its connection, Negotiate carrying raw NTLM, Basic off by default.
import https from 'node:https';
import { createRequire } from 'node:module';
import { createType1Message, createType3Message, decodeType2Message } from '@ewsjs/ntlm-client';
import md4 from 'js-md4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeEws, startFakeEws } from '../../../src/lab/fake-ews.js';

const SVC = 'svc_vkmail_collector@corp.example';
const PASSWORD = 'Ntlm-Secret 7!';
const LOCKED = 'CORP\\locked_user';
const MAILBOX = 'a@corp.example';

let ews: FakeEws;

beforeAll(async () => {
  ews = await startFakeEws({
    users: { [SVC]: PASSWORD, [LOCKED]: 'Locked-pass 1' },
    mailboxes: [MAILBOX],
    impersonators: [SVC],
    lockedAccounts: [LOCKED],
  });
});
afterAll(() => ews.close());

interface Reply {
  status: number;
  /** Each WWW-Authenticate header, as sent. */
  authenticate: string[];
  body: string;
}

/** One kept-alive connection: every request of a Connection goes over the same TLS socket. */
function connection(server: FakeEws = ews): {
  send(authorization?: string, body?: string): Promise<Reply>;
  close(): void;
} {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: server.caPem });
  return {
    send: (authorization, body = getCalendar) =>
      new Promise((resolve, reject) => {
        const req = https.request(
          server.url,
          {
            method: 'POST',
            agent,
            timeout: 5000,
            headers: {
              'Content-Type': 'text/xml; charset=utf-8',
              ...(authorization ? { Authorization: authorization } : {}),
            },
          },
          (res) => {
            let text = '';
            res.on('data', (d: Buffer) => (text += d));
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                authenticate: res.rawHeaders.filter(
                  (_, i) => i % 2 === 1 && res.rawHeaders[i - 1]?.toLowerCase() === 'www-authenticate',
                ),
                body: text,
              }),
            );
          },
        );
        req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
        req.on('error', reject);
        req.end(body);
      }),
    close: () => agent.destroy(),
  };
}

const getCalendar = `<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">
  <s:Header><t:ExchangeImpersonation><t:ConnectingSID><t:SmtpAddress>${MAILBOX}</t:SmtpAddress></t:ConnectingSID></t:ExchangeImpersonation></s:Header>
  <s:Body><GetFolder xmlns="http://schemas.microsoft.com/exchange/services/2006/messages">
    <FolderShape><t:BaseShape>IdOnly</t:BaseShape></FolderShape>
    <FolderIds><t:DistinguishedFolderId Id="calendar"/></FolderIds></GetFolder></s:Body></s:Envelope>`;

/** Sends the NEGOTIATE and returns the decoded CHALLENGE and the header it came in. */
async function negotiate(c: ReturnType<typeof connection>, scheme = 'NTLM') {
  const type1 = createType1Message('WS01', '').replace(/^NTLM /, `${scheme} `);
  const r = await c.send(type1, '');
  expect(r.status).toBe(401);
  expect(r.authenticate).toHaveLength(1);
  const [name, token] = (r.authenticate[0] ?? '').split(' ');
  expect(name).toBe(scheme);
  return decodeType2Message(token ?? '');
}

const type3 = (type2: ReturnType<typeof decodeType2Message>, user: string, password: string, domain = '') =>
  createType3Message(type2, user, password, 'WS01', domain);

/** NTLMv1: the challenge DES-encrypted under the three 7-byte thirds of the zero-padded NT hash. */
function ntlmV1Response(challenge: Buffer, password: string): Buffer {
  const require = createRequire(import.meta.url);
  const { DES } = require('des.js') as {
    DES: { create(o: { type: 'encrypt'; key: Buffer }): { update(b: Buffer): number[] } };
  };
  const key21 = Buffer.concat([
    Buffer.from(md4.arrayBuffer(Buffer.from(password, 'utf16le'))),
    Buffer.alloc(5),
  ]);
  // 56 key bits spread over 8 bytes, 7 each, the low (parity) bit left 0: DES ignores it.
  const desKey = (k: Buffer) => {
    const bits = BigInt(`0x${k.toString('hex')}`);
    return Buffer.from(
      [0, 1, 2, 3, 4, 5, 6, 7].map((i) => Number((bits >> BigInt(49 - 7 * i)) & 0x7fn) << 1),
    );
  };
  return Buffer.concat(
    [0, 7, 14].map((at) =>
      Buffer.from(DES.create({ type: 'encrypt', key: desKey(key21.subarray(at, at + 7)) }).update(challenge)),
    ),
  );
}

/**
 * An AUTHENTICATE message with NTLMv1 responses (DES of the challenge under the NT hash, 24 bytes), correct for
 * the password: what an old client (LmCompatibilityLevel below 3) sends. @ewsjs/ntlm-client's own v1 path is
 * broken (it hands des.js a 7-byte key), so it is built here.
 */
function ntlmV1Authenticate(
  type2: ReturnType<typeof decodeType2Message>,
  user: string,
  password: string,
): string {
  const nt = ntlmV1Response(type2.challenge, password);
  const text = (t: string) => Buffer.from(t, type2.encoding === 'ucs2' ? 'utf16le' : 'latin1');
  const payload = [nt, nt, text(''), text(user), text('WS01')];
  const header = Buffer.alloc(64);
  Buffer.from('NTLMSSP\0', 'latin1').copy(header);
  header.writeUInt32LE(3, 8);
  let offset = 64;
  payload.forEach((p, i) => {
    header.writeUInt16LE(p.length, 12 + i * 8);
    header.writeUInt16LE(p.length, 14 + i * 8);
    header.writeUInt32LE(offset, 16 + i * 8);
    offset += p.length;
  });
  header.writeUInt32LE(type2.flags & ~0x80000, 60);
  return `NTLM ${Buffer.concat([header, ...payload]).toString('base64')}`;
}

describe('fake EWS Windows authentication', () => {
  it('offers Negotiate and NTLM, not Basic, and refuses Basic credentials', async () => {
    const c = connection();
    try {
      const none = await c.send();
      expect(none).toMatchObject({ status: 401, authenticate: ['Negotiate', 'NTLM'] });
      const basic = await c.send(`Basic ${Buffer.from(`${SVC}:${PASSWORD}`).toString('base64')}`);
      expect(basic).toMatchObject({ status: 401, authenticate: ['Negotiate', 'NTLM'] });
      expect(ews.requests.at(-1)).toMatchObject({ status: 401, auth: 'Basic', authFailure: 'scheme-off' });
    } finally {
      c.close();
    }
  });

  it('sends a real challenge: random, with the domain and server names, extended session security', async () => {
    const c = connection();
    try {
      const first = await negotiate(c);
      const second = await negotiate(c);
      expect(first.challenge).toHaveLength(8);
      expect(first.challenge.equals(second.challenge)).toBe(false);
      expect(first.version).toBe(2);
      expect(first.targetName).toBe('CORP');
      expect(first.targetInfo?.parsed).toEqual({
        DOMAIN: 'CORP',
        SERVER: 'EXCH1',
        DNS: 'corp.example',
        FQDN: 'exch1.corp.example',
        PARENT_DNS: 'corp.example',
      });
    } finally {
      c.close();
    }
  });

  it('accepts an NTLMv2 response computed with the password, and keeps the connection authenticated', async () => {
    const c = connection();
    try {
      const challenge = await negotiate(c);
      const ok = await c.send(type3(challenge, SVC, PASSWORD));
      expect(ok.status).toBe(200);
      expect(ok.body).toContain('ResponseClass="Success"');
      expect(ews.requests.at(-1)).toMatchObject({
        operation: 'GetFolder',
        account: SVC,
        auth: 'NTLM',
        status: 200,
      });
      // IIS authenticates the connection: the next request needs no header there ...
      expect((await c.send()).status).toBe(200);
      expect(ews.requests.at(-1)).toMatchObject({ account: SVC, auth: 'NTLM' });
    } finally {
      c.close();
    }
    // ... and only there.
    const other = connection();
    try {
      expect((await other.send()).status).toBe(401);
    } finally {
      other.close();
    }
  });

  it('refuses a response computed with a wrong password', async () => {
    const c = connection();
    try {
      const r = await c.send(type3(await negotiate(c), SVC, 'Ntlm-Secret 8!'));
      expect(r).toMatchObject({ status: 401, authenticate: ['Negotiate', 'NTLM'] });
      expect(ews.requests.at(-1)).toMatchObject({ status: 401, authFailure: 'wrong-password' });
      expect((await c.send()).status).toBe(401);
    } finally {
      c.close();
    }
  });

  it('refuses LM/NTLMv1 responses, even with the right password', async () => {
    const c = connection();
    try {
      const challenge = await negotiate(c);
      // The v1 response is right for the password: MS-NLMP 4.2.2.2.1's test vector.
      expect(ntlmV1Response(Buffer.from('0123456789abcdef', 'hex'), 'Password').toString('hex')).toBe(
        '67c43011f30298a2ad35ece64f16331c44bdbed927841f94',
      );
      const v1 = ntlmV1Authenticate(challenge, SVC, PASSWORD);
      expect((await c.send(v1)).status).toBe(401);
      expect(ews.requests.at(-1)).toMatchObject({ authFailure: 'not-ntlmv2' });
    } finally {
      c.close();
    }
  });

  it('binds the challenge to its connection: the right answer on another connection is refused', async () => {
    const a = connection();
    const b = connection();
    try {
      const challenge = await negotiate(a);
      const answer = type3(challenge, SVC, PASSWORD);
      expect((await b.send(answer)).status).toBe(401);
      expect(ews.requests.at(-1)).toMatchObject({ authFailure: 'no-challenge' });
      // b's try left a's challenge alone: a can still answer it, once ...
      expect((await a.send(answer)).status).toBe(200);
      // ... and a replay of the same answer finds no challenge.
      expect((await a.send(answer)).status).toBe(401);
      expect(ews.requests.at(-1)).toMatchObject({ authFailure: 'no-challenge' });
    } finally {
      a.close();
      b.close();
    }
  });

  it('takes the NTLM token under Negotiate and answers under that name', async () => {
    const c = connection();
    try {
      const challenge = await negotiate(c, 'Negotiate');
      const r = await c.send(type3(challenge, SVC, PASSWORD).replace(/^NTLM /, 'Negotiate '));
      expect(r.status).toBe(200);
      expect(ews.requests.at(-1)).toMatchObject({ account: SVC, auth: 'Negotiate' });
    } finally {
      c.close();
    }
  });

  it('matches DOMAIN\\user accounts by domain and user name, case-insensitively', async () => {
    const local = await startFakeEws({
      users: { 'CORP\\svc': 'pw-1', bare: 'pw-2' },
      mailboxes: [MAILBOX],
      impersonators: ['CORP\\svc', 'bare'],
    });
    try {
      for (const [user, domain, password, status] of [
        ['svc', 'corp', 'pw-1', 200],
        ['SVC', '', 'pw-1', 200],
        ['svc', 'OTHER', 'pw-1', 401],
        ['bare', 'ANY', 'pw-2', 200],
      ] as const) {
        const c = connection(local);
        try {
          const r = await c.send(type3(await negotiate(c), user, password, domain));
          expect([user, domain, r.status]).toEqual([user, domain, status]);
        } finally {
          c.close();
        }
      }
    } finally {
      await local.close();
    }
  });

  it('refuses a locked account after a valid NTLMv2 login', async () => {
    const c = connection();
    try {
      const r = await c.send(type3(await negotiate(c), 'locked_user', 'Locked-pass 1', 'CORP'));
      expect(r).toMatchObject({ status: 401, authenticate: ['Negotiate', 'NTLM'] });
      expect(ews.requests.at(-1)).toMatchObject({ authFailure: 'locked' });
    } finally {
      c.close();
    }
  });

  it('serves Basic beside NTLM when turned on', async () => {
    const both = await startFakeEws({
      users: { [SVC]: PASSWORD },
      mailboxes: [MAILBOX],
      impersonators: [SVC],
      basicAuth: true,
    });
    const c = connection(both);
    try {
      const none = await c.send();
      expect(none.authenticate).toEqual(['Negotiate', 'NTLM', `Basic realm="localhost:${both.port}"`]);
      expect((await c.send(`Basic ${Buffer.from(`${SVC}:${PASSWORD}`).toString('base64')}`)).status).toBe(
        200,
      );
      expect((await c.send(`Basic ${Buffer.from(`${SVC}:nope`).toString('base64')}`)).status).toBe(401);
    } finally {
      c.close();
      await both.close();
    }
  });
});
