// The EWS client's authentication against the fake Exchange, through the real ews-javascript-api: NTLMv2 over
// our own agent (CA, tunnel), NTLM under Negotiate, auto, Basic on and off, and the sentences for a wrong
// password, a locked account and a scheme the server does not offer, none carrying a credential.
import net from 'node:net';
import type { Duplex } from 'node:stream';
import md4 from 'js-md4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EwsConnectOptions, ewsConnect } from '../../../src/ews/client.js';
import { type FakeEws, type FakeEwsOptions, startFakeEws } from '../../../src/lab/fake-ews.js';

const SVC = 'svc_vkmail_collector@corp.example';
const PASSWORD = 'Ntlm client 9!';
const DOMAIN_USER = 'CORP\\sync_admin';
const DOMAIN_PASSWORD = 'Другой-пароль 3';
const LOCKED = 'CORP\\left_company';
const LOCKED_PASSWORD = 'Still-right 1';
const MAILBOX = 'Pavel.Orlov@corp.example';

const servers: FakeEws[] = [];

async function serve(extra: Partial<FakeEwsOptions> = {}): Promise<FakeEws> {
  const s = await startFakeEws({
    users: { [SVC]: PASSWORD, [DOMAIN_USER]: DOMAIN_PASSWORD, [LOCKED]: LOCKED_PASSWORD },
    mailboxes: [MAILBOX],
    impersonators: [SVC, DOMAIN_USER, LOCKED],
    lockedAccounts: [LOCKED],
    ...extra,
  });
  servers.push(s);
  return s;
}

let exchange: FakeEws;
beforeAll(async () => {
  exchange = await serve();
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

function connect(server: FakeEws, extra: Partial<EwsConnectOptions> = {}) {
  return ewsConnect({
    url: server.url,
    username: SVC,
    password: PASSWORD,
    auth: 'auto',
    caPem: server.caPem,
    timeoutMs: 10_000,
    ...extra,
  });
}

async function checkAccess(server: FakeEws, extra: Partial<EwsConnectOptions> = {}) {
  const client = await connect(server, extra);
  try {
    return await client.checkAccess(MAILBOX);
  } finally {
    client.close();
  }
}

const failureOf = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e as Error & { kind: string },
  );

/** Schemes and accounts of the requests the server answered (not the 401s of a handshake). */
const logins = (s: FakeEws, since = 0) =>
  s.requests
    .slice(since)
    .filter((r) => r.status !== 401)
    .map((r) => [r.auth, r.account]);

/** A tunnel made of plain TCP connections (as an SSH forwardOut gives), each one recorded. */
function tcpTunnel() {
  const opened: net.Socket[] = [];
  const tunnel = (host: string, port: number): Promise<Duplex> =>
    new Promise((resolve, reject) => {
      // The certificate is for localhost; the stream goes to its loopback address.
      const s = net.connect({ host: host === 'localhost' ? '127.0.0.1' : host, port }, () => resolve(s));
      s.once('error', reject);
      opened.push(s);
    });
  return { tunnel, opened };
}

describe('NTLM through the client', () => {
  it('auto takes NTLM on a default Exchange and runs a whole verification on one tunnelled connection', async () => {
    const { tunnel, opened } = tcpTunnel();
    const n = exchange.requests.length;
    const client = await connect(exchange, { tunnel });
    try {
      const start = new Date(Date.UTC(2031, 0, 5, 9, 0, 0));
      const end = new Date(start.getTime() + 15 * 60_000);
      await client.checkAccess(MAILBOX);
      const id = await client.createTestEvent(MAILBOX, 'ntlm through a tunnel', start, end);
      expect(await client.findEvent(MAILBOX, 'ntlm through a tunnel', start, end)).toMatchObject({ id });
      await client.deleteEvent(MAILBOX, id);
    } finally {
      client.close();
    }
    expect(opened).toHaveLength(1);
    expect(logins(exchange, n)).toEqual(Array(5).fill(['NTLM', SVC]));
    // The probe that learns the offers, then one negotiate: a single handshake for all five calls.
    expect(exchange.requests.slice(n).filter((r) => r.status === 401)).toHaveLength(2);
    expect(exchange.events(MAILBOX)).toEqual([]);
  });

  it('logs in again when the server drops the authenticated connection', async () => {
    const { tunnel, opened } = tcpTunnel();
    const n = exchange.requests.length;
    const client = await connect(exchange, { tunnel, auth: 'ntlm' });
    try {
      await client.checkAccess(MAILBOX);
      for (const s of opened) s.destroy();
      await expect(client.checkAccess(MAILBOX)).resolves.toMatchObject({ displayName: 'Calendar' });
    } finally {
      client.close();
    }
    expect(opened).toHaveLength(2);
    expect(logins(exchange, n)).toEqual([
      ['NTLM', SVC],
      ['NTLM', SVC],
    ]);
  });

  it('speaks for DOMAIN\\user accounts, non-ASCII passwords included', async () => {
    const n = exchange.requests.length;
    await expect(
      checkAccess(exchange, { auth: 'ntlm', username: DOMAIN_USER, password: DOMAIN_PASSWORD }),
    ).resolves.toMatchObject({ displayName: 'Calendar' });
    expect(logins(exchange, n)).toEqual([['NTLM', DOMAIN_USER]]);
  });

  it('sends the NTLM token under Negotiate to a server that offers only Negotiate', async () => {
    const s = await serve({ windowsAuthProviders: ['Negotiate'] });
    for (const auth of ['ntlm', 'auto'] as const) {
      const n = s.requests.length;
      await expect(checkAccess(s, { auth })).resolves.toMatchObject({ displayName: 'Calendar' });
      expect(logins(s, n)).toEqual([['Negotiate', SVC]]);
    }
  });
});

describe('Basic', () => {
  it('works when the server turned it on; auto still prefers NTLM there', async () => {
    const s = await serve({ basicAuth: true });
    await expect(checkAccess(s, { auth: 'basic' })).resolves.toMatchObject({ displayName: 'Calendar' });
    expect(logins(s)).toEqual([['Basic', SVC]]);
    const n = s.requests.length;
    await checkAccess(s, { auth: 'auto' });
    expect(logins(s, n)).toEqual([['NTLM', SVC]]);
  });

  it('is what auto takes when the server offers nothing else', async () => {
    const s = await serve({ basicAuth: true, windowsAuthProviders: [] });
    await expect(checkAccess(s)).resolves.toMatchObject({ displayName: 'Calendar' });
    expect(logins(s)).toEqual([['Basic', SVC]]);
  });

  it('is refused in one sentence naming what the server offers when Exchange has it off', async () => {
    const e = await failureOf(checkAccess(exchange, { auth: 'basic' }));
    expect(e.kind).toBe('unauthorized');
    expect(e.message).toBe(
      `EWS at ${exchange.url}: the server offers Negotiate, NTLM; Basic is off on this Exchange: use ews_auth: ntlm or auto`,
    );
  });
});

describe('authentication failures, each one sentence and free of credentials', () => {
  const ntHashHex = (password: string) =>
    Buffer.from(md4.arrayBuffer(Buffer.from(password, 'utf16le'))).toString('hex');
  const expectNoCredential = (e: Error, password: string) => {
    const text = `${e.message} ${JSON.stringify(e)} ${e.stack ?? ''}`;
    expect(text).not.toContain(password);
    expect(text.toLowerCase()).not.toContain(ntHashHex(password));
    expect(text).not.toContain(Buffer.from(password).toString('base64'));
    // No NTLM message of any type ("NTLMSSP\0" in base64).
    expect(text).not.toContain('TlRMTVNTUA');
  };

  it('a wrong password', async () => {
    const wrong = 'Ntlm client 8!';
    for (const auth of ['ntlm', 'auto'] as const) {
      const e = await failureOf(checkAccess(exchange, { auth, password: wrong }));
      expect(e.kind).toBe('unauthorized');
      expect(e.message).toBe(
        `EWS at ${exchange.url} refused the NTLM login of ${SVC} (the server offers Negotiate, NTLM): the password is wrong, or the account may be locked or disabled; check the password and the user name (DOMAIN\\user or user@domain), and in Active Directory that the account is enabled and not locked out`,
      );
      expectNoCredential(e, wrong);
      expect(exchange.requests.at(-1)).toMatchObject({ status: 401, authFailure: 'wrong-password' });
    }
  });

  it('a locked or disabled account, its password right', async () => {
    const e = await failureOf(
      checkAccess(exchange, { auth: 'ntlm', username: LOCKED, password: LOCKED_PASSWORD }),
    );
    expect(e.message).toContain(
      `refused the NTLM login of ${LOCKED} (the server offers Negotiate, NTLM): the password is wrong, or the account may be locked or disabled`,
    );
    expectNoCredential(e, LOCKED_PASSWORD);
    expect(exchange.requests.at(-1)).toMatchObject({ status: 401, authFailure: 'locked' });
  });

  it('NTLM asked of a server with Windows authentication off', async () => {
    const s = await serve({ basicAuth: true, windowsAuthProviders: [] });
    const e = await failureOf(checkAccess(s, { auth: 'ntlm' }));
    expect(e.message).toBe(
      `EWS at ${s.url}: the server offers Basic; Windows authentication (NTLM, Negotiate) is off on this Exchange: use ews_auth: basic or auto, or turn Windows authentication on for the EWS virtual directory`,
    );
    // Nothing was sent with credentials: the one request was the probe.
    expect(s.requests.map((r) => [r.status, r.auth])).toEqual([[401, undefined]]);
  });

  it('a wrong Basic password where Basic is on', async () => {
    const s = await serve({ basicAuth: true });
    const e = await failureOf(checkAccess(s, { auth: 'basic', password: 'nope-nope' }));
    expect(e.message).toContain(
      `refused the Basic login of ${SVC} (the server offers Negotiate, NTLM, Basic): the password is wrong`,
    );
    expectNoCredential(e, 'nope-nope');
  });
});
