// blockinfile: inserts, updates or removes a block of lines between two marker lines, as Ansible's
// ansible.builtin.blockinfile does (its placement rules, marker matching and newline handling included).
// The file is read in the same round trip that inspects it, edited on the control node, validated when
// asked, and written back atomically.
//
// Lines are handled as bytes (latin1 strings), as Ansible does, so any encoding survives untouched;
// insertafter/insertbefore are Python regular expressions matched against each line (with its line ending),
// or against the whole file when they start with (?m).
import { OWNERSHIP_SCHEMA, ownershipArgs } from './copy.js';
import { defineModule, fail, type Planned } from './kit.js';
import type { Module, ModuleContext, ModuleResult } from './module.js';
import { attributeChanges, describeAttributes, hasAttributes, probePath } from './remote.js';
import { EDIT_FILE_ARGS, editDiff, pyRegex, READ_LIMIT, saveEdit, validateProblem } from './replace.js';

export interface BlockArgs {
  state: 'present' | 'absent';
  block: string;
  marker: string;
  markerBegin: string;
  markerEnd: string;
  insertafter?: string;
  insertbefore?: string;
  appendNewline: boolean;
  prependNewline: boolean;
}

/** Bytes as a string of code units 0-255, so edits never re-encode the file. */
const bytes = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

/** Python's bytes.splitlines(keepends=True): lines end at \r\n, \n or \r. */
function splitlines(text: string): string[] {
  return text.match(/[^\r\n]*(?:\r\n|\n|\r)|[^\r\n]+$/g) ?? [];
}

/** Python's re.MULTILINE set by the pattern itself ((?m) among its leading global flags). */
const hasMultilineFlag = (pattern: string) => /^(?:\(\?[aiLmsux]+\))*/.exec(pattern)![0].includes('m');

/**
 * Applies Ansible's blockinfile to `original` (latin1 byte string; undefined for a file to be created).
 * Returns the new text and Ansible's message ('' when nothing changes).
 */
export function editBlock(original: string | undefined, a: BlockArgs): { text: string; msg: string } {
  const lines = splitlines(original ?? '');
  const present = a.state === 'present';
  const insertbefore = a.insertbefore;
  const insertafter = insertbefore === undefined && a.insertafter === undefined ? 'EOF' : a.insertafter;
  const insertPattern =
    insertafter !== undefined && insertafter !== 'EOF'
      ? insertafter
      : insertbefore !== undefined && insertbefore !== 'BOF'
        ? insertbefore
        : undefined;
  const insertre = insertPattern !== undefined ? pyRegex(bytes(insertPattern)) : undefined;

  const marker = bytes(a.marker);
  const marker0 = `${marker.split('{mark}').join(bytes(a.markerBegin))}\n`;
  const marker1 = `${marker.split('{mark}').join(bytes(a.markerEnd))}\n`;
  let blocklines: string[] = [];
  if (present && a.block !== '') {
    let block = bytes(a.block);
    if (!block.endsWith('\n')) block += '\n';
    blocklines = [marker0, ...splitlines(block), marker1];
  }

  // The last line equal to each marker (with its '\n': a marker with other text on its line is not one).
  let n0: number | undefined;
  let n1: number | undefined;
  lines.forEach((line, i) => {
    if (line === marker0) n0 = i;
    if (line === marker1) n1 = i;
  });

  if (n0 === undefined || n1 === undefined) {
    n0 = undefined;
    if (insertre !== undefined) {
      if (hasMultilineFlag(insertPattern!)) {
        const text = original ?? '';
        const m = insertre.exec(text);
        if (m) {
          const upto = insertafter !== undefined ? m.index + m[0].length : m.index;
          n0 = text.slice(0, upto).split('\n').length - 1;
        }
      } else {
        lines.forEach((line, i) => {
          if (insertre.test(line)) n0 = i;
        });
      }
      if (n0 === undefined) n0 = lines.length;
      else if (insertafter !== undefined) n0 += 1;
    } else if (insertbefore !== undefined)
      n0 = 0; // BOF
    else n0 = lines.length; // EOF
  } else if (n0 < n1) {
    lines.splice(n0, n1 - n0 + 1);
  } else {
    lines.splice(n1, n0 - n1 + 1);
    n0 = n1;
  }

  // As Ansible: the line before the block gets its missing newline, even with state=absent (so removing
  // an absent block from a file without a final newline adds one, once).
  if (n0 > 0 && !lines[n0 - 1]!.endsWith('\n')) lines[n0 - 1] += '\n';
  if (a.prependNewline && present && n0 !== 0 && lines[n0 - 1] !== '\n') {
    lines.splice(n0, 0, '\n');
    n0 += 1;
  }
  lines.splice(n0, 0, ...blocklines);
  if (a.appendNewline && present) {
    const after = n0 + blocklines.length;
    if (after < lines.length && lines[after] !== '\n') lines.splice(after, 0, '\n');
  }

  const text = lines.join('');
  if (text === original) return { text, msg: '' };
  if (original === undefined) return { text, msg: 'File created' };
  return { text, msg: blocklines.length === 0 ? 'Block removed' : 'Block inserted' };
}

function blockArgs(args: Record<string, unknown>): BlockArgs {
  const str = (k: string) => (typeof args[k] === 'string' ? (args[k] as string) : undefined);
  const out: BlockArgs = {
    state: args.state === 'absent' ? 'absent' : 'present',
    block: str('block') ?? '',
    marker: str('marker') ?? '# {mark} ANSIBLE MANAGED BLOCK',
    markerBegin: str('marker_begin') ?? 'BEGIN',
    markerEnd: str('marker_end') ?? 'END',
    appendNewline: args.append_newline === true,
    prependNewline: args.prepend_newline === true,
  };
  const insertafter = str('insertafter');
  const insertbefore = str('insertbefore');
  if (insertafter !== undefined) out.insertafter = insertafter;
  if (insertbefore !== undefined) out.insertbefore = insertbefore;
  return out;
}

async function run(ctx: ModuleContext, args: Record<string, unknown>): Promise<ModuleResult | Planned> {
  const path = String(args.path);
  const a = blockArgs(args);
  // Ansible notices a validate without %s only when it writes; a wrong argument is refused up front here.
  const bad = validateProblem(args.validate);
  if (bad) return fail(bad);
  const attrs = ownershipArgs(args);

  const state = await probePath(ctx, path, { contentLimit: READ_LIMIT });
  if (state.exists && state.type === 'directory')
    return fail(`Path ${path} is a directory: blockinfile edits files`);
  if (state.exists && state.content === undefined)
    return fail(`${path} is larger than ${READ_LIMIT} bytes: not editing it`);
  if (!state.exists) {
    if (args.create !== true) return fail(`Path ${path} does not exist (create: true makes it)`);
    if (a.state === 'absent') return { changed: false, msg: `File ${path} not present`, data: { path } };
  }

  const original = state.content?.toString('latin1');
  const edit = editBlock(original, a);
  const contentChanged = edit.text !== original;
  const attrChanges = state.exists ? attributeChanges(state, attrs) : {};
  const changed = contentChanged || hasAttributes(attrChanges);
  const data: Record<string, unknown> = { path };

  const result = { changed, data } as ModuleResult & { data: Record<string, unknown> };
  const notes = [edit.msg, state.exists ? describeAttributes(state, attrChanges) : ''].filter(
    (n) => n !== '',
  );
  if (notes.length > 0) result.msg = notes.join('; ');
  if (changed && ctx.diff) {
    const shown = (t: string | undefined) => Buffer.from(t ?? '', 'latin1').toString('utf8');
    result.diff = editDiff(path, state, shown(original), shown(edit.text), attrChanges);
  }
  if (!changed) return result;
  const content = Buffer.from(edit.text, 'latin1');
  return saveEdit(ctx, args, { path, state, content, attrs, contentChanged, attrChanges }, result);
}

export const blockinfileModule: Module = defineModule<Record<string, unknown>>({
  name: 'blockinfile',
  summary: 'Insert, update or remove a block of lines between marker lines in a file, as Ansible does',
  aliases: { dest: 'path', destfile: 'path', name: 'path', content: 'block' },
  args: {
    type: 'object',
    additionalProperties: false,
    required: ['path'],
    properties: {
      path: { type: 'string', minLength: 1, description: 'File on the target' },
      block: {
        type: 'string',
        default: '',
        description: 'The lines between the markers; empty removes the block as state=absent does',
      },
      state: { type: 'string', enum: ['present', 'absent'], default: 'present' },
      marker: {
        type: 'string',
        default: '# {mark} ANSIBLE MANAGED BLOCK',
        description:
          'Marker line template; {mark} becomes marker_begin / marker_end (give each block its own)',
      },
      marker_begin: { type: 'string', default: 'BEGIN', description: 'What {mark} is in the first marker' },
      marker_end: { type: 'string', default: 'END', description: 'What {mark} is in the last marker' },
      insertafter: {
        type: 'string',
        description:
          'EOF (default) or a Python regexp: without markers in the file, insert after the last matching line',
      },
      insertbefore: {
        type: 'string',
        description:
          'BOF or a Python regexp: without markers in the file, insert before the last matching line',
      },
      create: {
        type: 'boolean',
        default: false,
        description: 'Create the file (and its directory) when missing',
      },
      ...EDIT_FILE_ARGS,
      append_newline: {
        type: 'boolean',
        default: false,
        description: 'Add a blank line after the block unless one is there or it ends the file',
      },
      prepend_newline: {
        type: 'boolean',
        default: false,
        description: 'Add a blank line before the block unless one is there or it starts the file',
      },
      ...OWNERSHIP_SCHEMA,
    },
    not: {
      properties: { insertafter: true, insertbefore: true },
      required: ['insertafter', 'insertbefore'],
    },
  },
  check: 'full',
  run,
});
