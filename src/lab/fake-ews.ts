// A fake Exchange 2013 EWS endpoint for tests: HTTPS, Basic auth, impersonation rights, a calendar per
// mailbox, and SOAP 1.1 responses and faults shaped as Exchange 2013 sends them (Microsoft's EWS reference
// pages: CreateItem/FindItem/GetItem/DeleteItem/GetFolder responses, RootFolder with TotalItemsInView and
// IncludesLastItemInRange; faults as HTTP 500 + s:Fault whose detail carries e:ResponseCode).
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { SecureVersion } from 'node:tls';
import { type Ca, type IssuedCert, issueCert, makeCa } from './pki.js';
import { child, descendants, esc, parseXml, type XmlElement } from './xml.js';

const NS = {
  soap: 'http://schemas.xmlsoap.org/soap/envelope/',
  m: 'http://schemas.microsoft.com/exchange/services/2006/messages',
  t: 'http://schemas.microsoft.com/exchange/services/2006/types',
  e: 'http://schemas.microsoft.com/exchange/services/2006/errors',
};
const XSI_XSD =
  'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"';
export const EWS_PATH = '/EWS/Exchange.asmx';

/** TLS profile: modern (1.2-1.3), Exchange 2013's usual 1.2 only, or an old server speaking only 1.1. */
export type FakeTls = 'modern' | 'tls1.2-only' | 'tls1.1-only';

export interface FakeEwsOptions {
  /** Accounts that may log in (Basic auth), with their passwords. */
  users: Record<string, string>;
  /** Mailboxes (SMTP addresses) that exist; matched case-insensitively, as Exchange does. */
  mailboxes: string[];
  /** Accounts holding the ApplicationImpersonation role from the start. */
  impersonators?: string[];
  tls?: FakeTls;
  /** Certificate to serve; by default one for localhost/127.0.0.1 from a CA made for this server. */
  cert?: IssuedCert;
  /** Milliseconds to wait before answering every request. */
  delayMs?: number;
  /**
   * Accounts granted the role since start-up, asked on every request (the lab reads the PowerShell
   * stand-in's grants here, so impersonation works only once the impersonation task has run).
   */
  grantedImpersonators?: () => Iterable<string>;
  /** Called with each request once it has been answered. */
  onRequest?: (request: FakeRequest) => void;
}

export interface FakeEvent {
  id: string;
  changeKey: string;
  subject: string;
  start: Date;
  end: Date;
  body: string;
  created: Date;
}

export interface FakeRequest {
  operation: string;
  account?: string;
  /** The SMTP address in ExchangeImpersonation/ConnectingSID, if any. */
  impersonated?: string;
  anchorMailbox?: string;
  status: number;
  /** Response code sent (NoError, ErrorImpersonateUserDenied, ...). */
  responseCode?: string;
  sendMeetingInvitations?: string;
}

export interface FakeEws {
  url: string;
  port: number;
  /** PEM of the CA that issued the server certificate (undefined when opts.cert was given). */
  caPem: string | undefined;
  ca: Ca | undefined;
  requests: FakeRequest[];
  /** The calendar of a mailbox (a live array). */
  events(mailbox: string): FakeEvent[];
  grantImpersonation(account: string): void;
  revokeImpersonation(account: string): void;
  /** Answer the next `count` requests with an HTTP 500 and an empty body (ews-javascript-api issue #364). */
  failNextWithEmpty500(count?: number): void;
  setDelay(ms: number): void;
  close(): Promise<void>;
}

class SoapFault extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly messageXml = '',
  ) {
    super(message);
  }
}

/** A per-item error inside a 200 response (ResponseClass="Error"). */
interface ItemError {
  code: string;
  text: string;
}

const VERSIONS: Record<FakeTls, { minVersion: SecureVersion; maxVersion: SecureVersion; ciphers?: string }> =
  {
    modern: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' },
    'tls1.2-only': { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' },
    // OpenSSL 3 refuses TLS < 1.2 at the default security level.
    'tls1.1-only': { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' },
  };

export async function startFakeEws(opts: FakeEwsOptions): Promise<FakeEws> {
  const ca = opts.cert ? undefined : await makeCa('Fake Exchange CA');
  const cert = opts.cert ?? (await issueCert(ca as Ca, 'localhost', ['localhost', '127.0.0.1']));
  const impersonators = new Set(opts.impersonators ?? []);
  const calendars = new Map<string, FakeEvent[]>(opts.mailboxes.map((m) => [m.toLowerCase(), []]));
  const requests: FakeRequest[] = [];
  let empty500 = 0;
  let delayMs = opts.delayMs ?? 0;

  const calendarOf = (mailbox: string): FakeEvent[] | undefined => calendars.get(mailbox.toLowerCase());

  const handle = async (req: IncomingMessage, res: ServerResponse, body: string): Promise<FakeRequest> => {
    const entry: FakeRequest = { operation: '?', status: 0 };
    const anchor = req.headers['x-anchormailbox'];
    if (typeof anchor === 'string') entry.anchorMailbox = anchor;
    requests.push(entry);
    const send = (status: number, xml: string, headers: Record<string, string | string[]> = {}) => {
      entry.status = status;
      res.writeHead(status, { 'Content-Type': 'text/xml; charset=utf-8', ...headers });
      res.end(xml);
    };
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    if (req.url?.split('?')[0]?.toLowerCase() !== EWS_PATH.toLowerCase()) {
      entry.status = 404;
      res.writeHead(404).end();
      return entry;
    }
    const account = basicAccount(req.headers.authorization, opts.users);
    if (!account) {
      // IIS offers every enabled scheme, one header each, with an empty body.
      entry.status = 401;
      res.writeHead(401, {
        'WWW-Authenticate': ['Negotiate', 'NTLM', `Basic realm="${req.headers.host ?? 'localhost'}"`],
        'Content-Length': '0',
      });
      res.end();
      return entry;
    }
    entry.account = account;
    if (empty500 > 0) {
      empty500--;
      entry.status = 500;
      res.writeHead(500, { 'Content-Length': '0' }).end();
      return entry;
    }
    if (req.method !== 'POST') {
      // Exchange answers a browser's GET with an HTML service page; clients never need it.
      entry.status = 200;
      res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html><body>EWS</body></html>');
      return entry;
    }
    try {
      const envelope = parseXml(body);
      const soapBody = child(envelope, 'Body', NS.soap);
      const op = soapBody?.children[0];
      if (envelope.local !== 'Envelope' || envelope.ns !== NS.soap || !op) {
        throw new SoapFault('ErrorInvalidRequest', 'The request is invalid.');
      }
      entry.operation = op.local;
      const sid = descendants(child(envelope, 'Header', NS.soap), 'ConnectingSID')[0];
      const target = child(sid, 'SmtpAddress') ?? child(sid, 'PrimarySmtpAddress');
      if (sid && !target) throw new SoapFault('ErrorInvalidRequest', 'ConnectingSID needs an SMTP address.');
      const mailbox = target ? target.text.trim() : account;
      if (target) entry.impersonated = mailbox;
      const calendar = calendarOf(mailbox);
      if (!calendar) {
        throw new SoapFault(
          'ErrorNonExistentMailbox',
          'The SMTP address has no mailbox associated with it.',
          `<t:MessageXml xmlns:t="${NS.t}"><t:Value Name="SmtpAddress">${esc(mailbox)}</t:Value></t:MessageXml>`,
        );
      }
      for (const a of opts.grantedImpersonators?.() ?? []) impersonators.add(a);
      if (target && !impersonators.has(account)) {
        throw new SoapFault(
          'ErrorImpersonateUserDenied',
          'The account does not have permission to impersonate the requested user.',
        );
      }
      const xml = operate(op, mailbox, calendar, entry);
      entry.responseCode ??= 'NoError';
      send(200, envelopeOf(xml));
    } catch (e) {
      if (e instanceof SoapFault) {
        entry.responseCode = e.code;
        send(500, faultOf(e));
      } else {
        entry.responseCode = 'ErrorSchemaValidation';
        send(
          500,
          faultOf(new SoapFault('ErrorSchemaValidation', `The request failed schema validation: ${e}`)),
        );
      }
    }
    return entry;
  };

  const sockets = new Set<Socket>();
  const server = https.createServer({
    cert: cert.certPem,
    key: cert.keyPem,
    ...VERSIONS[opts.tls ?? 'modern'],
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void handle(req, res, Buffer.concat(chunks).toString('utf8')).then((entry) => opts.onRequest?.(entry));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `https://localhost:${port}${EWS_PATH}`,
    port,
    caPem: ca?.certPem,
    ca,
    requests,
    events: (mailbox) => {
      const cal = calendarOf(mailbox);
      if (!cal) throw new Error(`fake EWS: no mailbox ${mailbox}`);
      return cal;
    },
    grantImpersonation: (account) => impersonators.add(account),
    revokeImpersonation: (account) => impersonators.delete(account),
    failNextWithEmpty500: (count = 1) => {
      empty500 = count;
    },
    setDelay: (ms) => {
      delayMs = ms;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function basicAccount(header: string | undefined, users: Record<string, string>): string | undefined {
  const m = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!m?.[1]) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const user = decoded.slice(0, colon);
  return Object.hasOwn(users, user) && users[user] === decoded.slice(colon + 1) ? user : undefined;
}

// ---- operations -------------------------------------------------------------------------------------

function operate(op: XmlElement, mailbox: string, calendar: FakeEvent[], entry: FakeRequest): string {
  switch (op.local) {
    case 'GetFolder':
      return getFolder(op, mailbox, calendar, entry);
    case 'CreateItem':
      return createItem(op, calendar, entry);
    case 'FindItem':
      return findItem(op, mailbox, calendar);
    case 'GetItem':
      return itemOperation(
        op,
        'GetItem',
        calendar,
        entry,
        (ev) => `<m:Items>${calendarItemXml(ev, true)}</m:Items>`,
      );
    case 'DeleteItem':
      return itemOperation(op, 'DeleteItem', calendar, entry, (ev) => {
        calendar.splice(calendar.indexOf(ev), 1);
        return '';
      });
    default:
      throw new SoapFault('ErrorInvalidRequest', `The fake EWS does not implement ${op.local}.`);
  }
}

function calendarFolderId(mailbox: string): string {
  return Buffer.from(`calendar:${mailbox.toLowerCase()}`).toString('base64');
}

/** Is this folder reference the mailbox's calendar (distinguished id or its FolderId)? */
function isCalendar(ref: XmlElement, mailbox: string): boolean {
  return ref.local === 'DistinguishedFolderId'
    ? ref.attrs.Id === 'calendar'
    : ref.local === 'FolderId' && ref.attrs.Id === calendarFolderId(mailbox);
}

function folderRefs(container: XmlElement | undefined): XmlElement[] {
  return (
    container?.children.filter((c) => c.local === 'DistinguishedFolderId' || c.local === 'FolderId') ?? []
  );
}

function getFolder(op: XmlElement, mailbox: string, calendar: FakeEvent[], entry: FakeRequest): string {
  const messages = folderRefs(child(op, 'FolderIds')).map((ref) => {
    if (!isCalendar(ref, mailbox)) {
      entry.responseCode = 'ErrorFolderNotFound';
      return errorMessage('GetFolder', {
        code: 'ErrorFolderNotFound',
        text: 'The specified folder could not be found in the store.',
      });
    }
    return (
      '<m:GetFolderResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:Folders>' +
      `<t:CalendarFolder><t:FolderId Id="${calendarFolderId(mailbox)}" ChangeKey="AgAAABYAAAA="/>` +
      '<t:ParentFolderId Id="cm9vdA==" ChangeKey="AQAAAA=="/><t:FolderClass>IPF.Appointment</t:FolderClass>' +
      `<t:DisplayName>Calendar</t:DisplayName><t:TotalCount>${calendar.length}</t:TotalCount>` +
      '<t:ChildFolderCount>0</t:ChildFolderCount>' +
      '<t:EffectiveRights><t:CreateAssociated>true</t:CreateAssociated><t:CreateContents>true</t:CreateContents>' +
      '<t:CreateHierarchy>true</t:CreateHierarchy><t:Delete>true</t:Delete><t:Modify>true</t:Modify>' +
      '<t:Read>true</t:Read><t:ViewPrivateItems>true</t:ViewPrivateItems></t:EffectiveRights>' +
      '</t:CalendarFolder></m:Folders></m:GetFolderResponseMessage>'
    );
  });
  return responseOf('GetFolder', messages);
}

function createItem(op: XmlElement, calendar: FakeEvent[], entry: FakeRequest): string {
  const invitations = op.attrs.SendMeetingInvitations;
  if (invitations) entry.sendMeetingInvitations = invitations;
  const items = child(op, 'Items')?.children ?? [];
  const messages = items.map((item) => {
    if (item.local !== 'CalendarItem') {
      entry.responseCode = 'ErrorInvalidRequest';
      return errorMessage('CreateItem', {
        code: 'ErrorInvalidRequest',
        text: 'Only calendar items are faked.',
      });
    }
    if (!invitations) {
      // Exchange refuses calendar items without the attribute.
      entry.responseCode = 'ErrorSendMeetingInvitationsRequired';
      return errorMessage('CreateItem', {
        code: 'ErrorSendMeetingInvitationsRequired',
        text: 'SendMeetingInvitations attribute is required for calendar items.',
      });
    }
    const start = new Date(child(item, 'Start')?.text ?? '');
    const end = new Date(child(item, 'End')?.text ?? '');
    if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime()) || end < start) {
      entry.responseCode = 'ErrorCalendarEndDateIsEarlierThanStartDate';
      return errorMessage('CreateItem', {
        code: 'ErrorCalendarEndDateIsEarlierThanStartDate',
        text: 'EndDate is earlier than StartDate',
      });
    }
    const ev: FakeEvent = {
      id: opaqueId(),
      changeKey: opaqueId(12),
      subject: child(item, 'Subject')?.text ?? '',
      body: child(item, 'Body')?.text ?? '',
      start,
      end,
      created: new Date(),
    };
    calendar.push(ev);
    return (
      '<m:CreateItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>' +
      `<m:Items><t:CalendarItem><t:ItemId Id="${ev.id}" ChangeKey="${ev.changeKey}"/></t:CalendarItem></m:Items>` +
      '</m:CreateItemResponseMessage>'
    );
  });
  return responseOf('CreateItem', messages);
}

function findItem(op: XmlElement, mailbox: string, calendar: FakeEvent[]): string {
  const refs = folderRefs(child(op, 'ParentFolderIds'));
  const messages = refs.map((ref) => {
    if (!isCalendar(ref, mailbox)) {
      return errorMessage('FindItem', {
        code: 'ErrorFolderNotFound',
        text: 'The specified folder could not be found in the store.',
      });
    }
    const view = child(op, 'CalendarView');
    let found = [...calendar];
    if (view) {
      const from = new Date(view.attrs.StartDate ?? '');
      const to = new Date(view.attrs.EndDate ?? '');
      if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || to < from) {
        return errorMessage('FindItem', {
          code: 'ErrorCalendarViewRangeTooBig',
          text: 'The CalendarView start and end dates are invalid.',
        });
      }
      // An item is in the view when it ends after StartDate and starts before EndDate.
      found = found.filter((ev) => ev.end > from && ev.start < to);
    }
    found.sort((a, b) => a.start.getTime() - b.start.getTime());
    const max = Number(view?.attrs.MaxEntriesReturned ?? Number.POSITIVE_INFINITY);
    const page = found.slice(0, max);
    return (
      '<m:FindItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>' +
      `<m:RootFolder TotalItemsInView="${found.length}" IncludesLastItemInRange="${page.length === found.length}">` +
      `<t:Items>${page.map((ev) => calendarItemXml(ev, false)).join('')}</t:Items></m:RootFolder>` +
      '</m:FindItemResponseMessage>'
    );
  });
  return responseOf('FindItem', messages);
}

function itemOperation(
  op: XmlElement,
  name: 'GetItem' | 'DeleteItem',
  calendar: FakeEvent[],
  entry: FakeRequest,
  act: (ev: FakeEvent) => string,
): string {
  const ids = child(op, 'ItemIds')?.children.filter((c) => c.local === 'ItemId') ?? [];
  const messages = ids.map((idEl) => {
    const ev = calendar.find((e) => e.id === idEl.attrs.Id);
    if (!ev) {
      entry.responseCode = 'ErrorItemNotFound';
      return errorMessage(name, {
        code: 'ErrorItemNotFound',
        text: 'The specified object was not found in the store.',
      });
    }
    return `<m:${name}ResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>${act(ev)}</m:${name}ResponseMessage>`;
  });
  return responseOf(name, messages);
}

function calendarItemXml(ev: FakeEvent, withBody: boolean): string {
  const minutes = Math.round((ev.end.getTime() - ev.start.getTime()) / 60_000);
  return (
    `<t:CalendarItem><t:ItemId Id="${ev.id}" ChangeKey="${ev.changeKey}"/>` +
    '<t:ItemClass>IPM.Appointment</t:ItemClass>' +
    `<t:Subject>${esc(ev.subject)}</t:Subject><t:Sensitivity>Normal</t:Sensitivity>` +
    (withBody ? `<t:Body BodyType="Text">${esc(ev.body)}</t:Body>` : '') +
    `<t:DateTimeReceived>${utc(ev.created)}</t:DateTimeReceived><t:Size>1024</t:Size>` +
    '<t:Importance>Normal</t:Importance><t:IsSubmitted>false</t:IsSubmitted><t:IsDraft>false</t:IsDraft>' +
    `<t:DateTimeCreated>${utc(ev.created)}</t:DateTimeCreated>` +
    '<t:HasAttachments>false</t:HasAttachments><t:Culture>en-US</t:Culture>' +
    `<t:Start>${utc(ev.start)}</t:Start><t:End>${utc(ev.end)}</t:End>` +
    '<t:IsAllDayEvent>false</t:IsAllDayEvent><t:LegacyFreeBusyStatus>Busy</t:LegacyFreeBusyStatus>' +
    '<t:IsMeeting>false</t:IsMeeting><t:IsCancelled>false</t:IsCancelled><t:IsRecurring>false</t:IsRecurring>' +
    '<t:MeetingRequestWasSent>false</t:MeetingRequestWasSent><t:IsResponseRequested>false</t:IsResponseRequested>' +
    '<t:CalendarItemType>Single</t:CalendarItemType><t:MyResponseType>Organizer</t:MyResponseType>' +
    `<t:Duration>PT${minutes}M</t:Duration><t:TimeZone>(UTC) Coordinated Universal Time</t:TimeZone>` +
    '<t:AppointmentSequenceNumber>0</t:AppointmentSequenceNumber><t:AppointmentState>0</t:AppointmentState>' +
    '</t:CalendarItem>'
  );
}

function errorMessage(op: string, err: ItemError): string {
  return (
    `<m:${op}ResponseMessage ResponseClass="Error"><m:MessageText>${esc(err.text)}</m:MessageText>` +
    `<m:ResponseCode>${err.code}</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>` +
    `</m:${op}ResponseMessage>`
  );
}

function responseOf(op: string, messages: string[]): string {
  return (
    `<m:${op}Response xmlns:m="${NS.m}" xmlns:t="${NS.t}"><m:ResponseMessages>${messages.join('')}` +
    `</m:ResponseMessages></m:${op}Response>`
  );
}

function envelopeOf(bodyXml: string): string {
  return (
    `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="${NS.soap}"><s:Header>` +
    '<h:ServerVersionInfo MajorVersion="15" MinorVersion="0" MajorBuildNumber="1497" MinorBuildNumber="2" ' +
    `Version="V2_23" xmlns:h="${NS.t}" xmlns="${NS.t}" ${XSI_XSD}/></s:Header>` +
    `<s:Body ${XSI_XSD}>${bodyXml}</s:Body></s:Envelope>`
  );
}

function faultOf(f: SoapFault): string {
  return (
    `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="${NS.soap}"><s:Body><s:Fault>` +
    `<faultcode xmlns:a="${NS.t}">a:${f.code}</faultcode>` +
    `<faultstring xml:lang="en-US">${esc(f.message)}</faultstring><detail>` +
    `<e:ResponseCode xmlns:e="${NS.e}">${f.code}</e:ResponseCode>` +
    `<e:Message xmlns:e="${NS.e}">${esc(f.message)}</e:Message>${f.messageXml}` +
    '</detail></s:Fault></s:Body></s:Envelope>'
  );
}

function utc(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function opaqueId(bytes = 48): string {
  return randomBytes(bytes).toString('base64');
}
