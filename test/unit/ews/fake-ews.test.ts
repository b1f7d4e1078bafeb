// The fake EWS itself, spoken to with raw SOAP: other clients choose other prefixes and impersonation forms.
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeEws, startFakeEws } from '../../../src/lab/fake-ews.js';

const AUTH = `Basic ${Buffer.from('svc:pw-123').toString('base64')}`;
let ews: FakeEws;

beforeAll(async () => {
  ews = await startFakeEws({
    users: { svc: 'pw-123' },
    mailboxes: ['a@corp.example'],
    impersonators: ['svc'],
    basicAuth: true,
  });
});
afterAll(() => ews.close());

function post(
  body: string,
  auth = AUTH,
): Promise<{ status: number; headers: Record<string, unknown>; raw: string[]; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      ews.url,
      {
        method: 'POST',
        ca: ews.caPem,
        headers: { Authorization: auth, 'Content-Type': 'text/xml; charset=utf-8' },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, raw: res.rawHeaders, body: text }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const getCalendar = (impersonation: string) =>
  `<?xml version="1.0"?><env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" xmlns:typ="http://schemas.microsoft.com/exchange/services/2006/types">
  <env:Header><typ:ExchangeImpersonation><typ:ConnectingSID>${impersonation}</typ:ConnectingSID></typ:ExchangeImpersonation></env:Header>
  <env:Body><GetFolder xmlns="http://schemas.microsoft.com/exchange/services/2006/messages">
    <FolderShape><typ:BaseShape>IdOnly</typ:BaseShape></FolderShape>
    <FolderIds><typ:DistinguishedFolderId Id="calendar"/></FolderIds></GetFolder></env:Body></env:Envelope>`;

describe('fake EWS', () => {
  it('accepts any prefixes and PrimarySmtpAddress in ConnectingSID', async () => {
    const r = await post(getCalendar('<typ:PrimarySmtpAddress>A@corp.example</typ:PrimarySmtpAddress>'));
    expect(r.status).toBe(200);
    expect(r.body).toContain(
      '<m:GetFolderResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>',
    );
    expect(ews.requests.at(-1)).toMatchObject({ operation: 'GetFolder', impersonated: 'A@corp.example' });
  });

  it('sends faults as Exchange does: HTTP 500 and e:ResponseCode in the errors namespace', async () => {
    const r = await post(getCalendar('<typ:SmtpAddress>ghost@corp.example</typ:SmtpAddress>'));
    expect(r.status).toBe(500);
    expect(r.headers['content-type']).toBe('text/xml; charset=utf-8');
    expect(r.body).toContain(
      '<faultcode xmlns:a="http://schemas.microsoft.com/exchange/services/2006/types">a:ErrorNonExistentMailbox</faultcode>',
    );
    expect(r.body).toContain(
      '<e:ResponseCode xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">ErrorNonExistentMailbox</e:ResponseCode>',
    );
  });

  it('offers Negotiate, NTLM and Basic on a 401, as IIS does', async () => {
    const r = await post(getCalendar('<typ:SmtpAddress>a@corp.example</typ:SmtpAddress>'), 'Basic eDp5');
    expect(r.status).toBe(401);
    // One header line per scheme (node joins them in res.headers).
    const offered = r.raw.filter((_, i) => i % 2 === 1 && r.raw[i - 1]?.toLowerCase() === 'www-authenticate');
    expect(offered).toEqual(['Negotiate', 'NTLM', `Basic realm="localhost:${ews.port}"`]);
  });

  it('answers malformed XML with a schema validation fault, not a crash', async () => {
    const r = await post('<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Body>');
    expect(r.status).toBe(500);
    expect(r.body).toContain('a:ErrorSchemaValidation');
  });
});
