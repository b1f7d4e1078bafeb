// Python semantics that Ansible users rely on in Jinja expressions: truthiness, how values print, and the
// common str/list/dict methods (`out.stdout.startswith('x')`, `d.get('k', 1)`, `line.split()`).
import { TemplateError } from './errors.js';

/** Python truthiness: None, False, 0, '', [] and {} are false. */
export function pyTruthy(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Buffer.isBuffer(v) ? v.length > 0 : Object.keys(v).length > 0;
  return Boolean(v);
}

/**
 * Python's `==`: lists and dicts by value, a number and a bool by number (True == 1), None only with None,
 * and never a string with a number ('1' == 1 is False, where JavaScript's == says true).
 */
export function pyEq(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || a === undefined || b === null || b === undefined) return a == null && b == null;
  const numeric = (v: unknown) => typeof v === 'number' || typeof v === 'boolean';
  if (numeric(a) && numeric(b)) return Number(a) === Number(b);
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => pyEq(v, b[i]));
  }
  if (typeof a === 'object' && typeof b === 'object' && !Buffer.isBuffer(a) && !Buffer.isBuffer(b)) {
    const ka = Object.keys(a as object);
    const kb = Object.keys(b as object);
    if (ka.length !== kb.length) return false;
    return ka.every(
      (k) =>
        Object.hasOwn(b as object, k) &&
        pyEq((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
    );
  }
  return false;
}

/** str(value) as Python prints it: True/False/None, lists and dicts in repr form. */
export function pyStr(v: unknown): string {
  if (typeof v === 'string') return v;
  return pyRepr(v);
}

export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string')
    return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (typeof v === 'object' && !Buffer.isBuffer(v))
    return `{${Object.keys(v)
      .map((k) => `${pyRepr(k)}: ${pyRepr((v as Record<string, unknown>)[k])}`)
      .join(', ')}}`;
  return String(v);
}

/** Python's str.split: no separator splits on runs of whitespace and drops empty ends. */
export function pySplit(s: string, sep?: string | null, maxsplit = -1): string[] {
  if (sep === undefined || sep === null) {
    const parts = s
      .trim()
      .split(/\s+/)
      .filter((p) => p !== '');
    if (maxsplit < 0 || parts.length <= maxsplit + 1) return parts;
    const head = parts.slice(0, maxsplit);
    let rest = s.trimStart();
    for (const h of head) rest = rest.slice(rest.indexOf(h) + h.length).trimStart();
    return [...head, rest];
  }
  const parts = s.split(sep);
  if (maxsplit < 0 || parts.length <= maxsplit + 1) return parts;
  return [...parts.slice(0, maxsplit), parts.slice(maxsplit).join(sep)];
}

/** Python's str.splitlines (no line ends kept). */
export function pySplitlines(s: string): string[] {
  const lines = s.split(/\r\n|\r|\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function strip(s: string, chars: string | undefined, side: 'both' | 'start' | 'end'): string {
  const set = chars === undefined || chars === null ? ' \t\n\r\v\f' : chars;
  let start = 0;
  let end = s.length;
  if (side !== 'end') while (start < end && set.includes(s[start]!)) start++;
  if (side !== 'start') while (end > start && set.includes(s[end - 1]!)) end--;
  return s.slice(start, end);
}

type Method = (self: never, ...args: never[]) => unknown;

const STRING_METHODS: Record<string, Method> = {
  startswith: (s: string, p: string | string[]) => (Array.isArray(p) ? p : [p]).some((x) => s.startsWith(x)),
  endswith: (s: string, p: string | string[]) => (Array.isArray(p) ? p : [p]).some((x) => s.endsWith(x)),
  strip: (s: string, chars?: string) => strip(s, chars, 'both'),
  lstrip: (s: string, chars?: string) => strip(s, chars, 'start'),
  rstrip: (s: string, chars?: string) => strip(s, chars, 'end'),
  lower: (s: string) => s.toLowerCase(),
  upper: (s: string) => s.toUpperCase(),
  split: (s: string, sep?: string, maxsplit?: number) => pySplit(s, sep, maxsplit),
  splitlines: (s: string) => pySplitlines(s),
  replace: (s: string, a: string, b: string) => s.split(a).join(b),
  find: (s: string, sub: string) => s.indexOf(sub),
  count: (s: string, sub: string) => s.split(sub).length - 1,
  isdigit: (s: string) => /^\d+$/.test(s),
  join: (s: string, items: unknown[]) => items.map(pyStr).join(s),
  format: (s: string, ...args: unknown[]) => {
    let i = 0;
    return s.replace(/\{(\d*)\}/g, (_, n: string) => pyStr(args[n === '' ? i++ : Number(n)]));
  },
};

const LIST_METHODS: Record<string, Method> = {
  index: (l: unknown[], x: unknown) => {
    const i = l.indexOf(x);
    if (i < 0) throw new Error(`${pyRepr(x)} is not in list`);
    return i;
  },
  count: (l: unknown[], x: unknown) => l.filter((y) => y === x).length,
  // Jinja in Ansible is not sandboxed: `{% set _ = acc.append(x) %}` builds a list in a loop. None, as Python.
  append: (l: unknown[], x: unknown) => {
    l.push(x);
    return null;
  },
  extend: (l: unknown[], xs: unknown) => {
    if (!Array.isArray(xs)) throw new TemplateError(`list.extend takes a list, not ${pyType(xs)}`);
    l.push(...xs);
    return null;
  },
  insert: (l: unknown[], i: number, x: unknown) => {
    l.splice(i < 0 ? Math.max(0, l.length + i) : i, 0, x);
    return null;
  },
  pop: (l: unknown[], i = -1) => {
    if (l.length === 0) throw new TemplateError('pop from empty list');
    return l.splice(i < 0 ? l.length + i : i, 1)[0];
  },
};

const DICT_METHODS: Record<string, Method> = {
  keys: (d: Record<string, unknown>) => Object.keys(d),
  values: (d: Record<string, unknown>) => Object.keys(d).map((k) => d[k]),
  items: (d: Record<string, unknown>) => Object.keys(d).map((k) => [k, d[k]]),
  get: (d: Record<string, unknown>, k: string, dflt: unknown = null) => (Object.hasOwn(d, k) ? d[k] : dflt),
  update: (d: Record<string, unknown>, other: unknown) => {
    if (!other || typeof other !== 'object' || Array.isArray(other))
      throw new TemplateError(`dict.update takes a dict, not ${pyType(other)}`);
    for (const [k, v] of Object.entries(other)) if (k !== '__keywords' && !isForbiddenKey(k)) d[k] = v;
    return null;
  },
};

/** Keys `update` never writes: they would reach the object's prototype instead of its data. */
function isForbiddenKey(k: string): boolean {
  return k === '__proto__' || k === 'constructor' || k === 'prototype';
}

/**
 * Resolves `obj.name` the Python way when `obj` has no own property of that name: a bound str/list/dict method,
 * or a negative index. Returns `NOT_FOUND` to fall back to nunjucks' own lookup.
 */
export const NOT_FOUND = Symbol('not found');

/** A Python method by name (own entries only: `constructor` is no method). */
function method(table: Record<string, Method>, name: unknown): Method | undefined {
  return typeof name === 'string' && Object.hasOwn(table, name) ? table[name] : undefined;
}

export function pyMember(obj: unknown, name: unknown): unknown {
  if (typeof obj === 'string') {
    if (typeof name === 'number') return name < 0 ? obj[obj.length + name] : obj[name];
    const m = method(STRING_METHODS, name);
    return m ? (...args: never[]) => m(obj as never, ...args) : NOT_FOUND;
  }
  if (Array.isArray(obj)) {
    if (typeof name === 'number' && name < 0) return obj[obj.length + name];
    const m = method(LIST_METHODS, name);
    return m ? (...args: never[]) => m(obj as never, ...args) : NOT_FOUND;
  }
  if (obj && typeof obj === 'object' && typeof name === 'string' && !Object.hasOwn(obj, name)) {
    const m = method(DICT_METHODS, name);
    return m ? (...args: never[]) => m(obj as never, ...args) : NOT_FOUND;
  }
  return NOT_FOUND;
}

export type Kwargs = Record<string, unknown>;

/** nunjucks passes keyword arguments as a trailing object marked `__keywords`. */
export function splitKwargs(args: unknown[]): [unknown[], Kwargs] {
  const last = args[args.length - 1] as Kwargs | undefined;
  if (last && typeof last === 'object' && last.__keywords === true) {
    const { __keywords: _, ...kw } = last;
    return [args.slice(0, -1), kw];
  }
  return [args, {}];
}

/** Most characters or items `*` may build (a template makes small values). */
export const MAX_REPEAT = 1_000_000;

/** Python's a + b: numbers add, strings and lists concatenate; anything else is a TypeError. */
export function pyAdd(a: unknown, b: unknown): unknown {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  if (typeof a === 'boolean' || typeof b === 'boolean') return pyAdd(Number(a), Number(b));
  if (typeof a === 'string' && typeof b === 'string') return a + b;
  if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
  throw new TemplateError(`unsupported operand types for +: ${pyType(a)} and ${pyType(b)}`);
}

/** Python's a * b: numbers multiply; a string or list times an integer repeats it. */
export function pyMul(a: unknown, b: unknown): unknown {
  if (typeof a === 'number' && typeof b === 'number') return a * b;
  const [seq, times] = typeof a === 'number' ? [b, a] : [a, b];
  if (
    (typeof seq === 'string' || Array.isArray(seq)) &&
    typeof times === 'number' &&
    Number.isInteger(times)
  ) {
    const n = Math.max(0, times);
    if (seq.length * n > MAX_REPEAT)
      throw new TemplateError(`a repetition of ${seq.length * n} items is over the limit of ${MAX_REPEAT}`);
    return typeof seq === 'string' ? seq.repeat(n) : Array.from({ length: n }, () => seq).flat(1);
  }
  throw new TemplateError(`unsupported operand types for *: ${pyType(a)} and ${pyType(b)}`);
}

function pyType(v: unknown): string {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (Array.isArray(v)) return 'list';
  return 'dict';
}
