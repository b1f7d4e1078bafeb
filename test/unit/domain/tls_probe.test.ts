import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Ca, type IssuedCert, issueCert, makeCa, selfSignedCert } from '../../../src/lab/pki.js';
import { type CertificateFacts, judge, tlsProbeModule } from '../../../src/modules/tls_probe.js';
import { argsValidator, makeContext } from '../modules/context.js';

let ca: Ca;
let good: IssuedCert;
let expired: IssuedCert;
let shortLived: IssuedCert;
let selfSigned: IssuedCert;
const servers: net.Server[] = [];

async function serve(server: net.Server): Promise<number> {
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

function tlsServer(cert: IssuedCert, opts: tls.TlsOptions = {}): Promise<number> {
  const server = tls.createServer({ key: cert.keyPem, cert: cert.certPem, ...opts }, (s) => s.end('hi\n'));
  server.on('tlsClientError', () => {});
  return serve(server);
}

async function freePort(): Promise<number> {
  const port = await serve(net.createServer());
  const server = servers.pop() as net.Server;
  server.close();
  await once(server, 'close');
  return port;
}

beforeAll(async () => {
  ca = await makeCa('ewsplay probe CA');
  [good, expired, shortLived, selfSigned] = await Promise.all([
    issueCert(ca, 'mail.lab.example', ['mail.lab.example', '127.0.0.1']),
    issueCert(ca, 'old.lab.example', ['old.lab.example'], { expired: true }),
    issueCert(ca, 'soon.lab.example', ['soon.lab.example'], { days: 10 }),
    selfSignedCert('forwarder.lab.example', ['forwarder.lab.example']),
  ]);
});
afterAll(() => {
  for (const s of servers) s.close();
});

const probe = (args: Record<string, unknown>, check = false) =>
  tlsProbeModule.run(makeContext({ host: 'mail1', check }), args);

describe('tls_probe', () => {
  it('reports protocol, cipher and certificate, trusted through ca_pem, in check mode too', async () => {
    const port = await tlsServer(good);
    for (const check of [false, true]) {
      const r = await probe(
        { port, ca_pem: ca.certPem, expect_subject: 'mail.lab.example', min_days_valid: 30 },
        check,
      );
      expect(r.failed).toBeUndefined();
      expect(r.changed).toBe(false);
      expect(r.data).toMatchObject({
        host: '127.0.0.1',
        port,
        from: 'mail1',
        protocol: 'TLSv1.3',
        subject: 'CN=mail.lab.example',
        subject_cn: 'mail.lab.example',
        issuer: 'CN=ewsplay probe CA',
        trusted: true,
        self_signed: false,
        subject_alt_names: ['DNS:mail.lab.example', 'IP Address:127.0.0.1'],
      });
      const data = r.data as unknown as CertificateFacts;
      expect(data.days_left).toBeGreaterThan(800);
      expect(data.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      expect(r.msg).toMatch(
        /^TLSv1\.3 \(TLS_\w+\) at 127\.0\.0\.1:\d+ from mail1: CN=mail\.lab\.example, issued by/,
      );
    }
  });

  it('says nothing listens when the port is closed', async () => {
    const port = await freePort();
    const r = await probe({ port });
    expect(r).toMatchObject({
      failed: true,
      msg: `nothing listens on 127.0.0.1:${port} on mail1: is the forwarder running?`,
    });
  });

  it('names the versions offered when the server speaks none of them', async () => {
    const port = await tlsServer(good, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
    const r = await probe({ port, min_version: 'TLSv1.3', ca_pem: ca.certPem });
    expect(r.failed).toBe(true);
    expect(r.msg).toMatch(
      /^TLS handshake with 127\.0\.0\.1:\d+ \(from mail1\) failed: the client offered TLSv1\.3 only; the server said: .*protocol version/,
    );
  });

  it('reports TLSv1.2 when that is all the server speaks', async () => {
    const port = await tlsServer(good, { maxVersion: 'TLSv1.2' });
    const r = await probe({ port, ca_pem: ca.certPem });
    expect(r.data).toMatchObject({ protocol: 'TLSv1.2', trusted: true });
  });

  it('tells a plain TCP port from a TLS one', async () => {
    const port = await serve(net.createServer((s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n')));
    const r = await probe({ port });
    expect(r.failed).toBe(true);
    expect(r.msg).toMatch(/the client offered TLSv1\.2 to TLSv1\.3; the server did not answer in TLS/);
  });

  it('fails on an expired certificate, saying when it expired', async () => {
    const port = await tlsServer(expired);
    const r = await probe({ port, ca_pem: ca.certPem });
    expect(r.failed).toBe(true);
    expect(r.msg).toMatch(/^the certificate expired on \d{4}-\d\d-\d\dT/);
    expect(r.data).toMatchObject({ subject: 'CN=old.lab.example' });
  });

  it('fails on a self-signed certificate with a hint, and trusts it given as ca_file', async () => {
    const port = await tlsServer(selfSigned);
    const r = await probe({ port });
    expect(r.failed).toBe(true);
    expect(r.msg).toMatch(/^the certificate is not trusted: it is self-signed; give ca_file/);
    expect(r.data).toMatchObject({ self_signed: true, trusted: false });

    const { writeFile, mkdtemp, rm } = await import('node:fs/promises');
    const dir = await mkdtemp('/tmp/ewsplay-ca-');
    await writeFile(`${dir}/forwarder.pem`, selfSigned.certPem);
    const trusted = await probe({ port, ca_file: `${dir}/forwarder.pem` });
    await rm(dir, { recursive: true });
    expect(trusted.failed).toBeUndefined();
    expect(trusted.data).toMatchObject({ trusted: true });
  });

  it('fails on a certificate from an unknown CA, unless verify is false', async () => {
    const port = await tlsServer(good);
    const r = await probe({ port });
    expect(r.msg).toMatch(
      /^the certificate is not trusted: it is issued by an unknown CA \(\w+\); give ca_file/,
    );
    const lenient = await probe({ port, verify: false });
    expect(lenient.failed).toBeUndefined();
    expect(lenient.msg).toContain('not trusted: it is issued by an unknown CA');
  });

  it('fails when the certificate is for another name', async () => {
    const port = await tlsServer(good);
    const r = await probe({ port, ca_pem: ca.certPem, expect_subject: 'ews.corp.example' });
    expect(r.failed).toBe(true);
    expect(r.msg).toMatch(
      /^the certificate is for mail\.lab\.example, DNS:mail\.lab\.example, IP Address:127\.0\.0\.1, not ews\.corp\.example/,
    );
  });

  it('fails when fewer days are left than asked', async () => {
    const port = await tlsServer(shortLived);
    const r = await probe({ port, ca_pem: ca.certPem, min_days_valid: 30 });
    expect(r.failed).toBe(true);
    expect(r.msg).toMatch(/^the certificate expires in 9 days .*, fewer than 30/);
  });

  it('refuses a ca_pem that is no certificate', async () => {
    const r = await probe({ port: 1, ca_pem: 'not a pem' });
    expect(r).toMatchObject({
      failed: true,
      msg: 'ca_pem holds no PEM certificate (-----BEGIN CERTIFICATE-----)',
    });
  });

  it('judges a certificate that is not valid yet', () => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    const facts: CertificateFacts = {
      protocol: 'TLSv1.3',
      cipher: 'TLS_AES_128_GCM_SHA256',
      pem: '',
      subject: 'CN=x',
      subject_cn: 'x',
      subject_alt_names: [],
      issuer: 'CN=ca',
      valid_from: '2030-02-01T00:00:00.000Z',
      valid_to: '2031-02-01T00:00:00.000Z',
      days_left: 396,
      fingerprint256: '',
      serial: '01',
      self_signed: false,
      trusted: false,
      trust_error: 'it is not valid yet',
    };
    expect(judge(facts, { verify: true }, now)).toEqual([
      'the certificate is not valid yet (from 2030-02-01T00:00:00.000Z)',
    ]);
    expect(judge(facts, { verify: false }, now)).toEqual([]);
  });

  it('has a strict args schema', () => {
    const valid = argsValidator(tlsProbeModule);
    expect(valid({ port: 9443 })).toBe(true);
    expect(valid({ port: 9443, host: '127.0.0.1', ca_file: 'ca.pem', min_version: 'TLSv1.1' })).toBe(true);
    expect(valid({ port: 9443, ca_file: 'a', ca_pem: 'b' })).toBe(false);
    expect(valid({ port: 70000 })).toBe(false);
    expect(valid({ host: 'x' })).toBe(false);
    expect(valid({ port: 1, insecure: true })).toBe(false);
  });
});
