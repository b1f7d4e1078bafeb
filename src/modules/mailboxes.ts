// Mailbox lists for calendar_sync: read from inline lists or files (one address per line, or CSV), and
// validated strictly. The vendor's document says user names are case-sensitive, so an address is kept
// exactly as written: never lowercased, and two addresses that differ only in case are an error (one of
// them is a typo, and ewsplay cannot know which).
//
// Accepted syntax: RFC 5322 dot-atom addresses, `local@domain`, ASCII only. The local part may hold any
// atext character (letters, digits and !#$%&'*+/=?^_`{|}~-) with single dots between runs; the domain needs
// at least two DNS labels. Quoted local parts ("a b"@x), IP-literal domains and internationalized
// addresses are refused: Exchange primary SMTP addresses do not use them. Characters like ' $ ` stay
// valid (o'neil@x.example is a real address): the shell quoting of each argument, not the validation,
// is what keeps them inert.

export interface MailboxEntry {
  address: string;
  /** Where it was read: a file name or `mailboxes[3]`. */
  source: string;
  /** 1-based line in a file; 0 for inline entries. */
  line: number;
}

const ATEXT = "A-Za-z0-9!#$%&'*+/=?^_`{|}~-";
const LOCAL_RE = new RegExp(`^[${ATEXT}]+(?:\\.[${ATEXT}]+)*$`);
const LABEL_RE = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** Why `address` is not an acceptable mailbox address, or undefined when it is. */
export function mailboxSyntaxProblem(address: string): string | undefined {
  if (address === '') return 'empty address';
  if (/\s/.test(address)) return 'contains white space';
  if (/[^\u0021-\u007e]/.test(address)) return 'contains a non-ASCII or control character';
  const at = address.lastIndexOf('@');
  if (at < 0) return "has no '@'";
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (local.includes('@') || local.startsWith('"'))
    return "quoted local parts and a second '@' are not supported";
  if (local === '') return "nothing before the '@'";
  if (local.length > 64) return 'the part before the @ is longer than 64 characters';
  if (!LOCAL_RE.test(local)) {
    const bad = [...local].find((c) => c !== '.' && !new RegExp(`[${ATEXT}]`).test(c));
    return bad
      ? `the character ${JSON.stringify(bad)} is not allowed before the '@'`
      : 'dots before the @ must sit between other characters, one at a time';
  }
  if (address.length > 254) return 'longer than 254 characters';
  const labels = domain.split('.');
  if (domain === '' || labels.length < 2)
    return `the domain ${JSON.stringify(domain)} needs at least two labels (like example.com)`;
  const badLabel = labels.find((l) => !LABEL_RE.test(l));
  if (badLabel !== undefined)
    return `the domain ${JSON.stringify(domain)} has an invalid label ${JSON.stringify(badLabel)}`;
  return undefined;
}

/** A position for messages: `file:3` or `mailboxes[2]`. */
export function where(e: MailboxEntry): string {
  return e.line > 0 ? `${e.source}:${e.line}` : e.source;
}

/** Entries from an inline list, positioned as `mailboxes[i]`. */
export function inlineMailboxes(list: readonly string[]): MailboxEntry[] {
  return list.map((address, i) => ({ address: address.trim(), source: `mailboxes[${i}]`, line: 0 }));
}

/**
 * Reads a mailbox file: one address per line, or CSV (comma or semicolon separated, "quoted" fields) whose
 * header names an `email` column (else the first column is used). Lines starting with # are comments, and
 * on one-address lines ` # text` after the address is a comment too. A header is recognized as a first row
 * with no '@' in any cell.
 */
export function parseMailboxFile(
  text: string,
  source: string,
): { entries: MailboxEntry[]; problems: string[] } {
  const entries: MailboxEntry[] = [];
  const problems: string[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let column: number | undefined;
  let delimiter: string | undefined;
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    if (delimiter === undefined) delimiter = line.includes(';') && !line.includes(',') ? ';' : ',';
    const cells = splitCsvRow(line, delimiter);
    if (cells === undefined) {
      problems.push(`${source}:${i + 1}: unbalanced double quote`);
      return;
    }
    if (column === undefined) {
      if (!cells.some((c) => c.includes('@'))) {
        const named = cells.findIndex((c) => c.trim().toLowerCase() === 'email');
        column = Math.max(named, 0);
        return; // a header row
      }
      column = 0;
    }
    // Only a lone address may carry a trailing comment (# is valid inside an address).
    const cell = (
      cells.length === 1 ? (cells[0] ?? '').replace(/\s+#.*$/, '') : (cells[column] ?? '')
    ).trim();
    if (cell === '') {
      problems.push(`${source}:${i + 1}: no address in column ${column + 1}`);
      return;
    }
    entries.push({ address: cell, source, line: i + 1 });
  });
  return { entries, problems };
}

/** Splits one CSV row; undefined when a quote is left open. */
function splitCsvRow(line: string, delimiter: string): string[] | undefined {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell.trim() === '') {
      quoted = true;
      cell = '';
    } else if (c === delimiter) {
      cells.push(cell.trim());
      cell = '';
    } else cell += c;
  }
  if (quoted) return undefined;
  cells.push(cell.trim());
  return cells;
}

/** Every problem of a mailbox list: bad syntax, exact duplicates, and addresses differing only in case. */
export function mailboxProblems(entries: readonly MailboxEntry[]): string[] {
  const problems: string[] = [];
  const seen = new Map<string, MailboxEntry>();
  const folded = new Map<string, MailboxEntry>();
  for (const e of entries) {
    const syntax = mailboxSyntaxProblem(e.address);
    if (syntax) {
      problems.push(`${where(e)}: ${JSON.stringify(e.address)} is not a valid address: ${syntax}`);
      continue;
    }
    const first = seen.get(e.address);
    if (first) {
      problems.push(`${where(e)}: ${e.address} is listed twice (first at ${where(first)})`);
      continue;
    }
    seen.set(e.address, e);
    const key = e.address.toLowerCase();
    const other = folded.get(key);
    if (other)
      problems.push(
        `${where(e)}: ${e.address} and ${other.address} (${where(other)}) differ only in case: addresses are case-sensitive, keep the one spelled as in Exchange`,
      );
    else folded.set(key, e);
  }
  return problems;
}
