// Ansible's short form of module arguments: `debug: msg="hello {{ who }}" verbosity=1`, and for command and
// shell the command line followed by its own options (`command: ./configure creates=Makefile chdir=/src`).
// Splitting and unquoting follow Ansible's splitter (split_args, parse_kv): words are separated by spaces
// outside quotes and outside {{ }}, {% %} and {# #}; values are strings, converted to the argument's type
// the way Ansible's argument spec converts them.
import { decodePyEscapes } from '../util/python-escapes.js';

/** Options of command and shell that Ansible takes out of the free-form string (parse_kv's check_raw). */
export const COMMAND_OPTIONS: ReadonlySet<string> = new Set([
  'creates',
  'removes',
  'chdir',
  'executable',
  'warn',
  'stdin',
  'stdin_add_newline',
  'strip_empty_ends',
]);

export interface Word {
  text: string;
  /** Offset of the word's first character in the parsed string. */
  offset: number;
}

export interface KeyValueArgs {
  /** key -> value (unquoted, escapes decoded), with the offset of the `key=value` word. */
  options: Map<string, { value: string; offset: number }>;
  /** Words that are not options (the command line of command and shell), in order. */
  raw: Word[];
  /** The text without the option words: the command line as written. */
  rawText: string;
}

export class KeyValueSyntaxError extends Error {}

/**
 * Splits on spaces and newlines, keeping quoted parts and Jinja blocks whole (their quotes are kept too).
 * Throws KeyValueSyntaxError on an unclosed quote or Jinja block, as Ansible does.
 */
export function splitArgs(text: string): Word[] {
  const words: Word[] = [];
  let quote: string | null = null;
  let depth = 0;
  let start = -1;
  const close = (end: number) => {
    if (start >= 0) words.push({ text: text.slice(start, end), offset: start });
    start = -1;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const pair = text.slice(i, i + 2);
    // Like Ansible, quotes and Jinja delimiters are tracked independently of each other.
    if ((c === '"' || c === "'") && text[i - 1] !== '\\') {
      if (quote === null) quote = c;
      else if (quote === c) quote = null;
    } else if (pair === '{{' || pair === '{%' || pair === '{#') {
      depth++;
      if (start < 0) start = i;
      i++;
      continue;
    } else if ((pair === '}}' || pair === '%}' || pair === '#}') && depth > 0) {
      depth--;
      i++;
      continue;
    }
    const space = c === ' ' || c === '\n' || c === '\t' || c === '\r';
    if (space && quote === null && depth === 0) close(i);
    else if (start < 0 && !(c === '\\' && /^\\(\s|$)/.test(text.slice(i, i + 2)))) start = i;
  }
  if (quote !== null) throw new KeyValueSyntaxError(`the ${quote} quote is never closed`);
  if (depth > 0) throw new KeyValueSyntaxError('a Jinja block ({{, {% or {#) is never closed');
  close(text.length);
  return words;
}

function unquote(value: string): string {
  const q = value[0];
  const quoted = value.length > 1 && (q === '"' || q === "'") && value.at(-1) === q && value.at(-2) !== '\\';
  return quoted ? value.slice(1, -1) : value;
}

/**
 * Ansible's parse_kv. With `only`, just those keys are options and every other word is raw (command and
 * shell); without it, every `key=value` word is an option.
 */
export function parseKeyValue(text: string, only?: ReadonlySet<string>): KeyValueArgs {
  const options = new Map<string, { value: string; offset: number }>();
  const raw: Word[] = [];
  const cut: Word[] = [];
  const words = splitArgs(text);
  for (const word of words) {
    // Python's escapes are decoded in the word, as Ansible's parse_kv does.
    const decoded = decodePyEscapes(word.text);
    // The first '=' not escaped by a backslash, never at the very start (Ansible's rule).
    let eq = -1;
    for (let i = 1; i < decoded.length; i++)
      if (decoded[i] === '=' && decoded[i - 1] !== '\\') {
        eq = i;
        break;
      }
    const key = eq > 0 ? decoded.slice(0, eq).trim() : '';
    if (eq < 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) || (only && !only.has(key))) {
      raw.push(word);
      continue;
    }
    options.set(key, { value: unquote(decoded.slice(eq + 1).trim()), offset: word.offset });
    cut.push(word);
  }
  return { options, raw, rawText: withoutWords(text, cut) };
}

/** The text with the given words cut out, each with the spaces that separated it: everything else stays
 * as written (a multi-line shell script keeps its indentation). */
function withoutWords(text: string, words: Word[]): string {
  let out = text;
  for (const word of [...words].sort((a, b) => b.offset - a.offset)) {
    let from = word.offset;
    let to = word.offset + word.text.length;
    while (from > 0 && (out[from - 1] === ' ' || out[from - 1] === '\t')) from--;
    if (from === 0 || out[from - 1] === '\n')
      while (to < out.length && (out[to] === ' ' || out[to] === '\t')) to++;
    out = out.slice(0, from) + out.slice(to);
  }
  return out;
}

const TRUE = new Set(['yes', 'on', '1', 'true', 't', 'y', '1.0']);
const FALSE = new Set(['no', 'off', '0', 'false', 'f', 'n', '0.0']);

/**
 * A key=value string converted to what the argument's schema expects, as Ansible's argument spec does
 * (booleans from yes/no/true/false/on/off/1/0, numbers, comma-separated lists). Anything it cannot convert is
 * left as the string, so the schema check reports it where it was written. Templates stay strings: they are
 * rendered and checked at run time.
 */
export function convertArg(value: string, schema: unknown): unknown {
  if (value.includes('{{') || value.includes('{%')) return value;
  const types = typesOf(schema);
  if (types.size === 0 || types.has('string')) return value;
  const lower = value.toLowerCase();
  if ((types.has('integer') || types.has('number')) && /^[-+]?\d+$/.test(value)) return Number(value);
  if (types.has('boolean') && TRUE.has(lower)) return true;
  if (types.has('boolean') && FALSE.has(lower)) return false;
  if (types.has('number') && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(value)) return Number(value);
  if (types.has('array'))
    return value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  return value;
}

function typesOf(schema: unknown): Set<string> {
  const types = new Set<string>();
  if (!schema || typeof schema !== 'object') return types;
  const s = schema as { type?: string | string[]; anyOf?: unknown[]; oneOf?: unknown[]; enum?: unknown[] };
  for (const t of [s.type ?? []].flat()) types.add(t);
  for (const sub of [...(s.anyOf ?? []), ...(s.oneOf ?? [])]) for (const t of typesOf(sub)) types.add(t);
  if (s.enum && types.size === 0)
    for (const v of s.enum) types.add(typeof v === 'number' ? 'number' : typeof v);
  return types;
}
