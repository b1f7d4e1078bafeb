// What the tests that drive the fake EWS with independent clients (python exchangelib, ews-javascript-api)
// share: the site they meet, which authentication schemes the fake offers, and running a client script.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import { type FakeEws, type FakeEwsOptions, startFakeEws } from '../../src/lab/fake-ews.js';

export const FIXTURES = resolve(import.meta.dirname, '../fixtures/ews-clients');
export const SERVICE_ACCOUNT = 'svc_vkmail_collector@corp.example';
export const SERVICE_PASSWORD = 'Svc-pass 42!';
export const MAILBOX = 'Ivan.Petrov@corp.example';
/** A mailbox the service account's role assignment does not cover. */
export const DENIED_MAILBOX = 'ceo@corp.example';
export const MISSING_MAILBOX = 'nobody@corp.example';

export type ClientAuth = 'basic' | 'ntlm';

/**
 * The lab switch that turns Basic on. Exchange has Basic off by default, and so will the fake once its NTLM
 * server lands; until then the fake offers Basic anyway and ignores the switch. If the fake names its switch
 * otherwise, startSite('basic') fails saying Basic was not offered: rename it here.
 */
export const BASIC_ON = { basicAuth: true } as Partial<FakeEwsOptions>;

export function startSite(auth: ClientAuth): Promise<FakeEws> {
  const options: FakeEwsOptions = {
    users: { [SERVICE_ACCOUNT]: SERVICE_PASSWORD },
    mailboxes: [MAILBOX, DENIED_MAILBOX, 'other@corp.example'],
    impersonators: [SERVICE_ACCOUNT],
    impersonationDeniedFor: { [SERVICE_ACCOUNT]: [DENIED_MAILBOX] },
    ...(auth === 'basic' ? BASIC_ON : {}),
  };
  return startFakeEws(options).then(async (ews) => {
    if (auth === 'basic' && !(await offeredSchemes(ews)).some((s) => /^Basic\b/i.test(s))) {
      await ews.close();
      throw new Error(
        `the fake EWS does not offer Basic with ${JSON.stringify(BASIC_ON)}: name its switch here`,
      );
    }
    return ews;
  });
}

interface RawReply {
  status: number;
  authenticate: string[];
}

function unauthenticated(ews: FakeEws, authorization?: string): Promise<RawReply> {
  return new Promise((done, fail) => {
    const req = https.request(
      ews.url,
      {
        method: 'POST',
        ca: ews.caPem,
        timeout: 5000,
        headers: {
          'Content-Type': 'text/xml; charset=utf-8',
          ...(authorization ? { Authorization: authorization } : {}),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          const authenticate = res.rawHeaders.filter(
            (_, i) => i % 2 === 1 && res.rawHeaders[i - 1]?.toLowerCase() === 'www-authenticate',
          );
          done({ status: res.statusCode ?? 0, authenticate });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('the fake EWS did not answer within 5 s')));
    req.on('error', fail);
    req.end();
  });
}

/** The WWW-Authenticate schemes of the fake's 401, one header each as IIS sends them. */
export async function offeredSchemes(ews: FakeEws): Promise<string[]> {
  return (await unauthenticated(ews)).authenticate;
}

// An NTLM NEGOTIATE (type 1) message: signature, type 1, flags (unicode, OEM, request target, NTLM,
// always sign, extended session security, 128-bit, 56-bit), empty domain and workstation.
const NTLM_NEGOTIATE = Buffer.concat([
  Buffer.from('NTLMSSP\0', 'latin1'),
  Buffer.from([1, 0, 0, 0]),
  Buffer.from([0x07, 0x82, 0x08, 0xa2]),
  Buffer.alloc(16),
]).toString('base64');

/** Does the fake answer an NTLM negotiate with a challenge (type 2), as a Windows-auth IIS does? */
export async function sendsNtlmChallenge(): Promise<boolean> {
  const ews = await startFakeEws({ users: { [SERVICE_ACCOUNT]: SERVICE_PASSWORD }, mailboxes: [MAILBOX] });
  try {
    const reply = await unauthenticated(ews, `NTLM ${NTLM_NEGOTIATE}`);
    return reply.authenticate.some((h) => {
      const token = /^NTLM\s+(\S+)$/i.exec(h)?.[1];
      return token !== undefined && Buffer.from(token, 'base64').readUInt32LE(8) === 2;
    });
  } finally {
    await ews.close();
  }
}

/** Writes the fake's CA to a file for a client process (REQUESTS_CA_BUNDLE, NODE_EXTRA_CA_CERTS). */
export function caFile(ews: FakeEws): string {
  const file = join(mkdtempSync(join(tmpdir(), 'ewsplay-ca-')), 'fake-exchange-ca.pem');
  writeFileSync(file, ews.caPem ?? '');
  return file;
}

/** The environment every client script reads (see the scripts' headers). */
export function clientEnv(ews: FakeEws, auth: ClientAuth, subject: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    EWS_URL: ews.url,
    EWS_USER: SERVICE_ACCOUNT,
    EWS_PASSWORD: SERVICE_PASSWORD,
    EWS_AUTH: auth,
    EWS_MAILBOX: MAILBOX,
    EWS_DENIED_MAILBOX: DENIED_MAILBOX,
    EWS_MISSING_MAILBOX: MISSING_MAILBOX,
    EWS_SUBJECT: subject,
  };
}

/** Runs a client script and returns the JSON report it prints; a failed run throws with its output. */
export function runClient(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 90_000,
): Promise<Record<string, unknown>> {
  return new Promise((done, fail) => {
    execFile(command, args, { env, timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) {
        fail(new Error(`${command} ${args.join(' ')} failed (${err.message}):\n${stdout}\n${stderr}`));
        return;
      }
      done(JSON.parse(stdout) as Record<string, unknown>);
    });
  });
}

/**
 * A python that imports Debian's exchangelib: the system one first, since a python on PATH (pyenv, a venv)
 * does not see Debian's dist-packages.
 */
export function exchangelibPython(): string | undefined {
  for (const python of ['/usr/bin/python3', 'python3']) {
    try {
      execFileSync(python, ['-c', 'import exchangelib, requests_ntlm'], { stdio: 'ignore', timeout: 30_000 });
      return python;
    } catch {}
  }
  return undefined;
}

/** What the fake saw when a client tried a denied and a missing mailbox: real-shaped faults, HTTP 500. */
export function expectDeniedAndMissingFaults(ews: FakeEws): void {
  for (const [impersonated, responseCode] of [
    [DENIED_MAILBOX, 'ErrorImpersonateUserDenied'],
    [MISSING_MAILBOX, 'ErrorNonExistentMailbox'],
  ] as const) {
    expect(ews.requests).toContainEqual(expect.objectContaining({ impersonated, status: 500, responseCode }));
  }
}

/** Every request the fake answered (past the 401 challenges) came from the service account. */
export function expectAnsweredAsServiceAccount(ews: FakeEws): void {
  const answered = ews.requests.filter((r) => r.status !== 401);
  expect(answered.length).toBeGreaterThan(20);
  for (const r of answered) expect(r.account).toBe(SERVICE_ACCOUNT);
}

/** After the client's delete calls: items 3 and 4 stay in the calendar, item 1 is in Deleted Items. */
export function expectCalendarAfterDeletes(ews: FakeEws, subject: string): void {
  expect(ews.events(MAILBOX).map((e) => e.subject)).toEqual([`${subject} 3`, `${subject} 4`]);
  expect(ews.folderItems(MAILBOX, 'deleteditems').map((e) => e.subject)).toEqual([`${subject} 1`]);
}
