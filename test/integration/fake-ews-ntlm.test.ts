// The fake EWS's NTLM judged by clients no one here wrote, at login level (a GetFolder of the calendar while
// impersonating): ews-javascript-api's own NTLM provider (@ewsjs/xhr), python requests_ntlm (also under
// Negotiate alone) and exchangelib. Each must log in with the right password and be refused with a wrong one,
// which an NTLM server that accepted anything, or nothing, would not pass. Passwords reach python through its
// environment, never its argument list.
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeEws, type FakeEwsOptions, startFakeEws } from '../../src/lab/fake-ews.js';
import { caFile, exchangelibPython } from './fake-ews-clients.js';

const SVC = 'CORP\\svc_vkmail_collector';
const PASSWORD = 'Independent 5!';
const MAILBOX = 'Ivan.Petrov@corp.example';

const require = createRequire(import.meta.url);
const servers: FakeEws[] = [];
async function serve(extra: Partial<FakeEwsOptions> = {}): Promise<FakeEws> {
  const s = await startFakeEws({
    users: { [SVC]: PASSWORD },
    mailboxes: [MAILBOX],
    impersonators: [SVC],
    ...extra,
  });
  servers.push(s);
  return s;
}
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** What the server answered after the handshakes: [status, scheme, account] per request. */
const answered = (s: FakeEws) =>
  s.requests.filter((r) => r.status !== 401).map((r) => [r.status, r.auth, r.account]);

describe('ews-javascript-api with its own NTLM provider', () => {
  type Ews = typeof import('ews-javascript-api');
  let ews: Ews;
  let XhrApi: new (o: {
    rejectUnauthorized: boolean;
    timeout: number;
  }) => {
    useNtlmAuthentication(user: string, password: string): unknown;
  };
  beforeAll(async () => {
    ews = ((await import('ews-javascript-api')) as unknown as { default: Ews }).default;
    // @ewsjs/xhr comes with ews-javascript-api; it is loaded from there, as a user of the library would.
    const fromLibrary = createRequire(require.resolve('ews-javascript-api'));
    ({ XhrApi } = fromLibrary('@ewsjs/xhr') as { XhrApi: typeof XhrApi });
  });
  async function getCalendar(server: FakeEws, password: string): Promise<string> {
    const svc = new ews.ExchangeService(ews.ExchangeVersion.Exchange2013, ews.TimeZoneInfo.Utc);
    svc.Url = new ews.Uri(server.url);
    svc.Credentials = new ews.WebCredentials(SVC, password);
    // Its NTLM provider makes its own agent, which takes no CA: only certificate checking can be turned off.
    svc.XHRApi = new XhrApi({ rejectUnauthorized: false, timeout: 10_000 }).useNtlmAuthentication(
      SVC,
      password,
    ) as never;
    svc.ImpersonatedUserId = new ews.ImpersonatedUserId(ews.ConnectingIdType.SmtpAddress, MAILBOX);
    const folder = await ews.CalendarFolder.Bind(svc, ews.WellKnownFolderName.Calendar);
    return folder.DisplayName;
  }

  it('logs in with NTLM and reads the calendar; a wrong password gets a 401', async () => {
    const s = await serve();
    expect(await getCalendar(s, PASSWORD)).toBe('Calendar');
    expect(answered(s)).toEqual([[200, 'NTLM', SVC]]);
    const refused = await getCalendar(s, 'Independent 6!').then(
      () => 'logged in',
      (e: unknown) => (e as { HttpStatusCode?: number }).HttpStatusCode ?? e,
    );
    expect(refused).toBe(401);
    expect(s.requests.at(-1)).toMatchObject({ status: 401, auth: 'NTLM', authFailure: 'wrong-password' });
  }, 30_000);
});

const python = exchangelibPython();

function runPython(script: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      python as string,
      ['-c', script],
      { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, timeout: 60_000 },
      (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout.trim()),
    );
  });
}

const GET_CALENDAR = `<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">
<soap:Header><t:RequestServerVersion Version="Exchange2013"/><t:ExchangeImpersonation><t:ConnectingSID><t:SmtpAddress>${MAILBOX}</t:SmtpAddress></t:ConnectingSID></t:ExchangeImpersonation></soap:Header>
<soap:Body><m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="calendar"/></m:FolderIds></m:GetFolder></soap:Body></soap:Envelope>`;

// One POST of GetFolder with requests_ntlm; prints the status and whether the reply names the calendar.
const REQUESTS_NTLM = `
import os, requests
from requests_ntlm import HttpNtlmAuth
r = requests.post(os.environ["EWS_URL"], data=os.environ["BODY"].encode(), timeout=15,
                  headers={"Content-Type": "text/xml; charset=utf-8"},
                  auth=HttpNtlmAuth(os.environ["EWS_USER"], os.environ["EWS_PASSWORD"]))
print(r.status_code, "<t:DisplayName>Calendar</t:DisplayName>" in r.text)
`;

const EXCHANGELIB = `
import os
from exchangelib import NTLM, IMPERSONATION, Account, Configuration, Credentials, Build, Version
from exchangelib.protocol import BaseProtocol
BaseProtocol.TIMEOUT = 15
config = Configuration(service_endpoint=os.environ["EWS_URL"], auth_type=NTLM,
                       credentials=Credentials(os.environ["EWS_USER"], os.environ["EWS_PASSWORD"]),
                       version=Version(build=Build(15, 0, 1497, 2)))
try:
    account = Account(os.environ["EWS_MAILBOX"], config=config, access_type=IMPERSONATION, autodiscover=False)
    print(account.calendar.name)
except Exception as e:
    print(type(e).__name__)
`;

describe.skipIf(!python)(
  `python requests_ntlm and exchangelib${python ? '' : ' (skipped: python3-exchangelib is not installed)'}`,
  () => {
    const env = (s: FakeEws, password: string) => ({
      EWS_URL: s.url,
      EWS_USER: SVC,
      EWS_PASSWORD: password,
      EWS_MAILBOX: MAILBOX,
      BODY: GET_CALENDAR,
      REQUESTS_CA_BUNDLE: caFile(s),
    });

    it('requests_ntlm logs in over NTLM; a wrong password gets a 401', async () => {
      const s = await serve();
      expect(await runPython(REQUESTS_NTLM, env(s, PASSWORD))).toBe('200 True');
      expect(answered(s)).toEqual([[200, 'NTLM', SVC]]);
      expect(await runPython(REQUESTS_NTLM, env(s, 'Independent 6!'))).toBe('401 False');
      expect(s.requests.at(-1)).toMatchObject({ authFailure: 'wrong-password' });
    }, 60_000);

    it('requests_ntlm sends its NTLM token under Negotiate when that is all the server offers', async () => {
      const s = await serve({ windowsAuthProviders: ['Negotiate'] });
      expect(await runPython(REQUESTS_NTLM, env(s, PASSWORD))).toBe('200 True');
      expect(answered(s)).toEqual([[200, 'Negotiate', SVC]]);
    }, 60_000);

    it('exchangelib opens the calendar over NTLM; a wrong password is its UnauthorizedError', async () => {
      const s = await serve();
      expect(await runPython(EXCHANGELIB, env(s, PASSWORD))).toBe('Calendar');
      expect(
        answered(s).every(([status, auth, account]) => status === 200 && auth === 'NTLM' && account === SVC),
      ).toBe(true);
      expect(await runPython(EXCHANGELIB, env(s, 'Independent 6!'))).toBe('UnauthorizedError');
      expect(s.requests.at(-1)).toMatchObject({ status: 401, authFailure: 'wrong-password' });
    }, 60_000);
  },
);
