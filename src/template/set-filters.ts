// Ansible's set theory and combinatorial list filters (mathstuff.py, subelements in core.py), plus the
// `dict` filter (community.general.dict: pairs to a mapping).
//
// Order on purpose: since ansible-core 2.16 difference/intersect/union/symmetric_difference return their
// items "in arbitrary order" (a Python set); we return them in first-seen order, without duplicates, as
// Ansible did before (and still does for lists of dicts). That is one of the orders Ansible may give, and
// the same on every run, so a task's result does not change between runs for no reason.
import { MAX_TEMPLATE_LIST } from '../core/bounds.js';
import { TemplateError } from './errors.js';
import { arg, asList, type Filter, isDict } from './filter-util.js';
import { type Kwargs, pyRepr, pyStr, splitKwargs } from './python.js';

/** A key equal for values Python finds equal: 1, 1.0 and True; dicts whatever their key order. */
function eqKey(v: unknown): string {
  const canon = (x: unknown): unknown => {
    if (typeof x === 'boolean') return Number(x);
    if (Array.isArray(x)) return x.map(canon);
    if (isDict(x))
      return Object.keys(x)
        .sort()
        .map((k) => [k, canon(x[k])]);
    return x;
  };
  const c = canon(v);
  return typeof c === 'string' ? `s${c}` : `j${JSON.stringify(c === undefined ? null : c)}`;
}

function uniq(items: unknown[]): unknown[] {
  const seen = new Set<string>();
  return items.filter((v) => {
    const k = eqKey(v);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function keys(items: unknown[]): Set<string> {
  return new Set(items.map(eqKey));
}

/** The two operands of a set filter: lists, strings (their characters) or mappings (their keys). */
function operands(a: unknown, b: unknown, filter: string): [unknown[], unknown[]] {
  if (b === undefined) throw new TemplateError(`${filter}: give the second list: list1 | ${filter}(list2)`);
  return [asList(a, filter), asList(b, filter)];
}

function iterables(value: unknown, others: unknown[], filter: string): unknown[][] {
  return [value, ...others].map((v) => asList(v, filter));
}

function product(lists: unknown[][]): unknown[][] {
  // Counted before building: [1,2,3,4] | product(repeat=20) is a trillion combinations.
  const count = lists.reduce((n, list) => n * list.length, 1);
  if (count > MAX_TEMPLATE_LIST)
    throw new TemplateError(
      `product: ${count.toLocaleString('en')} combinations are over the limit of ${MAX_TEMPLATE_LIST.toLocaleString('en')} items`,
    );
  return lists.reduce<unknown[][]>(
    (acc, list) => acc.flatMap((combo) => list.map((x) => [...combo, x])),
    [[]],
  );
}

export const setFilters: Record<string, Filter> = {
  difference(a: unknown, b: unknown) {
    const [x, y] = operands(a, b, 'difference');
    const drop = keys(y);
    return uniq(x.filter((v) => !drop.has(eqKey(v))));
  },
  intersect(a: unknown, b: unknown) {
    const [x, y] = operands(a, b, 'intersect');
    const keep = keys(y);
    return uniq(x.filter((v) => keep.has(eqKey(v))));
  },
  union(a: unknown, b: unknown) {
    const [x, y] = operands(a, b, 'union');
    return uniq([...x, ...y]);
  },
  symmetric_difference(a: unknown, b: unknown) {
    const [x, y] = operands(a, b, 'symmetric_difference');
    const inX = keys(x);
    const inY = keys(y);
    return uniq([...x, ...y]).filter((v) => !(inX.has(eqKey(v)) && inY.has(eqKey(v))));
  },
  // Python's zip: pairs up to the shortest list.
  zip(value: unknown, ...others: unknown[]) {
    const lists = iterables(value, others, 'zip');
    const n = Math.min(...lists.map((l) => l.length));
    return Array.from({ length: n }, (_, i) => lists.map((l) => l[i]));
  },
  // itertools.zip_longest: up to the longest list, the missing places filled with fillvalue (None).
  zip_longest(value: unknown, ...args: unknown[]) {
    const [others, kw] = splitKwargs(args);
    const fill = 'fillvalue' in kw ? kw.fillvalue : null;
    const lists = iterables(value, others, 'zip_longest');
    const n = Math.max(...lists.map((l) => l.length));
    return Array.from({ length: n }, (_, i) => lists.map((l) => (i < l.length ? l[i] : fill)));
  },
  // itertools.product: every combination, the last list varying fastest; repeat=n repeats the lists.
  product(value: unknown, ...args: unknown[]) {
    const [others, kw] = splitKwargs(args);
    const repeat = kw.repeat ?? 1;
    if (typeof repeat !== 'number' || !Number.isInteger(repeat) || repeat < 0)
      throw new TemplateError(`product: repeat must be a whole number, got ${pyRepr(repeat)}`);
    const lists = iterables(value, others, 'product');
    if (repeat > 1 && lists.every((l) => l.length > 1) && repeat * lists.length > 64)
      throw new TemplateError(
        `product: repeat=${repeat} builds more combinations than any template may hold`,
      );
    return product(Array.from({ length: repeat }, () => lists).flat());
  },
  subelements(value: unknown, ...args: unknown[]) {
    const [pos, kw] = splitKwargs(args);
    const path = arg<unknown>(pos, kw, 0, 'subelements', undefined);
    const skipMissing = arg<unknown>(pos, kw, 1, 'skip_missing', false) === true;
    let elements: unknown[];
    if (Array.isArray(value)) elements = value;
    else if (isDict(value)) elements = Object.values(value);
    else
      throw new TemplateError(
        `subelements: obj must be a list of dicts or a nested dict, got ${pyRepr(value)}`,
      );
    let keyPath: unknown[];
    if (Array.isArray(path)) keyPath = path;
    else if (typeof path === 'string') keyPath = path.split('.');
    else
      throw new TemplateError(`subelements: the subelement must be a list or a string, got ${pyRepr(path)}`);
    const out: unknown[][] = [];
    for (const element of elements) {
      let values: unknown = element;
      let last: unknown;
      for (const key of keyPath) {
        last = key;
        if (!isDict(values))
          throw new TemplateError(
            `subelements: the key ${pyRepr(key)} should point to a dictionary, got ${pyRepr(values)}`,
          );
        if (!Object.hasOwn(values, String(key))) {
          if (skipMissing) {
            values = [];
            break;
          }
          throw new TemplateError(
            `subelements: could not find ${pyRepr(key)} key in iterated item ${pyRepr(values)} (skip_missing=true skips such items)`,
          );
        }
        values = values[String(key)];
      }
      if (!Array.isArray(values))
        throw new TemplateError(
          `subelements: the key ${pyRepr(last)} should point to a list, got ${pyRepr(values)}`,
        );
      for (const v of values) out.push([element, v]);
    }
    return out;
  },
  // community.general.dict, and Python's dict(): a list of [key, value] pairs (or a mapping) to a mapping.
  dict(value: unknown) {
    return toDict(value, 'dict');
  },
};

/** Python's dict(iterable): each item a pair. Also used by the `dict(...)` global. */
export function toDict(value: unknown, where: string): Kwargs {
  if (isDict(value)) return { ...value };
  if (!Array.isArray(value))
    throw new TemplateError(
      `${where}: expected a list of [key, value] pairs or a dictionary, got ${pyRepr(value)}`,
    );
  const out: Kwargs = {};
  value.forEach((pair, i) => {
    const items = Array.isArray(pair) ? pair : typeof pair === 'string' ? [...pair] : undefined;
    if (items?.length !== 2)
      throw new TemplateError(`${where}: item #${i} must be a [key, value] pair, got ${pyRepr(pair)}`);
    out[pyStr(items[0])] = items[1];
  });
  return out;
}
