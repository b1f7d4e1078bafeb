// The fake EWS's operations spoken to with raw SOAP, checking the reply shapes Exchange 2013 sends:
// ServerVersionInfo on every reply, version refusal, unknown and unimplemented operations, restrictions,
// paging, CalendarView rules, per-mailbox impersonation and requests from an account without a mailbox.
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeEws, startFakeEws } from '../../../src/lab/fake-ews.js';
import { BASIC_ON } from '../../integration/fake-ews-clients.js';

const SVC = 'svc@corp.example';
const AUTH = `Basic ${Buffer.from(`${SVC}:pw-123`).toString('base64')}`;
const M = 'http://schemas.microsoft.com/exchange/services/2006/messages';
const T = 'http://schemas.microsoft.com/exchange/services/2006/types';
const VERSION_INFO =
  /<s:Header><h:ServerVersionInfo MajorVersion="15" MinorVersion="0" MajorBuildNumber="1497" MinorBuildNumber="2" Version="V2_23"/;
let ews: FakeEws;

beforeAll(async () => {
  ews = await startFakeEws({
    users: { [SVC]: 'pw-123' },
    mailboxes: ['a@corp.example', 'b@corp.example'],
    impersonators: [SVC],
    impersonationDeniedFor: { [SVC]: ['b@corp.example'] },
    ...BASIC_ON,
  });
  const cal = ews.events('a@corp.example');
  const at = (h: number) => new Date(Date.UTC(2030, 0, 1, h));
  // Created oldest first, so the default order (newest first) is E, D, C, B, A.
  for (const [i, subject] of ['Alpha report', 'beta REPORT', 'Gamma', 'Délta notes', 'report'].entries()) {
    const ev = {
      id: '',
      changeKey: '',
      subject,
      body: '',
      start: at(i),
      end: at(i + 1),
      created: new Date(i * 1000),
    };
    cal.push(ev);
  }
});
afterAll(() => ews.close());

function post(body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      ews.url,
      {
        method: 'POST',
        ca: ews.caPem,
        timeout: 5000,
        headers: { Authorization: AUTH, 'Content-Type': 'text/xml; charset=utf-8' },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', reject);
    req.end(body);
  });
}

const envelope = (body: string, { version = 'Exchange2013_SP1', as = 'a@corp.example' } = {}) =>
  `<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="${M}" xmlns:t="${T}">` +
  `<soap:Header><t:RequestServerVersion Version="${version}"/>` +
  (as
    ? `<t:ExchangeImpersonation><t:ConnectingSID><t:SmtpAddress>${as}</t:SmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>`
    : '') +
  `</soap:Header><soap:Body>${body}</soap:Body></soap:Envelope>`;

const findItem = (inner: string, folder = '<t:DistinguishedFolderId Id="calendar"/>') =>
  envelope(
    `<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>` +
      `<t:FieldURI FieldURI="item:Subject"/></t:AdditionalProperties></m:ItemShape>${inner}` +
      `<m:ParentFolderIds>${folder}</m:ParentFolderIds></m:FindItem>`,
  );

const subjectsOf = (xml: string) => [...xml.matchAll(/<t:Subject>([^<]*)<\/t:Subject>/g)].map((m) => m[1]);
const contains = (value: string, attrs = '') =>
  `<m:Restriction><t:Contains ${attrs}><t:FieldURI FieldURI="item:Subject"/><t:Constant Value="${value}"/></t:Contains></m:Restriction>`;

describe('fake EWS replies', () => {
  it('refuses a schema version newer than Exchange 2013, with ServerVersionInfo in the fault', async () => {
    const r = await post(
      envelope(
        '<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="root"/></m:FolderIds></m:GetFolder>',
        { version: 'Exchange2016' },
      ),
    );
    expect(r.status).toBe(500);
    expect(r.body).toMatch(VERSION_INFO);
    expect(r.body).toContain(
      '<faultcode xmlns:a="http://schemas.microsoft.com/exchange/services/2006/types">a:ErrorInvalidServerVersion</faultcode>',
    );
  });

  it('fails an operation Exchange does not have schema validation, and names one the fake lacks', async () => {
    const unknown = await post(envelope('<m:FrobnicateItem/>'));
    expect(unknown.status).toBe(500);
    expect(unknown.body).toContain('a:ErrorSchemaValidation');
    expect(unknown.body).toContain('has invalid child element &apos;FrobnicateItem&apos;');
    const lacking = await post(envelope('<m:GetUserOofSettingsRequest/>'));
    expect(lacking.body).toContain('a:ErrorSchemaValidation');
    const unimplemented = await post(envelope('<m:SyncFolderItems/>'));
    expect(unimplemented.status).toBe(500);
    expect(unimplemented.body).toMatch(VERSION_INFO);
    expect(unimplemented.body).toContain('a:ErrorInternalServerError');
    expect(unimplemented.body).toContain('does not implement SyncFolderItems');
  });

  it('denies impersonating one mailbox while allowing the others', async () => {
    const getRoot =
      '<m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="msgfolderroot"/></m:FolderIds></m:GetFolder>';
    const denied = await post(envelope(getRoot, { as: 'B@corp.example' }));
    expect(denied.status).toBe(500);
    expect(denied.body).toMatch(VERSION_INFO);
    expect(denied.body).toContain(
      '<e:ResponseCode xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">ErrorImpersonateUserDenied</e:ResponseCode>',
    );
    const allowed = await post(envelope(getRoot));
    expect(allowed.status).toBe(200);
    expect(allowed.body).toContain('<t:DisplayName>Top of Information Store</t:DisplayName>');
  });

  it('asks an account without a mailbox for the mailbox of a distinguished folder', async () => {
    const r = await post(
      envelope(
        '<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="calendar"/></m:FolderIds></m:GetFolder>',
        { as: '' },
      ),
    );
    expect(r.status).toBe(200);
    expect(r.body).toContain('<m:ResponseCode>ErrorMissingEmailAddress</m:ResponseCode>');
  });

  it('answers a distinguished folder the mailbox lacks with ErrorFolderNotFound, a misspelt one with a fault', async () => {
    const missing = await post(
      envelope(
        '<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="archiveroot"/><t:DistinguishedFolderId Id="calendar"/></m:FolderIds></m:GetFolder>',
      ),
    );
    expect(missing.body).toMatch(/ResponseClass="Error">.*ErrorFolderNotFound.*ResponseClass="Success"/);
    const misspelt = await post(
      envelope(
        '<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="calender"/></m:FolderIds></m:GetFolder>',
      ),
    );
    expect(misspelt.status).toBe(500);
    expect(misspelt.body).toContain('a:ErrorSchemaValidation');
  });
});

describe('fake EWS restrictions and paging', () => {
  const view = '<m:IndexedPageItemView MaxEntriesReturned="10" Offset="0" BasePoint="Beginning"/>';

  it('compares IsEqualTo ignoring case, as the store collation does', async () => {
    const r = await post(
      findItem(
        `${view}<m:Restriction><t:IsEqualTo><t:FieldURI FieldURI="item:Subject"/><t:FieldURIOrConstant><t:Constant Value="GAMMA"/></t:FieldURIOrConstant></t:IsEqualTo></m:Restriction>`,
      ),
    );
    expect(subjectsOf(r.body)).toEqual(['Gamma']);
  });

  it('reads Contains with FullString and Exact when the attributes are absent', async () => {
    expect(subjectsOf((await post(findItem(view + contains('report')))).body)).toEqual(['report']);
  });

  it('reads every ContainmentMode and ContainmentComparison', async () => {
    const sub = async (attrs: string, value: string) =>
      subjectsOf((await post(findItem(view + contains(value, attrs)))).body);
    expect(await sub('ContainmentMode="Substring" ContainmentComparison="Exact"', 'report')).toEqual([
      'report',
      'Alpha report',
    ]);
    expect(await sub('ContainmentMode="Substring" ContainmentComparison="IgnoreCase"', 'report')).toEqual([
      'report',
      'beta REPORT',
      'Alpha report',
    ]);
    expect(await sub('ContainmentMode="Prefixed" ContainmentComparison="IgnoreCase"', 'alpha')).toEqual([
      'Alpha report',
    ]);
    expect(await sub('ContainmentMode="PrefixOnWords" ContainmentComparison="Exact"', 'rep')).toEqual([
      'report',
      'Alpha report',
    ]);
    expect(
      await sub(
        'ContainmentMode="Substring" ContainmentComparison="IgnoreCaseAndNonSpacingCharacters"',
        'DELTA',
      ),
    ).toEqual(['Délta notes']);
  });

  it('combines And, Or and Not', async () => {
    const eq = (v: string) =>
      `<t:IsEqualTo><t:FieldURI FieldURI="item:Subject"/><t:FieldURIOrConstant><t:Constant Value="${v}"/></t:FieldURIOrConstant></t:IsEqualTo>`;
    const r = await post(
      findItem(
        `${view}<m:Restriction><t:And><t:Or>${eq('Gamma')}${eq('report')}${eq('Alpha report')}</t:Or><t:Not>${eq('report')}</t:Not></t:And></m:Restriction>`,
      ),
    );
    expect(subjectsOf(r.body)).toEqual(['Gamma', 'Alpha report']);
  });

  it('pages from the beginning and from the end with the RootFolder attributes Exchange sends', async () => {
    const first = await post(
      findItem('<m:IndexedPageItemView MaxEntriesReturned="2" Offset="0" BasePoint="Beginning"/>'),
    );
    expect(first.body).toContain(
      '<m:RootFolder IndexedPagingOffset="2" TotalItemsInView="5" IncludesLastItemInRange="false">',
    );
    expect(subjectsOf(first.body)).toEqual(['report', 'Délta notes']);
    const last = await post(
      findItem('<m:IndexedPageItemView MaxEntriesReturned="2" Offset="4" BasePoint="Beginning"/>'),
    );
    expect(last.body).toContain(
      '<m:RootFolder IndexedPagingOffset="5" TotalItemsInView="5" IncludesLastItemInRange="true">',
    );
    const fromEnd = await post(
      findItem('<m:IndexedPageItemView MaxEntriesReturned="2" Offset="1" BasePoint="End"/>'),
    );
    expect(subjectsOf(fromEnd.body)).toEqual(['Gamma', 'beta REPORT']);
  });

  it('caps a CalendarView at MaxEntriesReturned and refuses a restriction with it', async () => {
    const capped = await post(
      findItem(
        '<m:CalendarView MaxEntriesReturned="2" StartDate="2030-01-01T00:00:00Z" EndDate="2030-01-02T00:00:00Z"/>',
      ),
    );
    expect(capped.body).toContain('<m:RootFolder TotalItemsInView="5" IncludesLastItemInRange="false">');
    expect(subjectsOf(capped.body)).toEqual(['Alpha report', 'beta REPORT']);
    const restricted = await post(
      findItem(
        `<m:CalendarView StartDate="2030-01-01T00:00:00Z" EndDate="2030-01-02T00:00:00Z"/>${contains('report')}`,
      ),
    );
    expect(restricted.body).toContain(
      '<m:MessageText>Restrictions and sort order may not be specified for a CalendarView.</m:MessageText>',
    );
    const tooLong = await post(
      findItem('<m:CalendarView StartDate="2030-01-01T00:00:00Z" EndDate="2033-01-02T00:00:00Z"/>'),
    );
    expect(tooLong.body).toContain('<m:ResponseCode>ErrorCalendarViewRangeTooBig</m:ResponseCode>');
    const notCalendar = await post(
      findItem(
        '<m:CalendarView StartDate="2030-01-01T00:00:00Z" EndDate="2030-01-02T00:00:00Z"/>',
        '<t:DistinguishedFolderId Id="inbox"/>',
      ),
    );
    expect(notCalendar.body).toContain(
      '<m:ResponseCode>ErrorCalendarFolderIsInvalidForCalendarView</m:ResponseCode>',
    );
  });
});
