// Jinja's built-in filters that nunjucks lacks (format, items) or implements otherwise: nunjucks' round
// rounds ties up, its sort compares lists as strings and sorts a mapping to [], its dictsort has no reverse,
// its indent indents blank lines, its center pads unevenly and its wordcount gives null for ''.
import { TemplateError } from './errors.js';
import { asList, attrPath, type Filter, isDict } from './filter-util.js';
import { pyCompare, pyPercent, pyRound } from './py-format.js';
import { pyRepr, pySplitlines, pyStr, splitKwargs } from './python.js';

function number(v: unknown, filter: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return Number(v);
  throw new TemplateError(
    `${filter}: expected a number, got ${pyRepr(v)} (convert it with | int or | float first)`,
  );
}

function integer(v: unknown, filter: string, what: string): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'boolean') return Number(v);
  throw new TemplateError(`${filter}: ${what} must be an integer, got ${pyRepr(v)}`);
}

function bool(v: unknown, filter: string, what: string): boolean {
  if (typeof v === 'boolean') return v;
  if (v === 0 || v === 1) return v === 1;
  throw new TemplateError(`${filter}: ${what} must be true or false, got ${pyRepr(v)}`);
}

/** Jinja's ignore_case: strings compare lowercased unless case_sensitive. */
const folded = (v: unknown, caseSensitive: boolean) =>
  !caseSensitive && typeof v === 'string' ? v.toLowerCase() : v;

/** Python's str.center: the extra space of an odd padding goes left when the width is odd. */
function center(s: string, width: number): string {
  const len = [...s].length;
  if (width <= len) return s;
  const margin = width - len;
  const left = Math.floor(margin / 2) + (margin & width & 1);
  return ' '.repeat(left) + s + ' '.repeat(margin - left);
}

export const jinjaFilters: Record<string, Filter> = {
  // Python's `%` operator: "%s-%05.2f" | format(name, 3.14159). Keyword arguments fill %(name)s.
  format(value: unknown, ...args: unknown[]) {
    const [pos, kw] = splitKwargs(args);
    if (pos.length > 0 && Object.keys(kw).length > 0)
      throw new TemplateError("format: can't handle positional and keyword arguments at the same time");
    return pyPercent(pyStr(value), pos, Object.keys(kw).length > 0 ? kw : undefined);
  },
  abs: (value: unknown) => Math.abs(number(value, 'abs')),
  round(value: unknown, ...args: unknown[]) {
    const [pos, kw] = splitKwargs(args);
    const precision = integer(pos[0] ?? kw.precision ?? 0, 'round', 'precision');
    const method = pos[1] ?? kw.method ?? 'common';
    const x = number(value, 'round');
    // Jinja: 'common' is Python's round (ties to even); ceil and floor scale, round and scale back.
    if (method === 'common') return pyRound(x, precision);
    if (method === 'ceil' || method === 'floor') return Math[method](x * 10 ** precision) / 10 ** precision;
    throw new TemplateError(`round: method must be common, ceil or floor, got ${pyRepr(method)}`);
  },
  dictsort(value: unknown, ...args: unknown[]) {
    const [pos, kw] = splitKwargs(args);
    if (!isDict(value)) throw new TemplateError(`dictsort: expected a dictionary, got ${pyRepr(value)}`);
    const caseSensitive = bool(pos[0] ?? kw.case_sensitive ?? false, 'dictsort', 'case_sensitive');
    const by = pos[1] ?? kw.by ?? 'key';
    const reverse = bool(pos[2] ?? kw.reverse ?? false, 'dictsort', 'reverse');
    if (by !== 'key' && by !== 'value')
      throw new TemplateError(`dictsort: you can only sort by either "key" or "value", got ${pyRepr(by)}`);
    const at = by === 'key' ? 0 : 1;
    const sign = reverse ? -1 : 1;
    return Object.entries(value).sort(
      (a, b) => sign * pyCompare(folded(a[at], caseSensitive), folded(b[at], caseSensitive), 'dictsort'),
    );
  },
  // Python's sorted(): stable, and reverse keeps equal items in their order.
  sort(value: unknown, ...args: unknown[]) {
    const [pos, kw] = splitKwargs(args);
    const reverse = bool(pos[0] ?? kw.reverse ?? false, 'sort', 'reverse');
    const caseSensitive = bool(pos[1] ?? kw.case_sensitive ?? false, 'sort', 'case_sensitive');
    const attribute = pos[2] ?? kw.attribute;
    const items = asList(value, 'sort');
    // attribute='a.b' or several, 'age,name', compared as a tuple.
    const attrs = attribute === undefined || attribute === null ? undefined : String(attribute).split(',');
    const key = (item: unknown): unknown => {
      if (!attrs) return folded(item, caseSensitive);
      const values = attrs.map((a) => {
        const v = attrPath(item, a.trim());
        if (v === undefined) throw new TemplateError(`sort: '${a.trim()}' is undefined in ${pyRepr(item)}`);
        return folded(v, caseSensitive);
      });
      return values.length === 1 ? values[0] : values;
    };
    const keyed = items.map((item) => [key(item), item] as const);
    const sign = reverse ? -1 : 1;
    return keyed.sort((a, b) => sign * pyCompare(a[0], b[0], 'sort')).map(([, item]) => item);
  },
  reverse(value: unknown) {
    if (typeof value === 'string') return [...value].reverse().join('');
    if (Array.isArray(value) || isDict(value)) return [...asList(value, 'reverse')].reverse();
    throw new TemplateError(`reverse: expected a string, list or dictionary, got ${pyRepr(value)}`);
  },
  // Jinja 3.1: a mapping's (key, value) pairs, as dict.items().
  items(value: unknown) {
    if (!isDict(value))
      throw new TemplateError(`items: can only get item pairs from a mapping, got ${pyRepr(value)}`);
    return Object.entries(value);
  },
  indent(value: unknown, ...args: unknown[]) {
    const [pos, kw] = splitKwargs(args);
    if (typeof value !== 'string') throw new TemplateError(`indent: expected a string, got ${pyRepr(value)}`);
    const width = pos[0] ?? kw.width ?? 4;
    const first = bool(pos[1] ?? kw.first ?? false, 'indent', 'first');
    const blank = bool(pos[2] ?? kw.blank ?? false, 'indent', 'blank');
    // Jinja: width may be a string to indent with (e.g. a tab).
    const indention = typeof width === 'string' ? width : ' '.repeat(integer(width, 'indent', 'width'));
    const lines = pySplitlines(`${value}\n`);
    let out = blank
      ? lines.join(`\n${indention}`)
      : [lines[0] ?? '', ...lines.slice(1).map((l) => (l ? indention + l : l))].join('\n');
    if (first) out = indention + out;
    return out;
  },
  center(value: unknown, width: unknown = 80) {
    return center(pyStr(value), integer(width, 'center', 'width'));
  },
  // Jinja: the number of \w+ runs.
  wordcount: (value: unknown) => pyStr(value).match(/[\p{L}\p{N}\p{M}_]+/gu)?.length ?? 0,
};
