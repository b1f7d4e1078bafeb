// The EWS operations the fake Exchange 2013 carries out (GetFolder, FindFolder, CreateItem, FindItem, GetItem,
// DeleteItem, ConvertId, ResolveNames), each answering with the response shapes of Microsoft's EWS reference:
// one ResponseMessage per requested id or folder, per-item failures as ResponseClass="Error" messages.
// Every other operation of Exchange 2013's WSDL is answered with the fault Exchange sends when the server
// fails an operation (ErrorInternalServerError), naming what the lab's fake lacks.
import {
  DISTINGUISHED_FOLDER_NAMES,
  decodeMailboxGuid,
  type FakeEvent,
  type FakeFolder,
  type FakeMailbox,
} from './ews-mailbox.js';
import { compileRestriction, compileSortOrder, type FieldReaders, ITEM_FIELDS } from './ews-restriction.js';
import {
  errorMessage,
  MessageError,
  NS,
  responseOf,
  SoapFault,
  schemaFault,
  successMessage,
} from './ews-soap.js';
import { child, esc, type XmlElement } from './xml.js';

/** What an operation leaves on the request log. */
export interface OperationNotes {
  responseCode?: string;
  sendMeetingInvitations?: string;
}

export interface OperationContext {
  /** The mailbox the request acts on: the impersonated one, or the caller's own (undefined if it has none). */
  mailbox: FakeMailbox | undefined;
  /** Every mailbox of the organisation, by SMTP address (case-insensitive). */
  directory: (smtp: string) => FakeMailbox | undefined;
  allMailboxes: () => FakeMailbox[];
  notes: OperationNotes;
}

const TWO_YEARS_MS = 2 * 366 * 24 * 3600_000;

export function operate(op: XmlElement, ctx: OperationContext): string {
  switch (op.local) {
    case 'GetFolder':
      return perEntry(ctx, 'GetFolder', folderRefs(child(op, 'FolderIds')), (ref) =>
        successMessage(
          'GetFolder',
          `<m:Folders>${folderXml(resolveFolder(ref, ctx), child(op, 'FolderShape'), ctx)}</m:Folders>`,
        ),
      );
    case 'FindFolder':
      return perEntry(ctx, 'FindFolder', folderRefs(child(op, 'ParentFolderIds')), (ref) =>
        findFolder(op, resolveFolder(ref, ctx), ctx),
      );
    case 'CreateItem':
      return createItem(op, ctx);
    case 'FindItem':
      return perEntry(ctx, 'FindItem', folderRefs(child(op, 'ParentFolderIds')), (ref) =>
        findItem(op, resolveFolder(ref, ctx), ctx),
      );
    case 'GetItem':
      return perEntry(ctx, 'GetItem', itemRefs(op), (ref) => {
        const { item, folder } = resolveItem(ref, ctx);
        return successMessage(
          'GetItem',
          `<m:Items>${itemXml(item, folder, child(op, 'ItemShape'), ctx, true)}</m:Items>`,
        );
      });
    case 'DeleteItem':
      return deleteItem(op, ctx);
    case 'ConvertId':
      return convertId(op, ctx);
    case 'ResolveNames':
      return resolveNames(op, ctx);
    default:
      throw new SoapFault(
        'ErrorInternalServerError',
        `An internal server error occurred. The operation failed., The lab's fake Exchange does not implement ${op.local}.`,
      );
  }
}

/** One response message per entry; a MessageError becomes that entry's error message. */
function perEntry<T>(ctx: OperationContext, op: string, entries: T[], answer: (entry: T) => string): string {
  return responseOf(
    op,
    entries.map((entry) => {
      try {
        return answer(entry);
      } catch (e) {
        if (!(e instanceof MessageError)) throw e;
        ctx.notes.responseCode ??= e.code;
        return errorMessage(op, e);
      }
    }),
  );
}

// ---- folders ----------------------------------------------------------------------------------------

function folderRefs(container: XmlElement | undefined): XmlElement[] {
  return (
    container?.children.filter((c) => c.local === 'DistinguishedFolderId' || c.local === 'FolderId') ?? []
  );
}

const folderNotFound = () =>
  new MessageError('ErrorFolderNotFound', 'The specified folder could not be found in the store.');
const idMalformed = () => new MessageError('ErrorInvalidIdMalformed', 'Id is malformed.');

function resolveFolder(ref: XmlElement, ctx: OperationContext): FakeFolder {
  if (ref.local === 'FolderId') {
    const id = ref.attrs.Id ?? '';
    if (decodeMailboxGuid(id) === undefined) throw idMalformed();
    const folder = ctx.mailbox?.ownsId(id) ? ctx.mailbox.folderById(id) : undefined;
    if (!folder) throw folderNotFound();
    return folder;
  }
  const address = child(child(ref, 'Mailbox'), 'EmailAddress')?.text.trim();
  return distinguishedFolder(ref.attrs.Id ?? '', address, ctx);
}

function distinguishedFolder(name: string, address: string | undefined, ctx: OperationContext): FakeFolder {
  if (!DISTINGUISHED_FOLDER_NAMES.has(name)) {
    throw schemaFault(
      `The 'Id' attribute is invalid - The value '${name}' is invalid according to its datatype ` +
        `'${NS.t}:DistinguishedFolderIdNameType' - The Enumeration constraint failed.`,
    );
  }
  let mailbox = ctx.mailbox;
  if (address) {
    const named = ctx.directory(address);
    if (!named) {
      throw new MessageError(
        'ErrorNonExistentMailbox',
        'The SMTP address has no mailbox associated with it.',
      );
    }
    // Another mailbox's folder is delegate access, which needs folder permissions this lab never grants.
    if (named !== mailbox) {
      throw new MessageError('ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
    }
    mailbox = named;
  }
  if (!mailbox) {
    throw new MessageError(
      'ErrorMissingEmailAddress',
      'When making a request as an account that does not have a mailbox, you must specify the mailbox primary SMTP address for any distinguished folder Ids.',
    );
  }
  const folder = mailbox.folderByName(name);
  if (!folder) throw folderNotFound();
  return folder;
}

type Shape = { base: string; extra: Set<string> };

function shapeOf(shapeEl: XmlElement | undefined): Shape {
  const base = child(shapeEl, 'BaseShape')?.text.trim() ?? 'Default';
  const extra = new Set(
    (child(shapeEl, 'AdditionalProperties')?.children ?? [])
      .map((p) => p.attrs.FieldURI)
      .filter((u): u is string => u !== undefined),
  );
  return { base, extra };
}

const FOLDER_DEFAULT = new Set([
  'folder:DisplayName',
  'folder:TotalCount',
  'folder:ChildFolderCount',
  'folder:UnreadCount',
]);
const FOLDER_ALL = new Set([
  ...FOLDER_DEFAULT,
  'folder:ParentFolderId',
  'folder:FolderClass',
  'folder:EffectiveRights',
]);
const HAS_UNREAD = new Set(['Folder', 'TasksFolder', 'SearchFolder']);
const FULL_RIGHTS =
  '<t:CreateAssociated>true</t:CreateAssociated><t:CreateContents>true</t:CreateContents>' +
  '<t:CreateHierarchy>true</t:CreateHierarchy><t:Delete>true</t:Delete><t:Modify>true</t:Modify>' +
  '<t:Read>true</t:Read><t:ViewPrivateItems>true</t:ViewPrivateItems>';

/** A folder with the properties its shape asks for, in the schema's order. */
function folderXml(folder: FakeFolder, shapeEl: XmlElement | undefined, ctx: OperationContext): string {
  const shape = shapeOf(shapeEl);
  const base =
    shape.base === 'AllProperties'
      ? FOLDER_ALL
      : shape.base === 'Default'
        ? FOLDER_DEFAULT
        : new Set<string>();
  const wants = (uri: string) => base.has(uri) || shape.extra.has(uri);
  const mailbox = ctx.mailbox as FakeMailbox;
  let xml = `<t:FolderId Id="${folder.id}" ChangeKey="${folder.changeKey}"/>`;
  if (wants('folder:ParentFolderId')) {
    const parent = mailbox.folderById(folder.parentId) ?? folder;
    xml += `<t:ParentFolderId Id="${parent.id}" ChangeKey="${parent.changeKey}"/>`;
  }
  if (wants('folder:FolderClass') && folder.folderClass)
    xml += `<t:FolderClass>${folder.folderClass}</t:FolderClass>`;
  if (wants('folder:DisplayName')) xml += `<t:DisplayName>${esc(folder.displayName)}</t:DisplayName>`;
  if (wants('folder:TotalCount')) xml += `<t:TotalCount>${folder.items.length}</t:TotalCount>`;
  if (wants('folder:ChildFolderCount')) {
    xml += `<t:ChildFolderCount>${mailbox.children(folder).length}</t:ChildFolderCount>`;
  }
  if (wants('folder:EffectiveRights')) xml += `<t:EffectiveRights>${FULL_RIGHTS}</t:EffectiveRights>`;
  if (shape.extra.has('folder:DistinguishedFolderId') && folder.distinguished) {
    xml += `<t:DistinguishedFolderId>${folder.distinguished}</t:DistinguishedFolderId>`;
  }
  if (wants('folder:UnreadCount') && HAS_UNREAD.has(folder.element))
    xml += '<t:UnreadCount>0</t:UnreadCount>';
  return `<t:${folder.element}>${xml}</t:${folder.element}>`;
}

const FOLDER_FIELDS: FieldReaders<FakeFolder> = {
  'folder:DisplayName': (f) => f.displayName,
  'folder:FolderClass': (f) => f.folderClass,
};

function findFolder(op: XmlElement, parent: FakeFolder, ctx: OperationContext): string {
  const mailbox = ctx.mailbox as FakeMailbox;
  const traversal = op.attrs.Traversal ?? 'Shallow';
  let found =
    traversal === 'Deep'
      ? mailbox.descendants(parent)
      : traversal === 'Shallow'
        ? mailbox.children(parent)
        : [];
  const restriction = child(op, 'Restriction');
  if (restriction) found = found.filter(compileRestriction(restriction, FOLDER_FIELDS));
  const { page, rootAttrs } = pageOf(
    found,
    child(op, 'IndexedPageFolderView') ?? child(op, 'FractionalPageFolderView'),
  );
  const folders = page.map((f) => folderXml(f, child(op, 'FolderShape'), ctx)).join('');
  return successMessage(
    'FindFolder',
    `<m:RootFolder ${rootAttrs}><t:Folders>${folders}</t:Folders></m:RootFolder>`,
  );
}

/** Applies an indexed or fractional paging view; the RootFolder attributes say where the page sits. */
function pageOf<T>(all: T[], view: XmlElement | undefined): { page: T[]; rootAttrs: string } {
  const total = all.length;
  if (!view) return { page: all, rootAttrs: `TotalItemsInView="${total}" IncludesLastItemInRange="true"` };
  const max =
    view.attrs.MaxEntriesReturned === undefined
      ? Number.POSITIVE_INFINITY
      : Number(view.attrs.MaxEntriesReturned);
  if (view.local.startsWith('Fractional')) {
    const numerator = Number(view.attrs.Numerator ?? 0);
    const denominator = Number(view.attrs.Denominator ?? 0);
    if (!(denominator > 0) || numerator < 0 || numerator > denominator || !(max > 0)) {
      throw new MessageError(
        'ErrorInvalidFractionalPagingParameters',
        'Fractional paging parameters are invalid.',
      );
    }
    const start = Math.floor((numerator * total) / denominator);
    const page = all.slice(start, start + max);
    const next = start + page.length;
    return {
      page,
      rootAttrs:
        `NumeratorOffset="${next}" AbsoluteDenominator="${total}" TotalItemsInView="${total}" ` +
        `IncludesLastItemInRange="${next >= total}"`,
    };
  }
  const offset = Number(view.attrs.Offset ?? 0);
  if (!Number.isInteger(offset) || offset < 0 || !(max > 0)) {
    throw new MessageError('ErrorInvalidIndexedPagingParameters', 'Indexed paging parameters are invalid.');
  }
  // From the end, Offset counts back from the last item and the page keeps the view's order.
  const fromEnd = view.attrs.BasePoint === 'End';
  const stop = fromEnd ? Math.max(total - offset, 0) : total;
  const begin = fromEnd ? Math.max(stop - max, 0) : Math.min(offset, total);
  const page = all.slice(begin, fromEnd ? stop : Math.min(begin + max, total));
  const next = offset + page.length;
  return {
    page,
    rootAttrs: `IndexedPagingOffset="${next}" TotalItemsInView="${total}" IncludesLastItemInRange="${next >= total}"`,
  };
}

// ---- items ------------------------------------------------------------------------------------------

function itemRefs(op: XmlElement): XmlElement[] {
  return child(op, 'ItemIds')?.children ?? [];
}

function resolveItem(ref: XmlElement, ctx: OperationContext): { item: FakeEvent; folder: FakeFolder } {
  if (ref.local !== 'ItemId') {
    // OccurrenceItemId / RecurringMasterItemId: the fake stores no recurring series.
    throw new MessageError('ErrorItemNotFound', 'The specified object was not found in the store.');
  }
  const id = ref.attrs.Id ?? '';
  if (decodeMailboxGuid(id) === undefined) throw idMalformed();
  const found = ctx.mailbox?.ownsId(id) ? ctx.mailbox.findItem(id) : undefined;
  if (!found) throw new MessageError('ErrorItemNotFound', 'The specified object was not found in the store.');
  return found;
}

function createItem(op: XmlElement, ctx: OperationContext): string {
  const invitations = op.attrs.SendMeetingInvitations;
  if (invitations) ctx.notes.sendMeetingInvitations = invitations;
  const savedIn = folderRefs(child(op, 'SavedItemFolderId'))[0];
  const items = child(op, 'Items')?.children ?? [];
  return perEntry(ctx, 'CreateItem', items, (item) => {
    if (item.local !== 'CalendarItem') {
      throw new SoapFault(
        'ErrorInternalServerError',
        `An internal server error occurred. The operation failed., The lab's fake Exchange stores only calendar items, not ${item.local}.`,
      );
    }
    const folder = savedIn ? resolveFolder(savedIn, ctx) : distinguishedFolder('calendar', undefined, ctx);
    if (!invitations) {
      // Exchange refuses calendar items without the attribute.
      throw new MessageError(
        'ErrorSendMeetingInvitationsRequired',
        'SendMeetingInvitations attribute is required for calendar items.',
      );
    }
    const start = new Date(child(item, 'Start')?.text ?? '');
    const end = new Date(child(item, 'End')?.text ?? '');
    if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime()) || end < start) {
      throw new MessageError(
        'ErrorCalendarEndDateIsEarlierThanStartDate',
        'EndDate is earlier than StartDate',
      );
    }
    const ev = (ctx.mailbox as FakeMailbox).addItem(folder, {
      subject: child(item, 'Subject')?.text ?? '',
      body: child(item, 'Body')?.text ?? '',
      start,
      end,
    });
    return successMessage(
      'CreateItem',
      `<m:Items><t:CalendarItem><t:ItemId Id="${ev.id}" ChangeKey="${ev.changeKey}"/></t:CalendarItem></m:Items>`,
    );
  });
}

function findItem(op: XmlElement, folder: FakeFolder, ctx: OperationContext): string {
  const mailbox = ctx.mailbox as FakeMailbox;
  const traversal = op.attrs.Traversal ?? 'Shallow';
  let found =
    traversal === 'SoftDeleted'
      ? mailbox.softDeletedFrom(folder)
      : traversal === 'Associated'
        ? []
        : [...folder.items];
  const restriction = child(op, 'Restriction');
  const sortOrder = child(op, 'SortOrder');
  if (child(op, 'QueryString')) {
    throw new SoapFault(
      'ErrorInternalServerError',
      "An internal server error occurred. The operation failed., The lab's fake Exchange has no content index for QueryString.",
    );
  }
  const calendarView = child(op, 'CalendarView');
  if (calendarView) {
    if (folder.element !== 'CalendarFolder') {
      throw new MessageError(
        'ErrorCalendarFolderIsInvalidForCalendarView',
        'The specified folder is not a calendar folder and cannot be used for a calendar view.',
      );
    }
    if (restriction || sortOrder) {
      throw new MessageError(
        'ErrorInvalidRestriction',
        'Restrictions and sort order may not be specified for a CalendarView.',
      );
    }
    const from = new Date(calendarView.attrs.StartDate ?? '');
    const to = new Date(calendarView.attrs.EndDate ?? '');
    if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) {
      throw schemaFault("The 'StartDate' or 'EndDate' attribute of CalendarView is not a valid dateTime.");
    }
    if (to < from)
      throw new MessageError(
        'ErrorCalendarEndDateIsEarlierThanStartDate',
        'EndDate is earlier than StartDate',
      );
    if (to.getTime() - from.getTime() > TWO_YEARS_MS) {
      throw new MessageError(
        'ErrorCalendarViewRangeTooBig',
        'The specified view range exceeds the maximum range of two years.',
      );
    }
    // Items overlapping the range; one ending exactly at StartDate is included, as Exchange does.
    found = found
      .filter((ev) => ev.end >= from && ev.start < to)
      .sort((a, b) => a.start.getTime() - b.start.getTime());
    const max = Number(calendarView.attrs.MaxEntriesReturned ?? Number.POSITIVE_INFINITY);
    const page = found.slice(0, max);
    return successMessage(
      'FindItem',
      `<m:RootFolder TotalItemsInView="${found.length}" IncludesLastItemInRange="${page.length === found.length}">` +
        `<t:Items>${page.map((ev) => itemXml(ev, folder, child(op, 'ItemShape'), ctx, false)).join('')}</t:Items></m:RootFolder>`,
    );
  }
  if (restriction) found = found.filter(compileRestriction(restriction, ITEM_FIELDS));
  // Without a SortOrder the store returns a folder's items newest first.
  const order =
    compileSortOrder(sortOrder, ITEM_FIELDS) ?? ((a, b) => b.created.getTime() - a.created.getTime());
  found = stableSort(found, order);
  const { page, rootAttrs } = pageOf(
    found,
    child(op, 'IndexedPageItemView') ?? child(op, 'FractionalPageItemView'),
  );
  const items = page.map((ev) => itemXml(ev, folder, child(op, 'ItemShape'), ctx, false)).join('');
  return successMessage('FindItem', `<m:RootFolder ${rootAttrs}><t:Items>${items}</t:Items></m:RootFolder>`);
}

function stableSort<T>(xs: T[], order: (a: T, b: T) => number): T[] {
  return xs
    .map((x, i) => [x, i] as const)
    .sort((a, b) => order(a[0], b[0]) || a[1] - b[1])
    .map(([x]) => x);
}

const DELETE_TYPES = new Set(['HardDelete', 'SoftDelete', 'MoveToDeletedItems']);

function deleteItem(op: XmlElement, ctx: OperationContext): string {
  const deleteType = op.attrs.DeleteType ?? '';
  if (!DELETE_TYPES.has(deleteType)) {
    throw schemaFault(
      `The 'DeleteType' attribute is invalid - The value '${deleteType}' is invalid according to its datatype.`,
    );
  }
  return perEntry(ctx, 'DeleteItem', itemRefs(op), (ref) => {
    const { item, folder } = resolveItem(ref, ctx);
    if (!op.attrs.SendMeetingCancellations) {
      throw new MessageError(
        'ErrorSendMeetingCancellationsRequired',
        'SendMeetingCancellations attribute is required for Calendar items.',
      );
    }
    const mailbox = ctx.mailbox as FakeMailbox;
    const deletedItems = mailbox.wellKnown('deleteditems');
    const recoverable = new Set(mailbox.descendants(mailbox.wellKnown('recoverableitemsroot')));
    if (deleteType === 'HardDelete' || recoverable.has(folder)) mailbox.remove(item.id);
    // Moving to Deleted Items what is already there soft-deletes it, as Outlook and Exchange do.
    else if (deleteType === 'MoveToDeletedItems' && folder !== deletedItems)
      mailbox.move(item.id, deletedItems);
    else mailbox.move(item.id, mailbox.wellKnown('recoverableitemsdeletions'), true);
    return successMessage('DeleteItem', '');
  });
}

// Calendar item properties in the schema's order: [FieldURI, in Default shape, in AllProperties, xml].
type ItemProperty = [
  string,
  boolean,
  boolean,
  (ev: FakeEvent, folder: FakeFolder, mailbox: FakeMailbox) => string,
];
const ITEM_PROPERTIES: ItemProperty[] = [
  [
    'item:ParentFolderId',
    false,
    true,
    (_, f) => `<t:ParentFolderId Id="${f.id}" ChangeKey="${f.changeKey}"/>`,
  ],
  ['item:ItemClass', true, true, () => '<t:ItemClass>IPM.Appointment</t:ItemClass>'],
  ['item:Subject', true, true, (ev) => `<t:Subject>${esc(ev.subject)}</t:Subject>`],
  ['item:Sensitivity', true, true, () => '<t:Sensitivity>Normal</t:Sensitivity>'],
  ['item:Body', true, true, (ev) => `<t:Body BodyType="Text">${esc(ev.body)}</t:Body>`],
  [
    'item:DateTimeReceived',
    true,
    true,
    (ev) => `<t:DateTimeReceived>${utc(ev.created)}</t:DateTimeReceived>`,
  ],
  ['item:Size', true, true, (ev) => `<t:Size>${1024 + Buffer.byteLength(ev.subject + ev.body)}</t:Size>`],
  ['item:Importance', true, true, () => '<t:Importance>Normal</t:Importance>'],
  ['item:IsSubmitted', true, true, () => '<t:IsSubmitted>false</t:IsSubmitted>'],
  ['item:IsDraft', true, true, () => '<t:IsDraft>false</t:IsDraft>'],
  ['item:IsFromMe', true, true, () => '<t:IsFromMe>false</t:IsFromMe>'],
  ['item:IsResend', true, true, () => '<t:IsResend>false</t:IsResend>'],
  ['item:IsUnmodified', true, true, () => '<t:IsUnmodified>false</t:IsUnmodified>'],
  ['item:DateTimeSent', true, true, (ev) => `<t:DateTimeSent>${utc(ev.created)}</t:DateTimeSent>`],
  ['item:DateTimeCreated', true, true, (ev) => `<t:DateTimeCreated>${utc(ev.created)}</t:DateTimeCreated>`],
  ['item:ReminderIsSet', true, true, () => '<t:ReminderIsSet>false</t:ReminderIsSet>'],
  [
    'item:ReminderMinutesBeforeStart',
    true,
    true,
    () => '<t:ReminderMinutesBeforeStart>15</t:ReminderMinutesBeforeStart>',
  ],
  ['item:DisplayCc', true, true, () => '<t:DisplayCc/>'],
  ['item:DisplayTo', true, true, () => '<t:DisplayTo/>'],
  ['item:HasAttachments', true, true, () => '<t:HasAttachments>false</t:HasAttachments>'],
  ['item:Culture', true, true, () => '<t:Culture>en-US</t:Culture>'],
  ['item:EffectiveRights', false, true, () => `<t:EffectiveRights>${FULL_RIGHTS}</t:EffectiveRights>`],
  [
    'item:LastModifiedName',
    false,
    true,
    (_, __, m) => `<t:LastModifiedName>${esc(m.displayName)}</t:LastModifiedName>`,
  ],
  [
    'item:LastModifiedTime',
    false,
    true,
    (ev) => `<t:LastModifiedTime>${utc(ev.created)}</t:LastModifiedTime>`,
  ],
  ['item:IsAssociated', false, true, () => '<t:IsAssociated>false</t:IsAssociated>'],
  ['calendar:DateTimeStamp', false, true, (ev) => `<t:DateTimeStamp>${utc(ev.created)}</t:DateTimeStamp>`],
  ['calendar:Start', true, true, (ev) => `<t:Start>${utc(ev.start)}</t:Start>`],
  ['calendar:End', true, true, (ev) => `<t:End>${utc(ev.end)}</t:End>`],
  ['calendar:IsAllDayEvent', true, true, () => '<t:IsAllDayEvent>false</t:IsAllDayEvent>'],
  [
    'calendar:LegacyFreeBusyStatus',
    true,
    true,
    () => '<t:LegacyFreeBusyStatus>Busy</t:LegacyFreeBusyStatus>',
  ],
  ['calendar:IsMeeting', true, true, () => '<t:IsMeeting>false</t:IsMeeting>'],
  ['calendar:IsCancelled', true, true, () => '<t:IsCancelled>false</t:IsCancelled>'],
  ['calendar:IsRecurring', true, true, () => '<t:IsRecurring>false</t:IsRecurring>'],
  [
    'calendar:MeetingRequestWasSent',
    true,
    true,
    () => '<t:MeetingRequestWasSent>false</t:MeetingRequestWasSent>',
  ],
  ['calendar:IsResponseRequested', true, true, () => '<t:IsResponseRequested>false</t:IsResponseRequested>'],
  ['calendar:CalendarItemType', true, true, () => '<t:CalendarItemType>Single</t:CalendarItemType>'],
  ['calendar:MyResponseType', true, true, () => '<t:MyResponseType>Organizer</t:MyResponseType>'],
  ['calendar:Organizer', true, true, (_, __, m) => `<t:Organizer>${mailboxXml(m)}</t:Organizer>`],
  ['calendar:Duration', true, true, (ev) => `<t:Duration>${duration(ev)}</t:Duration>`],
  ['calendar:TimeZone', true, true, () => '<t:TimeZone>(UTC) Coordinated Universal Time</t:TimeZone>'],
  [
    'calendar:AppointmentSequenceNumber',
    true,
    true,
    () => '<t:AppointmentSequenceNumber>0</t:AppointmentSequenceNumber>',
  ],
  ['calendar:AppointmentState', true, true, () => '<t:AppointmentState>0</t:AppointmentState>'],
];

/** A calendar item with the properties its shape asks for; FindItem never returns the body. */
function itemXml(
  ev: FakeEvent,
  folder: FakeFolder,
  shapeEl: XmlElement | undefined,
  ctx: OperationContext,
  withBody: boolean,
): string {
  const shape = shapeOf(shapeEl);
  const mailbox = ctx.mailbox as FakeMailbox;
  let xml = `<t:ItemId Id="${ev.id}" ChangeKey="${ev.changeKey}"/>`;
  for (const [uri, inDefault, inAll, render] of ITEM_PROPERTIES) {
    if (uri === 'item:Body' && !withBody) continue;
    const wanted =
      shape.extra.has(uri) ||
      (shape.base === 'Default' && inDefault) ||
      (shape.base === 'AllProperties' && inAll);
    if (wanted) xml += render(ev, folder, mailbox);
  }
  return `<t:CalendarItem>${xml}</t:CalendarItem>`;
}

function mailboxXml(m: FakeMailbox): string {
  return (
    `<t:Mailbox><t:Name>${esc(m.displayName)}</t:Name><t:EmailAddress>${esc(m.smtp)}</t:EmailAddress>` +
    '<t:RoutingType>SMTP</t:RoutingType><t:MailboxType>Mailbox</t:MailboxType></t:Mailbox>'
  );
}

function duration(ev: FakeEvent): string {
  const minutes = Math.round((ev.end.getTime() - ev.start.getTime()) / 60_000);
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const rest = minutes % 60;
  const time = `${hours ? `${hours}H` : ''}${rest ? `${rest}M` : ''}`;
  return `P${days ? `${days}D` : ''}${time || !days ? `T${time || '0S'}` : ''}`;
}

function utc(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// ---- ids and names ----------------------------------------------------------------------------------

function convertId(op: XmlElement, ctx: OperationContext): string {
  const destination = op.attrs.DestinationFormat ?? '';
  const sources = child(op, 'SourceIds')?.children.filter((c) => c.local === 'AlternateId') ?? [];
  return perEntry(ctx, 'ConvertId', sources, (source) => {
    const address = source.attrs.Mailbox ?? '';
    if (!/^[^@\s]+@[^@\s]+$/.test(address)) {
      throw new MessageError('ErrorInvalidSmtpAddress', 'The SMTP address format is invalid.');
    }
    const mailbox = ctx.directory(address);
    if (!mailbox)
      throw new MessageError(
        'ErrorNonExistentMailbox',
        'The SMTP address has no mailbox associated with it.',
      );
    // Only EWS ids are read as a source: the fake keeps no index from store entry ids back to objects.
    const ewsId = source.attrs.Format === 'EwsId' ? (source.attrs.Id ?? '') : '';
    if (!mailbox.ownsId(ewsId)) throw idMalformed();
    const converted = fromEwsId(destination, ewsId);
    if (converted === undefined) throw idMalformed();
    return successMessage(
      'ConvertId',
      `<m:AlternateId xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="t:AlternateIdType" ` +
        `Format="${destination}" Id="${esc(converted)}" Mailbox="${esc(mailbox.smtp)}"/>`,
    );
  });
}

// An EWS id is a header plus the store entry id; EntryId is that entry id in base64, HexEntryId in hex.
function fromEwsId(format: string, ewsId: string): string | undefined {
  const entry = Buffer.from(ewsId, 'base64').subarray(43);
  if (format === 'EwsId') return ewsId;
  if (format === 'EntryId') return entry.toString('base64');
  if (format === 'HexEntryId') return entry.toString('hex').toUpperCase();
  return undefined;
}

function resolveNames(op: XmlElement, ctx: OperationContext): string {
  const wanted = (child(op, 'UnresolvedEntry')?.text ?? '')
    .trim()
    .replace(/^smtp:/i, '')
    .toLowerCase();
  const fullContact = op.attrs.ReturnFullContactData === 'true';
  const matches = wanted
    ? ctx
        .allMailboxes()
        .filter(
          (m) => m.smtp.toLowerCase().startsWith(wanted) || m.displayName.toLowerCase().startsWith(wanted),
        )
    : [];
  if (matches.length === 0) {
    ctx.notes.responseCode = 'ErrorNameResolutionNoResults';
    return responseOf('ResolveNames', [
      errorMessage(
        'ResolveNames',
        new MessageError('ErrorNameResolutionNoResults', 'No results were found.'),
      ),
    ]);
  }
  const resolutions = matches
    .map((m) => {
      const contact = fullContact
        ? `<t:Contact><t:DisplayName>${esc(m.displayName)}</t:DisplayName><t:EmailAddresses>` +
          `<t:Entry Key="EmailAddress1">SMTP:${esc(m.smtp)}</t:Entry></t:EmailAddresses>` +
          '<t:ContactSource>ActiveDirectory</t:ContactSource></t:Contact>'
        : '';
      return `<t:Resolution>${mailboxXml(m)}${contact}</t:Resolution>`;
    })
    .join('');
  const set = `<m:ResolutionSet TotalItemsInView="${matches.length}" IncludesLastItemInRange="true">${resolutions}</m:ResolutionSet>`;
  if (matches.length === 1) return responseOf('ResolveNames', [successMessage('ResolveNames', set)]);
  ctx.notes.responseCode = 'ErrorNameResolutionMultipleResults';
  return responseOf('ResolveNames', [
    '<m:ResolveNamesResponseMessage ResponseClass="Warning"><m:MessageText>Multiple results were found.</m:MessageText>' +
      `<m:ResponseCode>ErrorNameResolutionMultipleResults</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>${set}` +
      '</m:ResolveNamesResponseMessage>',
  ]);
}
