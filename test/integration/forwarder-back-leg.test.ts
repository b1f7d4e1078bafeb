// A3.4 against the chain VK uses, with real parts: the fake Exchange EWS speaking ONLY TLS 1.0, the
// distribution's socat bridging TLS 1.3 on a local port to it (openssl-min-proto-version=TLS1 and
// cipher=DEFAULT@SECLEVEL=0 on its backend side), and tls_probe sending an HTTP request through the
// forwarder after the handshake. socat completes the client's handshake before it connects its backend, so
// the handshake alone passes whatever is behind it: the test breaks the backend (the fake EWS stopped, a
// forwarder pointed at a closed port) and sees the probe fail, saying so.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeEws, startFakeEws } from '../../src/lab/fake-ews.js';
import { selfSignedCert } from '../../src/lab/pki.js';
import { freePort } from '../../src/lab/sshd.js';
import { tlsProbeModule } from '../../src/modules/tls_probe.js';
import { makeContext } from '../unit/modules/context.js';

const hasSocat = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v socat'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

let dir: string;
let ews: FakeEws;
let forwarderCert: string;
const children: ChildProcess[] = [];

/** socat as VK's unit runs it: TLS (1.3 among others) in, TLS 1.0 allowed towards the backend. */
async function startSocat(backendPort: number): Promise<number> {
  const port = await freePort();
  const child = spawn(
    'socat',
    [
      `OPENSSL-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork,cert=${join(dir, 'fwd.pem')},key=${join(dir, 'fwd.key')},verify=0`,
      `OPENSSL:127.0.0.1:${backendPort},verify=0,openssl-min-proto-version=TLS1,cipher=DEFAULT@SECLEVEL=0`,
    ],
    { stdio: 'ignore' },
  );
  children.push(child);
  const deadline = Date.now() + 5000;
  while (!(await accepts(port))) {
    if (Date.now() > deadline) throw new Error('socat did not listen');
    await new Promise((r) => setTimeout(r, 25));
  }
  return port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

const probe = (args: Record<string, unknown>) =>
  tlsProbeModule.run(makeContext({ host: 'mail1' }), { verify: false, timeout: 5, ...args });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ewsplay-fwd-'));
  const cert = await selfSignedCert('socat-static-tls-forwarder-exch1', ['127.0.0.1']);
  forwarderCert = cert.certPem;
  await writeFile(join(dir, 'fwd.pem'), cert.certPem);
  await writeFile(join(dir, 'fwd.key'), cert.keyPem, { mode: 0o600 });
  ews = await startFakeEws({ users: { svc: 'pw-not-used-here' }, mailboxes: [], tls: 'tls1.0-only' });
});

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await ews?.close().catch(() => {});
  await rm(dir, { recursive: true, force: true });
});

describe('the fake Exchange speaks only TLS 1.0', () => {
  it('refuses a default client and answers one that allows TLS 1.0', async () => {
    const hello = (opts: tls.ConnectionOptions) =>
      new Promise<string>((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port: ews.port, rejectUnauthorized: false, ...opts });
        s.once('secureConnect', () => {
          resolve(s.getProtocol() ?? '');
          s.destroy();
        });
        s.once('error', reject);
      });
    await expect(hello({})).rejects.toMatchObject({ code: expect.stringMatching(/ERR_SSL|EPROTO/) });
    await expect(hello({ minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' })).resolves.toBe('TLSv1');
  });

  it('tls_probe names the versions it offered and what went wrong when it does not allow TLS 1.0', async () => {
    const r = await probe({ port: ews.port, min_version: 'TLSv1.2' });
    expect(r.failed).toBe(true);
    expect(r.msg).toContain('the client offered TLSv1.2 to TLSv1.3');
    const old = await probe({ port: ews.port, min_version: 'TLSv1' });
    expect(old.failed, old.msg).toBeFalsy();
    expect(old.data).toMatchObject({ protocol: 'TLSv1' });
  });
});

describe.runIf(hasSocat)('A3.4 through the real socat forwarder (TLS 1.3 in, TLS 1.0 out)', () => {
  it('gets an answer from EWS behind the forwarder (its 401), and pins the certificate the forwarder serves', async () => {
    const port = await startSocat(ews.port);
    const r = await probe({ port, http_path: '/EWS/Exchange.asmx', expect_certificate: forwarderCert });
    expect(r.failed, r.msg).toBeFalsy();
    expect(r.data).toMatchObject({ protocol: 'TLSv1.3', http_status: 401 });
    expect((r.data as { http_auth: string[] }).http_auth.length).toBeGreaterThan(0);
    expect((r.data as { pem: string }).pem).toBe(forwarderCert);
    expect(r.msg).toMatch(/GET \/EWS\/Exchange\.asmx answered HTTP 401/);
    // Another certificate than the one served is named, with both fingerprints.
    const other = await selfSignedCert('someone-else', ['127.0.0.1']);
    const wrong = await probe({ port, expect_certificate: other.certPem });
    expect(wrong.failed).toBe(true);
    expect(wrong.msg).toMatch(
      /the certificate served is not the one in expect_certificate \(served: [0-9A-F:]+/,
    );
  });

  it('fails when the forwarder points at a closed port, although its handshake succeeds', async () => {
    const port = await startSocat(await freePort());
    // The handshake alone passes: socat completes it before it connects the backend.
    const handshakeOnly = await probe({ port });
    expect(handshakeOnly.failed, handshakeOnly.msg).toBeFalsy();
    const r = await probe({ port, http_path: '/EWS/Exchange.asmx' });
    expect(r.failed).toBe(true);
    expect(r.msg).toContain(
      `the TLS handshake succeeded, but the HTTP request for /EWS/Exchange.asmx through it got no answer`,
    );
    expect(r.msg).toContain(
      `what is behind 127.0.0.1:${port} (a forwarder's backend, EWS) is down or refuses`,
    );
  });

  it('fails once the EWS behind a working forwarder is stopped', async () => {
    const backend = await startFakeEws({ users: {}, mailboxes: [], tls: 'tls1.0-only' });
    const port = await startSocat(backend.port);
    expect((await probe({ port, http_path: '/EWS/Exchange.asmx' })).failed).toBeFalsy();
    await backend.close();
    const r = await probe({ port, http_path: '/EWS/Exchange.asmx' });
    expect(r.failed).toBe(true);
    expect(r.msg).toMatch(/got no answer \(the connection was (closed|reset)\)/);
  });
});
