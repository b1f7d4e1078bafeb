import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { toRegistered } from '../../../src/engine/task-runner.js';
import { type Ca, type IssuedCert, issueCert, makeCa } from '../../../src/lab/pki.js';
import {
  certSans,
  namesMissing,
  readForwardSpec,
  tlsForwarderModule,
} from '../../../src/modules/tls_forwarder.js';
import { tlsProbeModule } from '../../../src/modules/tls_probe.js';
import { argsValidator, makeContext, snapshotTree } from '../modules/context.js';
import { type LabHost, makeLabHost, VENDOR_DIR } from './lab.js';

const run = promisify(execFile);

let ca: Ca;
let ewsCert: IssuedCert;
let ews: tls.Server;
let ewsPort: number;
let lab: LabHost;
let unitDir: string;

async function freePort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as AddressInfo).port;
  s.close();
  await once(s, 'close');
  return port;
}

/** Reads one line through the forwarder: TLS to it, which carries the bytes to the EWS stand-in. */
function throughForwarder(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {});
    let data = '';
    s.on('data', (d) => {
      data += d;
    });
    s.on('end', () => resolve(data));
    s.on('error', reject);
    setTimeout(() => reject(new Error('no answer through the forwarder')), 5000).unref();
  });
}

async function waitListening(port: number): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on ${port}`);
}

beforeAll(async () => {
  ca = await makeCa('ewsplay forwarder CA');
  ewsCert = await issueCert(ca, 'ews.lab.example', ['ews.lab.example', '127.0.0.1']);
  // Exchange 2013 as the lab has it: TLS 1.2 only.
  ews = tls.createServer(
    { key: ewsCert.keyPem, cert: ewsCert.certPem, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' },
    (s) => s.end(`hello from EWS over ${s.getProtocol()}\n`),
  );
  ews.on('tlsClientError', () => {});
  ews.listen(0, '127.0.0.1');
  await once(ews, 'listening');
  ewsPort = (ews.address() as AddressInfo).port;
});
afterAll(() => {
  ews.close();
});

beforeEach(async () => {
  lab = await makeLabHost('mail1');
  unitDir = lab.unitDir;
});
afterEach(async () => {
  // Stop every forwarder the stand-in systemctl started.
  await lab.conn.exec(
    'for p in lab-state/systemd/run/*.pid; do [ -f "$p" ] && systemctl stop "$(basename "$p" .pid)"; done; true',
  );
  await lab.cleanup();
});

/** The host's files, without the stand-ins' own bookkeeping (their call log and empty directories). */
async function hostFiles(root: string): Promise<Record<string, string>> {
  const tree = await snapshotTree(root);
  return Object.fromEntries(
    Object.entries(tree).filter(([path, what]) => path !== 'lab-state/calls.log' && !what.startsWith('dir ')),
  );
}

const ctx = (over: Parameters<typeof makeContext>[0] = {}) =>
  makeContext({ host: 'mail1', conn: lab.conn, ...over });

describe('tls_forwarder, own unit with the distribution socat', () => {
  it('forwards TLS 1.3 on the local port to a TLS-1.2-only server; a second run is ok; check mode changes nothing', async () => {
    const listen = await freePort();
    const args = {
      name: 'exch1',
      listen_port: listen,
      target_host: '127.0.0.1',
      target_port: ewsPort,
      min_tls: 'TLS1.2',
      unit_dir: unitDir,
      cert_dir: join(lab.root, 'etc/ewsplay/tls-forwarder'),
    };
    const c = () => ctx();

    const before = await hostFiles(lab.root);
    const predicted = await tlsForwarderModule.run(makeContext({ ...c(), check: true, diff: true }), args);
    // The engine stamps check_mode on what the task registers.
    expect(toRegistered(predicted, true)).toMatchObject({ changed: true, check_mode: true });
    expect(predicted.msg).toMatch(
      /^would generate a self-signed certificate .*exch1\.crt; write .*socat-tls-forwarder-exch1\.service; daemon-reload; start; enable$/,
    );
    expect(predicted.diff?.[0]?.after).toContain(
      `OPENSSL:127.0.0.1:${ewsPort},verify=0,openssl-min-proto-version=TLS1.2`,
    );
    expect(await hostFiles(lab.root)).toEqual(before);

    const first = await tlsForwarderModule.run(c(), args);
    expect(first.failed).toBeUndefined();
    expect(first).toMatchObject({ changed: true });
    expect(first.data).toMatchObject({
      actions: expect.arrayContaining(['daemon-reload', 'start', 'enable']),
    });
    const unit = await readFile(join(unitDir, 'socat-tls-forwarder-exch1.service'), 'utf8');
    expect(readForwardSpec(unit)).toEqual({ listenPort: listen, target: `127.0.0.1:${ewsPort}` });

    await waitListening(listen);
    expect(await throughForwarder(listen)).toBe('hello from EWS over TLSv1.2\n');
    const probed = await tlsProbeModule.run(c(), {
      port: listen,
      ca_file: join(lab.root, 'etc/ewsplay/tls-forwarder/exch1.crt'),
    });
    expect(probed.failed).toBeUndefined();
    expect(probed.data).toMatchObject({ protocol: 'TLSv1.3', subject: 'CN=mail1', trusted: true });

    const callsBefore = (await lab.calls()).length;
    const second = await tlsForwarderModule.run(c(), args);
    expect(second).toMatchObject({ changed: false });
    expect(second.msg).toMatch(/installed, running and enabled$/);
    // one probe: is-active and is-enabled, nothing else
    expect((await lab.calls()).slice(callsBefore)).toEqual([
      "systemctl 'is-active' 'socat-tls-forwarder-exch1.service'",
      "systemctl 'is-enabled' 'socat-tls-forwarder-exch1.service'",
    ]);

    const snap = await snapshotTree(join(lab.root, 'etc'));
    const checkAgain = await tlsForwarderModule.run(makeContext({ ...c(), check: true }), {
      ...args,
      target_port: 1,
    });
    expect(checkAgain.msg).toBe(
      `would rewrite ${unitDir}/socat-tls-forwarder-exch1.service; daemon-reload; restart`,
    );
    expect(await snapshotTree(join(lab.root, 'etc'))).toEqual(snap);
  });

  it('rewrites and restarts when the target changes', async () => {
    const listen = await freePort();
    const c = () => ctx();
    const base = {
      name: 'exch1',
      listen_port: listen,
      target_host: '127.0.0.1',
      unit_dir: unitDir,
      cert_dir: join(lab.root, 'pki'),
    };
    await tlsForwarderModule.run(c(), { ...base, target_port: 1 });
    const moved = await tlsForwarderModule.run(c(), { ...base, target_port: ewsPort });
    expect(moved).toMatchObject({
      changed: true,
      data: { actions: [`rewrite ${unitDir}/socat-tls-forwarder-exch1.service`, 'daemon-reload', 'restart'] },
    });
    await waitListening(listen);
    expect(await throughForwarder(listen)).toBe('hello from EWS over TLSv1.2\n');
    const again = await tlsForwarderModule.run(c(), { ...base, target_port: ewsPort });
    expect(again.msg).toMatch(/running and enabled$/);
    expect(again.changed).toBe(false);
  });

  it('listens only on listen_address when given, and a new address rewrites the unit', async () => {
    const listen = await freePort();
    const base = {
      name: 'exch1',
      listen_port: listen,
      target_host: '127.0.0.1',
      target_port: ewsPort,
      unit_dir: unitDir,
      cert_dir: join(lab.root, 'pki'),
    };
    await tlsForwarderModule.run(ctx(), base);
    const bound = await tlsForwarderModule.run(ctx(), { ...base, listen_address: '127.0.0.1' });
    expect(bound.changed).toBe(true);
    await waitListening(listen);
    const { stdout } = await run('ss', ['-Hltn', `sport = :${listen}`]);
    expect(stdout.trim().split(/\s+/)[3]).toBe(`127.0.0.1:${listen}`);
    expect(await throughForwarder(listen)).toBe('hello from EWS over TLSv1.2\n');
    const again = await tlsForwarderModule.run(ctx(), { ...base, listen_address: '127.0.0.1' });
    expect(again.changed).toBe(false);
  });

  it('fails clearly when a given certificate is missing on the host', async () => {
    const r = await tlsForwarderModule.run(ctx(), {
      name: 'exch1',
      listen_port: 9443,
      target_host: 'ews.corp.example',
      unit_dir: unitDir,
      cert: '/nonexistent/fwd.crt',
      key: '/nonexistent/fwd.key',
    });
    expect(r).toMatchObject({ failed: true, msg: '/nonexistent/fwd.crt does not exist on mail1' });
  });

  it("the generated certificate names the installer form's address too; one lacking a name asked for is made again", async () => {
    const listen = await freePort();
    const certDir = join(lab.root, 'etc/ewsplay/tls-forwarder');
    const cert = join(certDir, 'exch1.crt');
    const args = {
      name: 'exch1',
      listen_port: listen,
      target_host: '127.0.0.1',
      target_port: ewsPort,
      min_tls: 'TLS1.2',
      unit_dir: unitDir,
      cert_dir: certDir,
      cert_names: ['vkmail-01.corp.example', '10.20.0.11', '127.0.0.1'],
    };
    const sans = async () =>
      /X509v3 Subject Alternative Name: *\n\s*(.*)\n/.exec(
        (await run('openssl', ['x509', '-noout', '-text', '-in', cert])).stdout,
      )?.[1];
    const first = await tlsForwarderModule.run(ctx(), args);
    expect(first.failed).toBeUndefined();
    expect(await sans()).toBe('IP Address:127.0.0.1, DNS:vkmail-01.corp.example, IP Address:10.20.0.11');
    // What a client that checks names meets: the address the installer's form gives is in the certificate.
    await waitListening(listen);
    const served = () =>
      new Promise<string | undefined>((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port: listen, rejectUnauthorized: false }, () => {
          resolve(s.getPeerCertificate().subjectaltname);
          s.destroy();
        });
        s.on('error', reject);
      });
    expect(await served()).toBe('IP Address:127.0.0.1, DNS:vkmail-01.corp.example, IP Address:10.20.0.11');
    expect(
      tls.checkServerIdentity('vkmail-01.corp.example', { subjectaltname: await served() } as never),
    ).toBe(undefined);

    const same = await tlsForwarderModule.run(ctx(), args);
    expect(same.changed).toBe(false);

    // Another form address: predicted under --check (nothing touched), then made again and served after a
    // restart; the unit did not change, so no daemon-reload.
    const moved = { ...args, cert_names: ['mail.new.example'] };
    const before = await hostFiles(lab.root);
    const predicted = await tlsForwarderModule.run(makeContext({ ...ctx(), check: true }), moved);
    expect(predicted.msg).toBe(
      `would generate the self-signed certificate ${cert} again: it does not name mail.new.example; restart`,
    );
    expect(await hostFiles(lab.root)).toEqual(before);
    const regenerated = await tlsForwarderModule.run(ctx(), moved);
    expect(regenerated.data).toMatchObject({
      actions: [
        `generate the self-signed certificate ${cert} again: it does not name mail.new.example`,
        'restart',
      ],
    });
    expect(await sans()).toBe('IP Address:127.0.0.1, DNS:mail.new.example');
    expect(await served()).toBe('IP Address:127.0.0.1, DNS:mail.new.example');
    expect((await tlsForwarderModule.run(ctx(), moved)).changed).toBe(false);
  });
});

describe('certificate names', () => {
  it('compares what openssl prints with what is asked, IPv6 spelled either way', () => {
    expect(certSans({ cert_names: ['Mail.Corp.example', '::1', '127.0.0.1'] })).toEqual([
      'IP:127.0.0.1',
      'DNS:mail.corp.example',
      'IP:::1',
    ]);
    expect(namesMissing(['IP:127.0.0.1', 'IP:::1'], ['IP:127.0.0.1', 'IP:0:0:0:0:0:0:0:1'])).toEqual([]);
    expect(namesMissing(['IP:127.0.0.1', 'DNS:mail.corp.example'], ['IP:127.0.0.1'])).toEqual([
      'mail.corp.example',
    ]);
    // Unknown (no openssl on the host to read it): not a reason to replace a certificate.
    expect(namesMissing(['DNS:x'], undefined)).toEqual([]);
  });
});

describe("tls_forwarder, the vendor's package and installer", () => {
  it('installs the package once, runs the installer once, re-runs it for a new target', async () => {
    const { stdout } = await run(join(VENDOR_DIR, 'build-socat-static-deb.sh'), [join(lab.root, 'control')]);
    const deb = stdout.trim();
    const listen = await freePort();
    const c = (check = false) => ctx({ check });
    const args = {
      name: 'exch1',
      listen_port: listen,
      target_host: '127.0.0.1',
      target_port: ewsPort,
      package: deb,
      unit_dir: unitDir,
    };

    const before = await hostFiles(lab.root);
    const predicted = await tlsForwarderModule.run(c(true), args);
    expect(predicted.msg).toBe(
      'would install socat-static 1.7.4.4-20230607-223844; run the installer for socat-static-tls-forwarder-exch1.service; daemon-reload; start; enable',
    );
    expect(await hostFiles(lab.root)).toEqual(before);

    const first = await tlsForwarderModule.run(c(), args);
    expect(first.failed).toBeUndefined();
    expect(first.data).toMatchObject({
      actions: [
        'installed socat-static 1.7.4.4-20230607-223844',
        'run the installer for socat-static-tls-forwarder-exch1.service',
        'daemon-reload',
        'start',
        'enable',
      ],
    });
    await waitListening(listen);
    expect(await throughForwarder(listen)).toBe('hello from EWS over TLSv1.2\n');

    const calls = () => lab.calls();
    const n = (await calls()).length;
    const second = await tlsForwarderModule.run(c(), args);
    expect(second).toMatchObject({ changed: false });
    // two round trips: the package module's query, then the forwarder's probe
    expect((await calls()).slice(n).map((l) => l.split(' ')[0])).toEqual([
      'dpkg-query',
      'systemctl',
      'systemctl',
    ]);

    const moved = await tlsForwarderModule.run(c(), { ...args, target_host: 'localhost' });
    expect(moved.data).toMatchObject({
      actions: [
        `re-run the installer: the unit forwards :${listen} -> 127.0.0.1:${ewsPort}, wanted :${listen} -> localhost:${ewsPort}`,
        'daemon-reload',
        'restart',
      ],
    });
    expect((await calls()).filter((l) => l.startsWith('dpkg ')).length).toBe(1);
    expect((await calls()).filter((l) => l.startsWith('socat-static-tls-forwarder-install.sh'))).toEqual([
      `socat-static-tls-forwarder-install.sh 'exch1' '${listen}' '127.0.0.1:${ewsPort}'`,
      `socat-static-tls-forwarder-install.sh 'exch1' '${listen}' 'localhost:${ewsPort}'`,
    ]);
  });
});

describe('readForwardSpec', () => {
  it('reads socat addresses, and words of a wrapper script', () => {
    expect(
      readForwardSpec(
        '[Service]\nExecStart=-/usr/local/bin/socat-static OPENSSL-LISTEN:9443,fork,cert=/x OPENSSL:ews.corp.example:443,verify=0\n',
      ),
    ).toEqual({ listenPort: 9443, target: 'ews.corp.example:443' });
    expect(readForwardSpec('ExecStart=/usr/local/bin/forwarder.sh 9443 ews.corp.example:443')).toEqual({
      listenPort: 9443,
      target: 'ews.corp.example:443',
    });
    expect(readForwardSpec('[Unit]\n')).toEqual({});
  });
});

describe('tls_forwarder args', () => {
  it('has a strict schema', () => {
    const valid = argsValidator(tlsForwarderModule);
    expect(valid({ name: 'exch1', listen_port: 9443, target_host: 'ews.corp.example' })).toBe(true);
    expect(
      valid({ name: 'exch1', listen_port: 9443, target_host: 'ews.corp.example', package: 'socat.rpm' }),
    ).toBe(true);
    expect(valid({ name: 'exch1', listen_port: 9443, target_host: 'ews.corp.example', cert: '/a.crt' })).toBe(
      false,
    );
    expect(valid({ name: 'exch 1', listen_port: 9443, target_host: 'ews.corp.example' })).toBe(false);
    expect(valid({ name: 'exch1', listen_port: 9443, target_host: 'ews;reboot' })).toBe(false);
    expect(valid({ name: 'exch1', listen_port: 9443, target_host: 'x', package: 'socat.tgz' })).toBe(false);
    expect(valid({ name: 'exch1', listen_port: 9443, target_host: 'x', min_tls: 'TLS1.3' })).toBe(false);
    expect(
      valid({ name: 'exch1', listen_port: 9443, target_host: 'x', cert_names: ['10.20.0.11', 'mail.x'] }),
    ).toBe(true);
    expect(valid({ name: 'exch1', listen_port: 9443, target_host: 'x', cert_names: ['a,DNS:evil'] })).toBe(
      false,
    );
  });
});
