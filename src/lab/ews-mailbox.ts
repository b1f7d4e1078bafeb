// One mailbox of the fake Exchange 2013: the folder tree a new Exchange 2013 mailbox has (root, "Top of
// Information Store" and its default folders, the Recoverable Items dumpster), calendar items in folders, and
// EWS ids shaped as Exchange's (base64 of a mailbox-GUID-based id carrying a store entry id), so clients that
// inspect or length-check ids meet what they would meet on a real server.
import { createHash, randomBytes } from 'node:crypto';

export interface FakeEvent {
  id: string;
  changeKey: string;
  subject: string;
  start: Date;
  end: Date;
  body: string;
  created: Date;
}

/** How a folder is serialized: the EWS element name decides which properties it has. */
export type FolderElement = 'Folder' | 'CalendarFolder' | 'ContactsFolder' | 'TasksFolder' | 'SearchFolder';

export interface FakeFolder {
  id: string;
  changeKey: string;
  /** The parent's id; the root folder is its own parent, as in the store. */
  parentId: string;
  distinguished: string | undefined;
  displayName: string;
  folderClass: string | undefined;
  element: FolderElement;
  /** Items in this folder (a live array: the calendar's is what FakeEws.events returns). */
  items: FakeEvent[];
}

interface FolderSpec {
  name: string;
  displayName: string;
  parent?: string;
  folderClass?: string;
  element?: FolderElement;
}

// The default folders of an Exchange 2013 mailbox in English, by distinguished name, parents first.
const DEFAULT_FOLDERS: FolderSpec[] = [
  { name: 'root', displayName: 'Root' },
  { name: 'msgfolderroot', displayName: 'Top of Information Store', parent: 'root' },
  {
    name: 'calendar',
    displayName: 'Calendar',
    parent: 'msgfolderroot',
    folderClass: 'IPF.Appointment',
    element: 'CalendarFolder',
  },
  {
    name: 'contacts',
    displayName: 'Contacts',
    parent: 'msgfolderroot',
    folderClass: 'IPF.Contact',
    element: 'ContactsFolder',
  },
  { name: 'deleteditems', displayName: 'Deleted Items', parent: 'msgfolderroot', folderClass: 'IPF.Note' },
  { name: 'drafts', displayName: 'Drafts', parent: 'msgfolderroot', folderClass: 'IPF.Note' },
  { name: 'inbox', displayName: 'Inbox', parent: 'msgfolderroot', folderClass: 'IPF.Note' },
  { name: 'journal', displayName: 'Journal', parent: 'msgfolderroot', folderClass: 'IPF.Journal' },
  { name: 'junkemail', displayName: 'Junk Email', parent: 'msgfolderroot', folderClass: 'IPF.Note' },
  { name: 'notes', displayName: 'Notes', parent: 'msgfolderroot', folderClass: 'IPF.StickyNote' },
  { name: 'outbox', displayName: 'Outbox', parent: 'msgfolderroot', folderClass: 'IPF.Note' },
  { name: 'sentitems', displayName: 'Sent Items', parent: 'msgfolderroot', folderClass: 'IPF.Note' },
  {
    name: 'tasks',
    displayName: 'Tasks',
    parent: 'msgfolderroot',
    folderClass: 'IPF.Task',
    element: 'TasksFolder',
  },
  {
    name: 'conversationhistory',
    displayName: 'Conversation History',
    parent: 'msgfolderroot',
    folderClass: 'IPF.Note',
  },
  { name: 'syncissues', displayName: 'Sync Issues', parent: 'msgfolderroot', folderClass: 'IPF.Note' },
  { name: 'conflicts', displayName: 'Conflicts', parent: 'syncissues', folderClass: 'IPF.Note' },
  { name: 'localfailures', displayName: 'Local Failures', parent: 'syncissues', folderClass: 'IPF.Note' },
  { name: 'serverfailures', displayName: 'Server Failures', parent: 'syncissues', folderClass: 'IPF.Note' },
  { name: 'searchfolders', displayName: 'Finder', parent: 'root' },
  { name: 'recoverableitemsroot', displayName: 'Recoverable Items', parent: 'root' },
  { name: 'recoverableitemsdeletions', displayName: 'Deletions', parent: 'recoverableitemsroot' },
  { name: 'recoverableitemspurges', displayName: 'Purges', parent: 'recoverableitemsroot' },
  { name: 'recoverableitemsversions', displayName: 'Versions', parent: 'recoverableitemsroot' },
];

/**
 * DistinguishedFolderId names in Exchange 2013 SP1's schema. A name outside this list fails schema
 * validation; a name in it that this mailbox lacks (archive, public folders, voice mail) is
 * ErrorFolderNotFound.
 */
export const DISTINGUISHED_FOLDER_NAMES = new Set([
  ...DEFAULT_FOLDERS.map((f) => f.name),
  'publicfoldersroot',
  'voicemail',
  'archiveroot',
  'archivemsgfolderroot',
  'archivedeleteditems',
  'archiveinbox',
  'archiverecoverableitemsroot',
  'archiverecoverableitemsdeletions',
  'archiverecoverableitemsversions',
  'archiverecoverableitemspurges',
  'recipientcache',
  'quickcontacts',
  'imcontactlist',
  'adminauditlogs',
  'todosearch',
  'mycontacts',
  'directory',
  'peopleconnect',
  'favorites',
]);

// Leading bytes of an EWS id: no compression, storage type MailboxItemMailboxGuidBased, 36-byte GUID string.
const ID_PREFIX = Buffer.from([0x00, 0x03, 0x24, 0x00]);
// Change keys start with the object type: 1 generic folder, 2 calendar folder, 3 contacts, 4 tasks, 15 calendar item.
const FOLDER_CHANGE_TYPE: Record<FolderElement, number> = {
  Folder: 1,
  CalendarFolder: 2,
  ContactsFolder: 3,
  TasksFolder: 4,
  SearchFolder: 1,
};
const CALENDAR_ITEM_CHANGE_TYPE = 15;

export class FakeMailbox {
  readonly guid: string;
  private readonly storeGuid: Buffer;
  private readonly folders = new Map<string, FakeFolder>();
  private readonly byName = new Map<string, FakeFolder>();
  /** Where each item sits, and for soft-deleted ones the folder they were deleted from. */
  private readonly location = new Map<string, { folder: FakeFolder; deletedFrom?: FakeFolder }>();

  constructor(
    readonly smtp: string,
    readonly displayName: string,
  ) {
    const hash = createHash('sha256').update(smtp.toLowerCase()).digest();
    const hex = hash.subarray(0, 16).toString('hex');
    this.guid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
    this.storeGuid = hash.subarray(16, 32);
    for (const spec of DEFAULT_FOLDERS) {
      const element = spec.element ?? 'Folder';
      const id = this.newId(46, 0x01);
      const parent = spec.parent ? this.byName.get(spec.parent) : undefined;
      const folder: FakeFolder = {
        id,
        changeKey: changeKey(FOLDER_CHANGE_TYPE[element]),
        parentId: parent?.id ?? id,
        distinguished: spec.name,
        displayName: spec.displayName,
        folderClass: spec.folderClass,
        element,
        items: [],
      };
      this.folders.set(id, folder);
      this.byName.set(spec.name, folder);
    }
  }

  folderByName(name: string): FakeFolder | undefined {
    return this.byName.get(name);
  }

  folderById(id: string): FakeFolder | undefined {
    return this.folders.get(id);
  }

  /** The folder that must exist in every mailbox (the constructor made it). */
  wellKnown(name: string): FakeFolder {
    const folder = this.byName.get(name);
    if (!folder) throw new Error(`fake EWS: mailbox has no ${name} folder`);
    return folder;
  }

  children(folder: FakeFolder): FakeFolder[] {
    return [...this.folders.values()].filter((f) => f.parentId === folder.id && f !== folder);
  }

  descendants(folder: FakeFolder): FakeFolder[] {
    return this.children(folder).flatMap((c) => [c, ...this.descendants(c)]);
  }

  addItem(folder: FakeFolder, fields: Pick<FakeEvent, 'subject' | 'body' | 'start' | 'end'>): FakeEvent {
    const ev: FakeEvent = {
      ...fields,
      id: this.newId(70, 0x07),
      changeKey: changeKey(CALENDAR_ITEM_CHANGE_TYPE),
      created: new Date(),
    };
    folder.items.push(ev);
    this.location.set(ev.id, { folder });
    return ev;
  }

  findItem(id: string): { item: FakeEvent; folder: FakeFolder } | undefined {
    const at = this.location.get(id);
    const item = at?.folder.items.find((e) => e.id === id);
    return at && item ? { item, folder: at.folder } : undefined;
  }

  /** Soft-deleted items that came from this folder (FindItem Traversal="SoftDeleted"). */
  softDeletedFrom(folder: FakeFolder): FakeEvent[] {
    return [...this.location.entries()]
      .filter(([, at]) => at.deletedFrom === folder)
      .flatMap(([id, at]) => at.folder.items.filter((e) => e.id === id));
  }

  /**
   * Moves an item as the store does: a move makes a new entry, so the item gets a new id and change key and
   * its old id no longer finds it.
   */
  move(id: string, to: FakeFolder, softDelete = false): FakeEvent {
    const at = this.findItem(id);
    if (!at) throw new Error(`fake EWS: no item ${id}`);
    at.folder.items.splice(at.folder.items.indexOf(at.item), 1);
    this.location.delete(id);
    at.item.id = this.newId(70, 0x07);
    at.item.changeKey = changeKey(CALENDAR_ITEM_CHANGE_TYPE);
    to.items.push(at.item);
    this.location.set(at.item.id, softDelete ? { folder: to, deletedFrom: at.folder } : { folder: to });
    return at.item;
  }

  remove(id: string): void {
    const at = this.findItem(id);
    if (!at) return;
    at.folder.items.splice(at.folder.items.indexOf(at.item), 1);
    this.location.delete(id);
  }

  /** Does this id name an object of this mailbox (rather than being malformed or another mailbox's)? */
  ownsId(id: string): boolean {
    return decodeMailboxGuid(id) === this.guid;
  }

  private newId(entryIdLength: number, objectType: number): string {
    // Store entry id: 4 flag bytes, the store's GUID, the object type, then the object's own bytes.
    const entryId = Buffer.concat([
      Buffer.alloc(4),
      this.storeGuid,
      Buffer.from([objectType, 0x00]),
      randomBytes(entryIdLength - 22),
    ]);
    const length = Buffer.from([entryIdLength & 0xff, entryIdLength >> 8]);
    return Buffer.concat([
      ID_PREFIX,
      Buffer.from(this.guid, 'ascii'),
      Buffer.from([0x00]),
      length,
      entryId,
    ]).toString('base64');
  }
}

/** The mailbox GUID inside an EWS id, or undefined when the id is not one Exchange could have made. */
export function decodeMailboxGuid(id: string): string | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(id)) return undefined;
  const bytes = Buffer.from(id, 'base64');
  if (bytes.length < 43 || !bytes.subarray(0, 4).equals(ID_PREFIX)) return undefined;
  return bytes.subarray(4, 40).toString('ascii');
}

function changeKey(objectType: number): string {
  const head = Buffer.from([objectType, 0, 0, 0, 0x16, 0, 0, 0]);
  return Buffer.concat([head, randomBytes(22)]).toString('base64');
}
