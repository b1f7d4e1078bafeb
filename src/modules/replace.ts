// replace: replaces every match of a Python regular expression in a file (optionally only between `after`
// and `before`), as Ansible's ansible.builtin.replace does. The file is read in the same round trip that
// inspects it, edited on the control node, validated when asked, and written back atomically.
//
// Ansible decodes the file as UTF-8 with surrogateescape, so bytes that are not UTF-8 survive untouched; we do
// the same. The regular expression uses Python syntax and re.MULTILINE, `after`/`before` use re.DOTALL.
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { FileDiff } from '../core/file-diff.js';
import { shq } from '../core/shell-quote.js';
import { OWNERSHIP_SCHEMA, type OwnershipArgs, ownershipArgs } from './copy.js';
import { defineModule, fail, type Planned, planned } from './kit.js';
import type { Module, ModuleContext, ModuleResult } from './module.js';
import {
  type Attributes,
  attributeChanges,
  attributeCommands,
  attributeText,
  backupFile,
  describeAttributes,
  execOk,
  execOn,
  hasAttributes,
  type PathState,
  probePath,
  writeFile,
} from './remote.js';

/** Larger files are refused rather than half-read. */
export const READ_LIMIT = 16 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------------------
// Python regular expressions on JavaScript's engine (no `u` flag, so Python's lenient escapes such as `\#`
// keep working). Translated: `.`, `^`, `$` with Python's meaning (only '\n' ends a line; JavaScript also
// stops at '\r'), \A \Z, (?P<name>...), (?P=name), (?#...), {,n}, global inline flags (?imsx), \a, \U.
// Deviations on purpose: \w \d \b are ASCII here (Python's are Unicode for text); scoped flags (?i:...) are
// refused with a clear message (Node 20 has no equivalent).

export interface PyFlags {
  multiline?: boolean;
  dotall?: boolean;
  ignorecase?: boolean;
}

const KNOWN_ESCAPES = new Set('abBdDsSwWAZntrfvxu'.split(''));

function badPattern(pattern: string, why: string): Error {
  return new Error(`invalid regular expression ${JSON.stringify(pattern)}: ${why}`);
}

/** Compiles a Python regular expression into an equivalent JavaScript RegExp (extra JS flags: g, d). */
export function pyRegex(pattern: string, flags: PyFlags = {}, jsFlags = ''): RegExp {
  let { multiline = false, dotall = false, ignorecase = false } = flags;
  let verbose = false;
  let src = pattern;
  // Global flags belong at the start of the expression (Python 3.11 refuses them elsewhere).
  for (let m = /^\(\?([aiLmsux]+)\)/.exec(src); m; m = /^\(\?([aiLmsux]+)\)/.exec(src)) {
    for (const f of m[1]!) {
      if (f === 'i') ignorecase = true;
      else if (f === 'm') multiline = true;
      else if (f === 's') dotall = true;
      else if (f === 'x') verbose = true;
    }
    src = src.slice(m[0].length);
  }
  const dot = dotall ? '[\\s\\S]' : '[^\\n]';
  const caret = multiline ? '(?<![^\\n])' : '(?<![\\s\\S])';
  const dollar = multiline ? '(?=\\n|(?![\\s\\S]))' : '(?=\\n?(?![\\s\\S]))';
  let out = '';
  let i = 0;
  const translateEscape = (inClass: boolean): string => {
    const c = src[i + 1];
    if (c === undefined) throw badPattern(pattern, 'bad escape (end of pattern)');
    if (c >= '0' && c <= '9') {
      // Octal: \0, \0nn, or three octal digits; otherwise a group reference of one or two digits.
      const oct = (inClass ? /^[0-7]{1,3}/ : /^(?:0[0-7]{0,2}|[0-7]{3})/).exec(src.slice(i + 1));
      if (oct) {
        i += 1 + oct[0].length;
        return `\\x${Number.parseInt(oct[0], 8).toString(16).padStart(2, '0')}`;
      }
      if (inClass) throw badPattern(pattern, `bad escape \\${c}`);
      const num = /^\d{1,2}/.exec(src.slice(i + 1))![0];
      i += 1 + num.length;
      return `(?:\\${num})`;
    }
    if (/[A-Za-z]/.test(c) && !KNOWN_ESCAPES.has(c)) {
      if (c === 'U' && /^[0-9a-fA-F]{8}$/.test(src.slice(i + 2, i + 10))) {
        const ch = String.fromCodePoint(Number.parseInt(src.slice(i + 2, i + 10), 16));
        i += 10;
        return ch.length > 1 && !inClass ? `(?:${ch})` : ch;
      }
      throw badPattern(pattern, `bad escape \\${c}${c === 'N' ? ' (\\N{name} is not supported)' : ''}`);
    }
    i += 2;
    if (c === 'a') return '\\x07';
    if (!inClass && c === 'A') return '(?<![\\s\\S])';
    if (!inClass && c === 'Z') return '(?![\\s\\S])';
    if (inClass && (c === 'A' || c === 'Z' || c === 'B')) throw badPattern(pattern, `bad escape \\${c}`);
    return `\\${c}`;
  };
  while (i < src.length) {
    const c = src[i]!;
    if (verbose && /\s/.test(c)) {
      i++;
    } else if (verbose && c === '#') {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (c === '\\') {
      out += translateEscape(false);
    } else if (c === '[') {
      out += '[';
      i++;
      if (src[i] === '^') {
        out += '^';
        i++;
      }
      // A ']' first in a class is literal in Python.
      if (src[i] === ']') {
        out += '\\]';
        i++;
      }
      while (i < src.length && src[i] !== ']') {
        if (src[i] === '\\') out += translateEscape(true);
        else if (src[i] === '[') {
          out += '\\[';
          i++;
        } else out += src[i++];
      }
      if (i >= src.length) throw badPattern(pattern, 'unterminated character set');
      out += ']';
      i++;
    } else if (c === '(') {
      const rest = src.slice(i);
      const named = /^\(\?P<(\w+)>/.exec(rest);
      const ref = /^\(\?P=(\w+)\)/.exec(rest);
      if (named) {
        out += `(?<${named[1]}>`;
        i += named[0].length;
      } else if (ref) {
        out += `\\k<${ref[1]}>`;
        i += ref[0].length;
      } else if (rest.startsWith('(?#')) {
        const end = src.indexOf(')', i);
        if (end < 0) throw badPattern(pattern, 'missing ), unterminated comment');
        i = end + 1;
      } else if (/^\(\?[aiLmsux]+\)/.test(rest)) {
        throw badPattern(pattern, 'global flags not at the start of the expression');
      } else if (/^\(\?[aiLmsux-]+:/.test(rest)) {
        throw badPattern(pattern, 'scoped inline flags like (?i:...) are not supported; put (?i) first');
      } else {
        out += '(';
        i++;
      }
    } else if (c === '.') {
      out += dot;
      i++;
    } else if (c === '^') {
      out += caret;
      i++;
    } else if (c === '$') {
      out += dollar;
      i++;
    } else if (c === '{') {
      // Python's {,n} is {0,n}.
      const q = /^\{,(\d*)\}/.exec(src.slice(i));
      if (q) {
        out += `{0,${q[1]}}`;
        i += q[0].length;
      } else {
        out += '{';
        i++;
      }
    } else {
      out += c;
      i++;
    }
  }
  try {
    return new RegExp(out, `${ignorecase ? 'i' : ''}${jsFlags}`);
  } catch (e) {
    throw badPattern(pattern, (e as Error).message.replace(/^Invalid regular expression: \/.*\/\w*: /, ''));
  }
}

/**
 * Python's re.subn: every non-overlapping match, left to right. An empty match is not allowed where the
 * previous (empty) match ended, as in Python 3.7+ (re.sub('x*', '-', 'abxd') gives '-a-b--d-').
 * `re` must have the g flag. Deviation: a pattern whose empty alternative comes first (`|a`) does not
 * backtrack into the non-empty one at that position as Python's engine does.
 */
export function pySubn(re: RegExp, text: string, repl: (m: RegExpExecArray) => string): [string, number] {
  let out = '';
  let last = 0;
  let pos = 0;
  let n = 0;
  let mustAdvance = false;
  while (pos <= text.length) {
    re.lastIndex = pos;
    let m = re.exec(text);
    if (m && mustAdvance && m[0] === '' && m.index === pos) {
      if (pos >= text.length) break;
      re.lastIndex = pos + 1;
      m = re.exec(text);
    }
    if (!m) break;
    out += text.slice(last, m.index) + repl(m);
    last = m.index + m[0].length;
    mustAdvance = m[0] === '';
    pos = last;
    n++;
  }
  return [out + text.slice(last), n];
}

const TEMPLATE_ESCAPES: Record<string, string> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
};

/**
 * Compiles a Python replacement template (\1, \g<1>, \g<name>, \n, octal \0nn) for `re`, failing up front
 * as Python does on a bad escape or an unknown group. Unmatched groups expand to ''.
 */
export function pyTemplate(template: string, re: RegExp): (m: RegExpExecArray) => string {
  const groupCount = new RegExp(`${re.source}|`).exec('')!.length - 1;
  const names = new Set([...re.source.matchAll(/\(\?<(\w+)>/g)].map((m) => m[1]!));
  const parts: (string | { group: string | number })[] = [];
  let lit = '';
  const group = (ref: string): { group: string | number } => {
    if (/^\d+$/.test(ref)) {
      const n = Number(ref);
      if (n > groupCount)
        throw new Error(`invalid group reference ${n} in replace ${JSON.stringify(template)}`);
      return { group: n };
    }
    if (!names.has(ref))
      throw new Error(`unknown group name '${ref}' in replace ${JSON.stringify(template)}`);
    return { group: ref };
  };
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (c !== '\\' || i + 1 >= template.length) {
      lit += c;
      continue;
    }
    const d = template[i + 1]!;
    const rest = template.slice(i + 1);
    let ref: { group: string | number } | undefined;
    if (d === 'g') {
      const m = /^g<([^>]*)>/.exec(rest);
      if (!m) throw new Error(`missing group name in \\g<...> of replace ${JSON.stringify(template)}`);
      ref = group(m[1]!);
      i += m[0].length;
    } else if (d === '0' || /^[0-7]{3}/.test(rest)) {
      const oct = /^[0-7]{1,3}/.exec(rest)![0];
      lit += String.fromCharCode(Number.parseInt(oct, 8));
      i += oct.length;
    } else if (/\d/.test(d)) {
      const num = /^\d{1,2}/.exec(rest)![0];
      ref = group(num);
      i += num.length;
    } else if (TEMPLATE_ESCAPES[d] !== undefined) {
      lit += TEMPLATE_ESCAPES[d];
      i++;
    } else if (/[A-Za-z]/.test(d)) {
      throw new Error(`bad escape \\${d} in replace ${JSON.stringify(template)}`);
    } else {
      lit += `\\${d}`; // Python keeps an unknown non-letter escape as written
      i++;
    }
    if (ref !== undefined) {
      parts.push(lit, ref);
      lit = '';
    }
  }
  parts.push(lit);
  return (m) =>
    parts
      .map((p) =>
        typeof p === 'string' ? p : ((typeof p.group === 'number' ? m[p.group] : m.groups?.[p.group]) ?? ''),
      )
      .join('');
}

// ---------------------------------------------------------------------------------------------------------
// UTF-8 with surrogateescape (Python's errors='surrogate_or_strict'): each byte that is not part of a valid
// UTF-8 sequence becomes U+DC80..U+DCFF and is written back as the same byte.

function utf8SeqLength(buf: Buffer, i: number): number {
  const b0 = buf[i]!;
  if (b0 < 0x80) return 1;
  const cont = (k: number) => i + k < buf.length && (buf[i + k]! & 0xc0) === 0x80;
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const b1 = buf[i + 1] ?? 0;
    if (b0 === 0xe0 && b1 < 0xa0) return 0; // overlong
    if (b0 === 0xed && b1 >= 0xa0) return 0; // UTF-16 surrogates are not UTF-8
    return cont(1) && cont(2) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const b1 = buf[i + 1] ?? 0;
    if (b0 === 0xf0 && b1 < 0x90) return 0;
    if (b0 === 0xf4 && b1 >= 0x90) return 0; // beyond U+10FFFF
    return cont(1) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

export function decodeUtf8(buf: Buffer): string {
  const plain = buf.toString('utf8');
  if (!plain.includes('\ufffd') || Buffer.from(plain, 'utf8').equals(buf)) return plain;
  let out = '';
  let start = 0;
  let i = 0;
  while (i < buf.length) {
    const n = utf8SeqLength(buf, i);
    if (n > 0) {
      i += n;
      continue;
    }
    out += buf.subarray(start, i).toString('utf8') + String.fromCharCode(0xdc00 + buf[i]!);
    i++;
    start = i;
  }
  return out + buf.subarray(start).toString('utf8');
}

export function encodeUtf8(text: string): Buffer {
  if (!/[\udc80-\udcff]/.test(text)) return Buffer.from(text, 'utf8');
  const chunks: Buffer[] = [];
  let run = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xdc80 && cp <= 0xdcff) {
      chunks.push(Buffer.from(run, 'utf8'), Buffer.from([cp - 0xdc00]));
      run = '';
    } else run += ch;
  }
  chunks.push(Buffer.from(run, 'utf8'));
  return Buffer.concat(chunks);
}

// ---------------------------------------------------------------------------------------------------------

export interface ReplaceArgs {
  regexp: string;
  replace: string;
  after?: string;
  before?: string;
}

export interface ReplaceOutcome {
  text: string;
  changed: boolean;
  count: number;
  msg: string;
  /** after/before given but their pattern did not match: Ansible stops there (attributes untouched). */
  regionMissing?: boolean;
}

/** Applies Ansible's replace to `text` (decoded content). */
export function replaceText(text: string, a: ReplaceArgs): ReplaceOutcome {
  // As Ansible: the region pattern is after + (?P<subsection>.*?) + before, one DOTALL search.
  let pattern = '';
  if (a.after && a.before) pattern = `${a.after}(?P<subsection>.*?)${a.before}`;
  else if (a.after) pattern = `${a.after}(?P<subsection>.*)`;
  else if (a.before) pattern = `(?P<subsection>.*)${a.before}`;
  let start = 0;
  let end = text.length;
  if (pattern) {
    const m = pyRegex(pattern, { dotall: true }, 'd').exec(text);
    const span = m?.indices?.groups?.subsection;
    if (!span)
      return {
        text,
        changed: false,
        count: 0,
        msg: `Pattern for before/after params did not match the given file: ${pattern}`,
        regionMissing: true,
      };
    [start, end] = span;
  }
  const section = text.slice(start, end);
  const re = pyRegex(a.regexp, { multiline: true }, 'g');
  const [result, count] = pySubn(re, section, pyTemplate(a.replace, re));
  if (count === 0 || result === section) return { text, changed: false, count, msg: '' };
  return {
    text: text.slice(0, start) + result + text.slice(end),
    changed: true,
    count,
    msg: `${count} replacements made`,
  };
}

/** Ansible refuses a validate command without %s (there would be nothing to check). */
/** The arguments of the modules that edit a file in place (lineinfile, replace, blockinfile). */
/** The arguments EDIT_FILE_ARGS declares. */
export interface EditFileArgs {
  backup: boolean;
  validate?: string;
}

export const EDIT_FILE_ARGS = {
  backup: {
    type: 'boolean',
    default: false,
    description: 'Keep a copy <path>.<timestamp>~ before changing it',
  },
  validate: {
    type: 'string',
    description:
      "Command run on the new content before it is put in place; %s names the file (e.g. 'visudo -cf %s')",
  },
} as const;

export function validateProblem(validate: unknown): string | undefined {
  if (validate === undefined || validate === null) return undefined;
  if (typeof validate !== 'string' || !validate.includes('%s'))
    return `validate must contain %s (the file to check): ${String(validate)}`;
  return undefined;
}

export interface WriteEditedOptions {
  path: string;
  state: PathState;
  content: Buffer;
  attrs: Attributes;
  backup: boolean;
  validate?: string;
}

/**
 * Writes an edited file as the line/block/replace modules do: a backup first when asked, the file it
 * links to rather than the link, the current mode (and, with become, owner) kept unless set, and with
 * `validate` the command run on the new content (a temp file beside the target) before it replaces it.
 * Returns the backup's path.
 */
export async function writeEdited(ctx: ModuleContext, o: WriteEditedOptions): Promise<string | undefined> {
  const { path, state, attrs } = o;
  const writePath = state.realPath ?? path;
  const backup = o.backup && state.exists ? await backupFile(ctx, writePath) : undefined;
  if (!state.exists && !state.parentExists)
    await execOk(ctx, `mkdir -p ${shq(posix.dirname(path))}`, `cannot create the directory of ${path}`);
  const fileAttrs: Attributes = {
    mode: attrs.mode ?? state.mode ?? '0644',
    ...(attrs.owner ? { owner: attrs.owner } : ctx.become && state.owner ? { owner: state.owner } : {}),
    ...(attrs.group ? { group: attrs.group } : ctx.become && state.group ? { group: state.group } : {}),
  };
  if (o.validate === undefined) {
    await writeFile(ctx, writePath, o.content, fileAttrs);
    return backup;
  }
  const tmp = posix.join(posix.dirname(writePath), `.ewsplay-validate-${randomBytes(6).toString('hex')}`);
  await writeFile(ctx, tmp, o.content, fileAttrs);
  // Ansible runs the command without a shell; ours goes through sh, with the temp file's name quoted.
  const r = await execOn(ctx, o.validate.replaceAll('%s', shq(tmp)));
  if (r.rc !== 0) {
    await execOn(ctx, `rm -f ${shq(tmp)}`);
    throw new Error(
      `failed to validate: rc:${r.rc} error:${r.stderr.trim() || r.stdout.trim()} (${path} left unchanged)`,
    );
  }
  await execOk(ctx, `mv -f ${shq(tmp)} ${shq(writePath)}`, `cannot replace ${path}`);
  return backup;
}

/**
 * A changed edit, planned: `result` is what it does, and acting saves it: the new content through
 * writeEdited, with the task's EDIT_FILE_ARGS (backup, validate), when it changed, else only the attributes
 * that differ. A backup's path goes into `result.data.backup_file`, as Ansible registers it.
 */
export function saveEdit(
  ctx: ModuleContext,
  args: { backup?: unknown; validate?: unknown },
  o: Omit<WriteEditedOptions, 'backup' | 'validate'> & { contentChanged: boolean; attrChanges: Attributes },
  result: ModuleResult & { data: Record<string, unknown> },
): Planned {
  return planned(result, async () => {
    if (!o.contentChanged) {
      if (hasAttributes(o.attrChanges)) await applyAttributes(ctx, o.path, o.attrChanges);
      return result;
    }
    const validate = typeof args.validate === 'string' ? { validate: args.validate } : {};
    const backup = await writeEdited(ctx, { ...o, backup: args.backup === true, ...validate });
    if (backup) result.data.backup_file = backup;
    return result;
  });
}

/** The --diff entries of an edited file: its content and, when they change, its attributes. */
export function editDiff(
  path: string,
  state: PathState,
  before: string | undefined,
  after: string | undefined,
  attrChanges: Attributes,
): FileDiff[] {
  const diff: FileDiff[] = [];
  if (before !== undefined && after !== undefined && before !== after) diff.push({ path, before, after });
  if (state.exists && hasAttributes(attrChanges)) {
    const current = { mode: state.mode, owner: state.owner, group: state.group };
    diff.push({
      path: `${path} (attributes)`,
      before: attributeText(current),
      after: attributeText({ ...current, ...attrChanges }),
    });
  }
  return diff;
}

/** Sets only the attributes that differ (content unchanged). */
export async function applyAttributes(ctx: ModuleContext, path: string, changes: Attributes): Promise<void> {
  await execOk(ctx, attributeCommands(path, changes).join(' && '), `cannot set attributes of ${path}`);
}

async function run(ctx: ModuleContext, args: ReplaceModuleArgs): Promise<ModuleResult | Planned> {
  const { path, encoding } = args;
  if (!/^utf[-_]?8$/i.test(encoding))
    return fail(
      `encoding ${encoding} is not supported: ewsplay's replace reads and writes UTF-8 only (leave encoding out, or convert the file to UTF-8 first)`,
    );
  // Ansible notices a validate without %s only when it writes; a wrong argument is refused up front here.
  const bad = validateProblem(args.validate);
  if (bad) return fail(bad);
  const attrs = ownershipArgs(args);

  const state = await probePath(ctx, path, { contentLimit: READ_LIMIT });
  if (state.exists && state.type === 'directory')
    return fail(`Path ${path} is a directory: replace edits files`);
  if (!state.exists) return fail(`Path ${path} does not exist`);
  if (state.content === undefined) return fail(`${path} is larger than ${READ_LIMIT} bytes: not editing it`);

  const before = decodeUtf8(state.content);
  const a: ReplaceArgs = { regexp: args.regexp, replace: args.replace };
  if (args.after !== undefined) a.after = args.after;
  if (args.before !== undefined) a.before = args.before;
  const edit = replaceText(before, a);
  const data: Record<string, unknown> = { path };
  // As Ansible: a region that is not found ends the task before attributes are looked at.
  if (edit.regionMissing) return { changed: false, msg: edit.msg, data };

  const attrChanges = attributeChanges(state, attrs);
  const changed = edit.changed || hasAttributes(attrChanges);
  const result = { changed, data } as ModuleResult & { data: Record<string, unknown> };
  const notes = [edit.msg, describeAttributes(state, attrChanges)].filter((n) => n !== '');
  if (notes.length > 0) result.msg = notes.join('; ');
  if (changed && ctx.diff) {
    const shown = (t: string) => encodeUtf8(t).toString('utf8');
    result.diff = editDiff(path, state, shown(before), shown(edit.text), attrChanges);
  }
  if (!changed) return result;
  const content = encodeUtf8(edit.text);
  return saveEdit(
    ctx,
    args,
    { path, state, content, attrs, contentChanged: edit.changed, attrChanges },
    result,
  );
}

/** replace's arguments, as its schema declares them (defaults applied). */
interface ReplaceModuleArgs extends OwnershipArgs, EditFileArgs {
  path: string;
  regexp: string;
  replace: string;
  after?: string;
  before?: string;
  encoding: string;
}

export const replaceModule: Module = defineModule<ReplaceModuleArgs>({
  name: 'replace',
  summary: 'Replace every match of a Python regular expression in a file (optionally between after/before)',
  aliases: { dest: 'path', destfile: 'path', name: 'path' },
  args: {
    type: 'object',
    additionalProperties: false,
    required: ['path', 'regexp'],
    properties: {
      path: { type: 'string', minLength: 1, description: 'File on the target' },
      regexp: {
        type: 'string',
        description: 'Python regular expression (re.MULTILINE: ^ and $ match at every line)',
      },
      replace: {
        type: 'string',
        default: '',
        description: 'Replacement, with \\1 / \\g<name> back-references (empty: matches are removed)',
      },
      after: {
        type: 'string',
        description: 'Only replace after the match of this Python regexp (DOTALL: . matches newlines)',
      },
      before: {
        type: 'string',
        description: 'Only replace before the match of this Python regexp (DOTALL: . matches newlines)',
      },
      ...EDIT_FILE_ARGS,
      encoding: { type: 'string', default: 'utf-8', description: 'Only utf-8 is supported' },
      ...OWNERSHIP_SCHEMA,
    },
  },
  check: 'full',
  run,
});
