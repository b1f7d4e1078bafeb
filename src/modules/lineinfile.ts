// lineinfile: ensures one line is present (replacing the last line that matches `regexp`) or that every
// matching line is absent, with Ansible's exact placement rules. The file is read in the same round trip
// that inspects it, edited on the control node, validated when asked, and written back atomically.
//
// Lines are handled as bytes (latin1 strings), as Ansible does, so any encoding survives untouched; regular
// expressions use Python syntax and are matched against each line without its line ending.

import type { FileDiff } from '../core/file-diff.js';
import { expandTemplate, pyRegExp } from '../template/regex.js';
import { OWNERSHIP_SCHEMA, ownershipArgs } from './copy.js';
import { defineModule, fail, type Planned } from './kit.js';
import type { Module, ModuleContext, ModuleResult } from './module.js';
import {
  type Attributes,
  attributeChanges,
  attributeText,
  describeAttributes,
  hasAttributes,
  probePath,
} from './remote.js';
import { EDIT_FILE_ARGS, saveEdit, validateProblem } from './replace.js';

/** Larger files are refused rather than half-read. */
const READ_LIMIT = 16 * 1024 * 1024;

export interface LineArgs {
  line?: string;
  regexp?: string;
  searchString?: string;
  state: 'present' | 'absent';
  insertafter?: string;
  insertbefore?: string;
  backrefs: boolean;
  firstmatch: boolean;
}

/** Bytes as a string of code units 0-255, so edits never re-encode the file. */
const bytes = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

/** Splits into lines that keep their '\n' (Python's readlines on bytes). */
function readlines(text: string): string[] {
  const lines = text.split(/(?<=\n)/);
  return lines.length === 1 && lines[0] === '' ? [] : lines;
}

const stripEol = (l: string) => l.replace(/[\r\n]+$/, '');

/** Applies Ansible's lineinfile to `text` (latin1 byte string). Returns the new text and what happened. */
export function editLines(text: string, a: LineArgs): { text: string; msg: string; found?: number } {
  const lines = readlines(text);
  const re = a.regexp !== undefined ? pyRegExp(bytes(a.regexp)) : undefined;
  const search = a.searchString !== undefined ? bytes(a.searchString) : undefined;
  const line = a.line !== undefined ? bytes(a.line) : undefined;

  if (a.state === 'absent') {
    const matches = (l: string) =>
      re ? re.test(stripEol(l)) : search !== undefined ? l.includes(search) : stripEol(l) === line;
    const kept = lines.filter((l) => !matches(l));
    const found = lines.length - kept.length;
    return { text: kept.join(''), msg: found > 0 ? `${found} line(s) removed` : '', found };
  }

  if (line === undefined) throw new Error('line is required with state=present');
  const insertafter = a.insertafter ?? (a.insertbefore === undefined ? 'EOF' : undefined);
  const insertbefore = a.insertbefore;
  const insertPattern =
    insertafter !== undefined && insertafter !== 'BOF' && insertafter !== 'EOF'
      ? pyRegExp(bytes(insertafter))
      : insertbefore !== undefined && insertbefore !== 'BOF'
        ? pyRegExp(bytes(insertbefore))
        : undefined;

  // The line that regexp/search_string matches (the last one, or the first with firstmatch) is replaced;
  // only when nothing matches does insertafter/insertbefore decide where the line goes.
  let matchIndex = -1;
  let match: RegExpExecArray | null = null;
  for (let i = 0; i < lines.length; i++) {
    const cur = stripEol(lines[i]!);
    const m = re
      ? re.exec(cur)
      : search !== undefined && cur.includes(search)
        ? ([cur] as RegExpExecArray)
        : null;
    if (m) {
      matchIndex = i;
      match = m;
      if (a.firstmatch) break;
    }
  }
  let insertIndex = -1;
  if (!match) {
    for (let i = 0; i < lines.length; i++) {
      const cur = stripEol(lines[i]!);
      if (cur === line) matchIndex = i;
      else if (insertPattern?.test(cur)) {
        insertIndex = insertafter !== undefined ? i + 1 : i;
        if (a.firstmatch) break;
      }
    }
  }

  const nl = '\n';
  if (matchIndex !== -1) {
    const replacement = `${a.backrefs && match && re ? expandTemplate(line, match) : line}${nl}`;
    if (lines[matchIndex] === replacement) return { text, msg: '' };
    lines[matchIndex] = replacement;
    return { text: lines.join(''), msg: 'line replaced' };
  }
  if (a.backrefs) return { text, msg: '' }; // no match: nothing safe to write
  const endsWithNewline = (l: string | undefined) => l === undefined || /[\r\n]$/.test(l);
  if (insertbefore === 'BOF' || insertafter === 'BOF') {
    lines.unshift(`${line}${nl}`);
  } else if (insertafter === 'EOF' || insertIndex === -1) {
    if (lines.length > 0 && !endsWithNewline(lines[lines.length - 1])) lines.push(nl);
    lines.push(`${line}${nl}`);
  } else if (insertafter !== undefined) {
    // Not again when the line already follows the anchor.
    if (insertIndex === lines.length) {
      if (stripEol(lines[insertIndex - 1]!) === line) return { text, msg: '' };
      lines.push(`${line}${nl}`);
    } else {
      if (stripEol(lines[insertIndex]!) === line) return { text, msg: '' };
      lines.splice(insertIndex, 0, `${line}${nl}`);
    }
  } else {
    lines.splice(insertIndex, 0, `${line}${nl}`);
  }
  return { text: lines.join(''), msg: 'line added' };
}

function lineArgs(args: Record<string, unknown>): LineArgs {
  const str = (k: string) => (typeof args[k] === 'string' ? (args[k] as string) : undefined);
  const out: LineArgs = {
    state: args.state === 'absent' ? 'absent' : 'present',
    backrefs: args.backrefs === true,
    firstmatch: args.firstmatch === true,
  };
  const line = str('line');
  const regexp = str('regexp');
  const searchString = str('search_string');
  const insertafter = str('insertafter');
  const insertbefore = str('insertbefore');
  if (line !== undefined) out.line = line;
  if (regexp !== undefined) out.regexp = regexp;
  if (searchString !== undefined) out.searchString = searchString;
  if (insertafter !== undefined) out.insertafter = insertafter;
  if (insertbefore !== undefined) out.insertbefore = insertbefore;
  return out;
}

async function run(ctx: ModuleContext, args: Record<string, unknown>): Promise<ModuleResult | Planned> {
  const path = String(args.path);
  const a = lineArgs(args);
  // Ansible notices a validate without %s only when it writes; a wrong argument is refused up front here.
  const bad = validateProblem(args.validate);
  if (bad) return fail(bad);
  const attrs: Attributes = ownershipArgs(args);
  const state = await probePath(ctx, path, { contentLimit: READ_LIMIT });
  if (state.exists && state.type === 'directory') return fail(`${path} is a directory`);
  if (state.exists && state.content === undefined)
    return fail(`${path} is larger than ${READ_LIMIT} bytes: not editing it`);
  if (!state.exists) {
    if (a.state === 'absent') return { changed: false, msg: 'file not present', data: { found: 0 } };
    if (args.create !== true) return fail(`destination ${path} does not exist`);
  }

  const before = state.content?.toString('latin1') ?? '';
  const edit = editLines(before, a);
  const contentChanged = edit.text !== before || !state.exists;
  const attrChanges = state.exists ? attributeChanges(state, attrs) : attrs;
  const changed = contentChanged || hasAttributes(attrChanges);
  const data: Record<string, unknown> = { path };
  if (edit.found !== undefined) data.found = edit.found;

  const notes = [
    edit.msg || (contentChanged ? 'file created' : ''),
    state.exists ? describeAttributes(state, attrChanges) : '',
  ].filter((n) => n !== '');
  const result = { changed, data } as ModuleResult & { data: Record<string, unknown> };
  if (changed) result.msg = notes.join('; ');
  if (changed && ctx.diff) {
    const diff: FileDiff[] = [];
    if (contentChanged)
      diff.push({
        path,
        before: Buffer.from(before, 'latin1').toString('utf8'),
        after: Buffer.from(edit.text, 'latin1').toString('utf8'),
      });
    if (state.exists && hasAttributes(attrChanges)) {
      const current = { mode: state.mode, owner: state.owner, group: state.group };
      diff.push({
        path: `${path} (attributes)`,
        before: attributeText(current),
        after: attributeText({ ...current, ...attrChanges }),
      });
    }
    result.diff = diff;
  }
  if (!changed) return result;
  const content = Buffer.from(edit.text, 'latin1');
  return saveEdit(ctx, args, { path, state, content, attrs, contentChanged, attrChanges }, result);
}

export const lineinfileModule: Module = defineModule<Record<string, unknown>>({
  name: 'lineinfile',
  summary: 'Ensure a line is present in a file (replacing a regexp match) or absent, as Ansible does',
  aliases: { dest: 'path', destfile: 'path', name: 'path', regex: 'regexp' },
  args: {
    type: 'object',
    additionalProperties: false,
    required: ['path'],
    properties: {
      path: { type: 'string', minLength: 1, description: 'File on the target' },
      line: { type: 'string', description: 'The line to ensure (required with state=present)' },
      regexp: {
        type: 'string',
        description:
          'Python regular expression; the last matching line is replaced (present) or every one removed (absent)',
      },
      search_string: { type: 'string', description: 'Literal text instead of a regexp' },
      state: { type: 'string', enum: ['present', 'absent'], default: 'present' },
      insertafter: {
        type: 'string',
        description:
          "EOF (default), BOF, or a regexp: insert after its last match when nothing matched 'regexp'",
      },
      insertbefore: { type: 'string', description: 'BOF or a regexp: insert before its last match' },
      backrefs: {
        type: 'boolean',
        default: false,
        description: 'Expand \\1 / \\g<name> in line from the regexp match',
      },
      firstmatch: { type: 'boolean', default: false, description: 'Use the first match instead of the last' },
      create: {
        type: 'boolean',
        default: false,
        description: 'Create the file (and its directory) when missing',
      },
      ...EDIT_FILE_ARGS,
      ...OWNERSHIP_SCHEMA,
    },
    allOf: [
      {
        not: {
          properties: { insertafter: true, insertbefore: true },
          required: ['insertafter', 'insertbefore'],
        },
      },
      { not: { properties: { regexp: true, search_string: true }, required: ['regexp', 'search_string'] } },
      // present needs `line`; absent needs line, regexp or search_string.
      {
        anyOf: [
          { properties: { line: true }, required: ['line'] },
          { required: ['state', 'regexp'], properties: { state: { const: 'absent' }, regexp: true } },
          {
            required: ['state', 'search_string'],
            properties: { state: { const: 'absent' }, search_string: true },
          },
        ],
      },
      // backrefs needs regexp.
      {
        anyOf: [
          { not: { required: ['backrefs'], properties: { backrefs: { const: true } } } },
          { properties: { regexp: true }, required: ['regexp'] },
        ],
      },
    ],
  },
  check: 'full',
  run,
});
