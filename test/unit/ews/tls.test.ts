// TLS and transport paths of the EWS client: trust failures, protocol versions, old TLS, the tunnel.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalConnection } from '../../../src/connection/local.js';
import { type EwsConnectOptions, ewsConnect } from '../../../src/ews/client.js';
import { type FakeEws, type FakeEwsOptions, startFakeEws } from '../../../src/lab/fake-ews.js';
import { issueCert, makeCa, selfSignedCert } from '../../../src/lab/pki.js';

const SVC = 'CORP\\svc_vkmail';
const PASSWORD = 'tls-test-password';
const MAILBOX = 'anna@corp.example';
const base: FakeEwsOptions = {
  users: { [SVC]: PASSWORD },
  mailboxes: [MAILBOX],
  impersonators: [SVC],
  basicAuth: true,
};

const servers: FakeEws[] = [];
let dir: string;

async function serve(extra: Partial<FakeEwsOptions> = {}): Promise<FakeEws> {
  const s = await startFakeEws({ ...base, ...extra });
  servers.push(s);
  return s;
}

async function check(server: FakeEws, opts: Partial<EwsConnectOptions> = {}) {
  const client = await ewsConnect({
    url: server.url,
    username: SVC,
    password: PASSWORD,
    auth: 'basic',
    timeoutMs: 10_000,
    ...opts,
  });
  try {
    return await client.checkAccess(MAILBOX);
  } finally {
    client.close();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ewsplay-ews-tls-'));
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await rm(dir, { recursive: true, force: true });
});

describe('ews client TLS', () => {
  it('refuses a certificate from an unknown CA and says how to trust it', async () => {
    const s = await serve();
    await expect(check(s)).rejects.toMatchObject({
      kind: 'tls',
      message: expect.stringContaining(
        "the server's certificate was issued by a CA that is not trusted; give the CA",
      ),
    });
    // The same server with its CA given as a file, and with verification skipped.
    const caFile = join(dir, 'ca.pem');
    await writeFile(caFile, s.caPem ?? '');
    await expect(check(s, { caFile })).resolves.toMatchObject({ displayName: 'Calendar' });
    await expect(check(s, { skipVerify: true })).resolves.toMatchObject({ displayName: 'Calendar' });
  });

  it('names a self-signed certificate', async () => {
    const s = await serve({ cert: await selfSignedCert('localhost', ['localhost', '127.0.0.1']) });
    await expect(check(s)).rejects.toMatchObject({
      kind: 'tls',
      message: expect.stringContaining("the server's certificate is self-signed"),
    });
  });

  it('names an expired certificate even when its CA is trusted', async () => {
    const ca = await makeCa();
    const s = await serve({ cert: await issueCert(ca, 'localhost', ['localhost'], { expired: true }) });
    await expect(check(s, { caPem: ca.certPem })).rejects.toMatchObject({
      kind: 'tls',
      message: expect.stringContaining("the server's certificate has expired"),
    });
  });

  it('names a certificate issued for another host', async () => {
    const ca = await makeCa();
    const s = await serve({ cert: await issueCert(ca, 'mail.other.example', ['mail.other.example']) });
    await expect(check(s, { caPem: ca.certPem })).rejects.toMatchObject({
      kind: 'tls',
      message: expect.stringContaining("the server's certificate does not name localhost"),
    });
  });

  it('fails clearly when a TLS 1.3-only client meets a TLS 1.2-only server', async () => {
    const s = await serve({ tls: 'tls1.2-only' });
    await expect(check(s, { caPem: s.caPem })).resolves.toMatchObject({ displayName: 'Calendar' });
    await expect(check(s, { caPem: s.caPem, minTlsVersion: 'TLSv1.3' })).rejects.toMatchObject({
      kind: 'tls',
      message: expect.stringContaining(
        'the TLS handshake failed on the protocol version (this side allows TLSv1.3 and newer, the server speaks TLSv1.2 at most); set min_tls_version: TLSv1.2',
      ),
    });
  });

  it('names a TLS 1.0-only Exchange reached directly and sends the call through the forwarder (A3)', async () => {
    const s = await serve({ tls: 'tls1.0-only' });
    await expect(check(s, { caPem: s.caPem })).rejects.toMatchObject({
      kind: 'tls',
      message: `EWS at ${s.url} speaks only TLS 1.0 (TLSv1 is the newest version it accepts) and this side allows TLSv1.2 and newer, so the TLS handshake failed: go through the TLS forwarder of step A3 (ews_verify_through_forwarder: true, the way VK's containers reach EWS: TLS 1.3 to the forwarder on the mail server, TLS 1.0 from it to Exchange), or set min_tls_version: TLSv1 for a direct call`,
    });
    await expect(check(s, { caPem: s.caPem, minTlsVersion: 'TLSv1.1' })).rejects.toMatchObject({
      message: expect.stringContaining(
        'speaks only TLS 1.0 (TLSv1 is the newest version it accepts) and this side allows TLSv1.1 and newer',
      ),
    });
    // The advice holds: allowed TLSv1, the same direct call goes through.
    await expect(check(s, { caPem: s.caPem, minTlsVersion: 'TLSv1' })).resolves.toMatchObject({
      displayName: 'Calendar',
    });
  });

  it('reaches an old TLS 1.1 server only when min_tls_version allows it', async () => {
    const s = await serve({ tls: 'tls1.1-only' });
    await expect(check(s, { caPem: s.caPem })).rejects.toMatchObject({
      kind: 'tls',
      message: expect.stringContaining('speaks only TLS 1.1 (TLSv1.1 is the newest version it accepts)'),
    });
    await expect(check(s, { caPem: s.caPem, minTlsVersion: 'TLSv1.1' })).resolves.toMatchObject({
      displayName: 'Calendar',
    });
  });

  it('rejects a ca_file that holds no certificate', async () => {
    const s = await serve();
    const caFile = join(dir, 'not-a-cert.pem');
    await writeFile(caFile, 'hello\n');
    await expect(check(s, { caFile })).rejects.toThrow(`ca_file ${caFile} holds no PEM certificate`);
  });
});

describe('ews client with NTLM (Exchange as shipped: Basic off)', () => {
  const ntlmOnly = { basicAuth: false };
  const loggedInWithNtlm = (s: FakeEws) =>
    expect(s.requests.filter((r) => r.status === 200).map((r) => [r.auth, r.account])).toEqual([
      ['NTLM', SVC],
    ]);

  it('trusts a ca_file, and still refuses an unknown CA', async () => {
    const s = await serve(ntlmOnly);
    const caFile = join(dir, 'ntlm-ca.pem');
    await writeFile(caFile, s.caPem ?? '');
    await expect(check(s, { auth: 'ntlm', caFile })).resolves.toMatchObject({ displayName: 'Calendar' });
    loggedInWithNtlm(s);
    await expect(check(s, { auth: 'ntlm' })).rejects.toMatchObject({
      kind: 'tls',
      message: expect.stringContaining('give the CA certificate (PEM) in ca_file'),
    });
  });

  it('reaches a TLS 1.1-only server only when min_tls_version allows it', async () => {
    const s = await serve({ ...ntlmOnly, tls: 'tls1.1-only' });
    await expect(check(s, { auth: 'ntlm', caPem: s.caPem })).rejects.toMatchObject({ kind: 'tls' });
    await expect(check(s, { auth: 'ntlm', caPem: s.caPem, minTlsVersion: 'TLSv1.1' })).resolves.toMatchObject(
      {
        displayName: 'Calendar',
      },
    );
    loggedInWithNtlm(s);
  });

  it('logs in with skip_verify', async () => {
    const s = await serve(ntlmOnly);
    await expect(check(s, { auth: 'ntlm', skipVerify: true })).resolves.toMatchObject({
      displayName: 'Calendar',
    });
    loggedInWithNtlm(s);
  });
});

describe('ews client tunnel', () => {
  it('reaches EWS through a connection forwardOut, verifying the certificate end to end', async () => {
    const s = await serve();
    const conn = new LocalConnection('mail1');
    const opened: string[] = [];
    const tunnel = async (host: string, port: number) => {
      opened.push(`${host}:${port}`);
      return conn.forwardOut('127.0.0.1', port);
    };
    await expect(check(s, { caPem: s.caPem, tunnel })).resolves.toMatchObject({ displayName: 'Calendar' });
    expect(opened).toEqual([`localhost:${s.port}`]);
    // A tunnel that cannot open fails the call with the tunnel's reason.
    const broken = async () => {
      throw new Error('channel open failure: administratively prohibited');
    };
    await expect(check(s, { caPem: s.caPem, tunnel: broken })).rejects.toThrow('administratively prohibited');
  });

  it('names a TLS 1.0-only server behind the tunnel too, asking it through the same tunnel', async () => {
    const s = await serve({ tls: 'tls1.0-only', basicAuth: false });
    const conn = new LocalConnection('mail1');
    const opened: string[] = [];
    const tunnel = async (host: string, port: number) => {
      opened.push(`${host}:${port}`);
      return conn.forwardOut('127.0.0.1', port);
    };
    await expect(check(s, { auth: 'ntlm', caPem: s.caPem, tunnel })).rejects.toMatchObject({
      kind: 'tls',
      message: expect.stringContaining('speaks only TLS 1.0 (TLSv1 is the newest version it accepts)'),
    });
    // The call's connection, then the one that asked the server its version.
    expect(opened).toEqual([`localhost:${s.port}`, `localhost:${s.port}`]);
  });
});
