// A throwaway PKI for TLS tests, made with the openssl CLI (node cannot create X.509 certificates itself).
// Every function returns PEM strings; keys live only in a temp directory that is removed at once.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export interface Ca {
  certPem: string;
  keyPem: string;
}

export interface IssuedCert {
  certPem: string;
  keyPem: string;
}

export interface IssueOptions {
  /** Issue a certificate whose validity ended yesterday. */
  expired?: boolean;
  days?: number;
}

async function inTempDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'ewsplay-pki-'));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A self-signed certificate authority. */
export function makeCa(commonName = 'ewsplay test CA'): Promise<Ca> {
  return selfSigned(commonName, 3650, [
    'basicConstraints=critical,CA:TRUE',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
}

/** A server certificate signed by `ca`; `sans` are DNS names or IP addresses. */
export function issueCert(
  ca: Ca,
  commonName: string,
  sans: string[],
  opts: IssueOptions = {},
): Promise<IssuedCert> {
  return inTempDir(async (dir) => {
    const f = (name: string) => join(dir, name);
    await writeFile(f('ca.pem'), ca.certPem);
    await writeFile(f('ca.key'), ca.keyPem, { mode: 0o600 });
    const altNames = subjectAltNames(sans);
    await writeFile(
      f('ext'),
      [
        'basicConstraints=CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth',
        ...(altNames ? [`subjectAltName=${altNames}`] : []),
      ].join('\n'),
    );
    await run('openssl', [
      'req',
      '-new',
      ...EC_KEY,
      '-keyout',
      f('key'),
      '-out',
      f('csr'),
      '-subj',
      `/CN=${commonName}`,
    ]);
    // openssl 3.0 has no -not_after; a negative -days puts notAfter one day before notBefore (now).
    const days = opts.expired ? '-1' : String(opts.days ?? 825);
    await run('openssl', [
      'x509',
      '-req',
      '-in',
      f('csr'),
      '-CA',
      f('ca.pem'),
      '-CAkey',
      f('ca.key'),
      '-set_serial',
      `0x${randomBytes(8).toString('hex')}`,
      '-days',
      days,
      '-extfile',
      f('ext'),
      '-out',
      f('cert'),
    ]);
    return { certPem: await readFile(f('cert'), 'utf8'), keyPem: await readFile(f('key'), 'utf8') };
  });
}

/** A self-signed server certificate (its own issuer, trusted by nobody). */
export function selfSignedCert(commonName: string, sans: string[]): Promise<IssuedCert> {
  return selfSigned(commonName, 30, [`subjectAltName=${subjectAltNames(sans)}`]);
}

/** One `openssl req -x509`: a new key and a certificate it signs itself, with these extensions. */
function selfSigned(commonName: string, days: number, extensions: string[]): Promise<IssuedCert> {
  return inTempDir(async (dir) => {
    const key = join(dir, 'key');
    const cert = join(dir, 'cert');
    await run('openssl', [
      'req',
      '-x509',
      ...EC_KEY,
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      String(days),
      '-subj',
      `/CN=${commonName}`,
      ...extensions.flatMap((e) => ['-addext', e]),
    ]);
    return { certPem: await readFile(cert, 'utf8'), keyPem: await readFile(key, 'utf8') };
  });
}

function subjectAltNames(sans: string[]): string {
  return sans.map((s) => (/^[\d.]+$|:/.test(s) ? `IP:${s}` : `DNS:${s}`)).join(',');
}
