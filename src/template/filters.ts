// The filters Ansible playbooks commonly use, with Ansible's semantics (Python's json.dumps spacing, shlex
// quoting, Python regex syntax). Jinja's built-ins that nunjucks lacks or gets wrong are in jinja-filters.ts,
// Ansible's list and set filters in set-filters.ts, its path, hash and text filters in text-filters.ts;
// nunjucks' own stay available where they already match Jinja (batch, slice, groupby, urlencode, ...).
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { posix } from 'node:path';
import { TemplateError } from './errors.js';
import {
  arg,
  asDict,
  asList,
  attrPath,
  type Filter,
  type FilterThis,
  isDict,
  stableKey,
} from './filter-util.js';
import { jinjaFilters } from './jinja-filters.js';
import { niceYaml } from './nice-yaml.js';
import { type Kwargs, pyRepr, pySplit, pySplitlines, pyStr, pyTruthy, splitKwargs } from './python.js';
import { expandTemplate, pyRegExp } from './regex.js';
import { safeMember } from './sandbox.js';
import { setFilters } from './set-filters.js';
import { textFilters } from './text-filters.js';

function sortKeysDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeysDeep);
  if (v && typeof v === 'object') {
    const out: Kwargs = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeysDeep((v as Kwargs)[k]);
    return out;
  }
  return v;
}

/** Python's json.dumps(v) (separators ', ' and ': ', non-ASCII kept as is). */
export function pyJsonDumps(v: unknown): string {
  if (v === undefined || v === null) return 'null';
  if (Array.isArray(v)) return `[${v.map(pyJsonDumps).join(', ')}]`;
  if (typeof v === 'object' && !Buffer.isBuffer(v))
    return `{${Object.keys(v)
      .map((k) => `${JSON.stringify(k)}: ${pyJsonDumps((v as Kwargs)[k])}`)
      .join(', ')}}`;
  return JSON.stringify(v) ?? 'null';
}

/** Python's shlex.quote, which Ansible's `quote` filter uses. */
export function shellQuote(s: string): string {
  if (s === '') return "''";
  if (/^[\w@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'"'"'`)}'`;
}

function toBool(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (v === null || v === undefined) return false;
  return ['yes', 'on', '1', 'true'].includes(String(v).trim().toLowerCase());
}

function toInt(v: unknown, dflt = 0, base = 10): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : dflt;
  const s = String(v).trim();
  const n = base === 10 && /^[-+]?\d+(\.\d*)?$/.test(s) ? Math.trunc(Number(s)) : Number.parseInt(s, base);
  return Number.isNaN(n) ? dflt : n;
}

/** Python's ordering for sort keys of one type (numbers, strings); mixed types by their text. */
function compareKeys(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = pyStr(a);
  const y = pyStr(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function yamlLib(): typeof import('yaml') {
  return createRequire(import.meta.url)('yaml') as typeof import('yaml');
}

function combine(a: Kwargs, b: Kwargs, recursive: boolean, listMerge: string): Kwargs {
  const out: Kwargs = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const old = out[k];
    if (recursive && isDict(old) && isDict(v)) out[k] = combine(old, v, true, listMerge);
    else if (Array.isArray(old) && Array.isArray(v) && listMerge !== 'replace') {
      if (listMerge === 'append') out[k] = [...old, ...v];
      else if (listMerge === 'prepend') out[k] = [...v, ...old];
      else if (listMerge === 'append_rp') out[k] = [...old.filter((x) => !v.includes(x)), ...v];
      else if (listMerge === 'prepend_rp') out[k] = [...v, ...old.filter((x) => !v.includes(x))];
      else if (listMerge === 'keep') out[k] = old;
      else throw new TemplateError(`combine: unknown list_merge '${listMerge}'`);
    } else out[k] = v;
  }
  return out;
}

/** select/reject/selectattr/rejectattr: keep the items whose (attribute) passes the named test (or is truthy). */
function selecting(
  this: FilterThis,
  items: unknown,
  keep: boolean,
  attr: string | undefined,
  rest: unknown[],
) {
  const [testName, ...testArgs] = rest as [string | undefined, ...unknown[]];
  const test = testName ? this.env.getTest(testName) : undefined;
  return asList(items, 'select').filter((item) => {
    const v = attr === undefined ? item : attrPath(item, attr);
    const ok = test ? test.call(this, v as never, ...(testArgs as never[])) === true : pyTruthy(v);
    return ok === keep;
  });
}

/** The largest (sign 1) or smallest (sign -1) item, comparing numbers or strings as Python does. */
function extreme(items: unknown[], sign: 1 | -1): unknown {
  if (items.length === 0) throw new TemplateError('min/max of an empty list');
  return items.reduce((best, x) =>
    (x as number) > (best as number) === (sign === 1) && x !== best ? x : best,
  );
}

/**
 * Ansible's random: an integer in range(start, end, step) for an integer, an item for a list. With a seed the
 * pick is the same on every run (for spreading cron minutes by host), though not the number Python's
 * generator would give for that seed.
 */
function ansibleRandom(value: unknown, args: unknown[]): unknown {
  const [positional, kw] = splitKwargs(args);
  const start = kw.start ?? positional[0];
  const step = kw.step ?? positional[1];
  const seed = kw.seed ?? positional[2];
  const next = seed === undefined || seed === null ? Math.random : seededRandom(pyStr(seed));
  if (typeof value === 'number' && Number.isInteger(value)) {
    const from = start ? Number(start) : 0;
    const by = step ? Number(step) : 1;
    const count = Math.ceil((value - from) / by);
    if (!Number.isInteger(from) || !Number.isInteger(by) || by === 0 || count <= 0)
      throw new TemplateError(`random: empty range for randrange(${from}, ${value}, ${by})`);
    return from + by * Math.floor(next() * count);
  }
  if (Array.isArray(value) || typeof value === 'string') {
    if (start || step) throw new TemplateError('random: start and step can only be used with integer values');
    if (value.length === 0) throw new TemplateError('random: cannot choose from an empty sequence');
    return value[Math.floor(next() * value.length)];
  }
  throw new TemplateError(`random: can only be used on sequences and integers, got ${pyRepr(value)}`);
}

/** A deterministic generator in [0, 1) from a string seed (sha256 of the seed, then xorshift128+). */
function seededRandom(seed: string): () => number {
  const h = createHash('sha256').update(seed).digest();
  let a = h.readBigUInt64LE(0) || 1n;
  let b = h.readBigUInt64LE(8) || 2n;
  const mask = (1n << 64n) - 1n;
  return () => {
    let x = a;
    const y = b;
    a = y;
    x ^= (x << 23n) & mask;
    b = x ^ y ^ (x >> 17n) ^ (y >> 26n);
    return Number(((b + y) & mask) >> 11n) / 2 ** 53;
  };
}

export const filters: Record<string, Filter> = {
  default(value: unknown, dflt: unknown = '', boolean: unknown = false) {
    return value === undefined || (boolean === true && !pyTruthy(value)) ? dflt : value;
  },
  mandatory(value: unknown, msg: unknown) {
    if (value === undefined) throw new TemplateError(String(msg));
    return value;
  },
  bool: (value: unknown) => toBool(value),
  int(value: unknown, ...args: unknown[]) {
    const [pos, kw] = splitKwargs(args);
    return toInt(value, Number(arg(pos, kw, 0, 'default', 0)), Number(arg(pos, kw, 1, 'base', 10)));
  },
  float(value: unknown, dflt: unknown = 0) {
    const n = typeof value === 'boolean' ? Number(value) : Number.parseFloat(String(value));
    return Number.isNaN(n) ? dflt : n;
  },
  string: (value: unknown) => pyStr(value),
  length(value: unknown) {
    if (typeof value === 'string' || Array.isArray(value)) return value.length;
    if (value && typeof value === 'object') return Object.keys(value).length;
    throw new TemplateError(`length: ${pyRepr(value)} has no length`);
  },
  join(value: unknown, sep: unknown = '') {
    return asList(value, 'join').map(pyStr).join(String(sep));
  },
  replace(value: unknown, old: unknown, replacement: unknown, count: unknown) {
    const parts = pyStr(value).split(String(old));
    if (typeof count !== 'number' || count < 0) return parts.join(String(replacement));
    // Python's str.replace(old, new, count): only the first `count` occurrences.
    const head = parts.slice(0, count + 1).join(String(replacement));
    const tail = parts.slice(count + 1);
    return tail.length > 0 ? `${head}${String(old)}${tail.join(String(old))}` : head;
  },
  to_json: (value: unknown) => pyJsonDumps(value),
  to_nice_json(value: unknown, ...args: unknown[]) {
    const [pos, kw] = splitKwargs(args);
    return JSON.stringify(sortKeysDeep(value), null, Number(arg(pos, kw, 0, 'indent', 4)));
  },
  from_json(value: unknown) {
    try {
      return JSON.parse(String(value));
    } catch (e) {
      throw new TemplateError(`from_json: ${(e as Error).message}`);
    }
  },
  to_yaml: (value: unknown) => yamlLib().stringify(value, { indent: 2 }),
  to_nice_yaml(value: unknown, ...args: unknown[]) {
    const [pos, kw] = splitKwargs(args);
    return niceYaml(value, Number(arg(pos, kw, 0, 'indent', 4)));
  },
  from_yaml: (value: unknown) => yamlLib().parse(String(value)),
  b64encode: (value: unknown) => Buffer.from(pyStr(value), 'utf8').toString('base64'),
  b64decode: (value: unknown) => Buffer.from(String(value), 'base64').toString('utf8'),
  basename: (value: unknown) => posix.basename(String(value)),
  dirname: (value: unknown) => posix.dirname(String(value)),
  quote: (value: unknown) => shellQuote(pyStr(value)),
  ternary(value: unknown, yes: unknown, no: unknown, ...rest: unknown[]) {
    if (rest.length > 0 && value === null) return rest[0];
    return pyTruthy(value) ? yes : no;
  },
  unique(value: unknown) {
    const seen = new Set<string>();
    return asList(value, 'unique').filter((v) => {
      const k = stableKey(v);
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  },
  flatten(value: unknown, ...args: unknown[]) {
    const [pos, kw] = splitKwargs(args);
    const levels = arg<unknown>(pos, kw, 0, 'levels', null);
    const skipNulls = arg<unknown>(pos, kw, 1, 'skip_nulls', true);
    const depth = typeof levels === 'number' ? levels : Number.POSITIVE_INFINITY;
    const flat = asList(value, 'flatten').flat(depth);
    return skipNulls === false ? flat : flat.filter((v) => v !== null && v !== undefined);
  },
  // Jinja's groupby: (grouper, list) pairs sorted by the grouper; `.grouper` / `.list` or [0] / [1].
  groupby(value: unknown, ...args: unknown[]) {
    const [pos, kw] = splitKwargs(args);
    const attribute = String(arg(pos, kw, 0, 'attribute', ''));
    const dflt = arg<unknown>(pos, kw, 1, 'default', undefined);
    const groups = new Map<string, { key: unknown; items: unknown[] }>();
    for (const item of asList(value, 'groupby')) {
      const key = attrPath(item, attribute) ?? dflt;
      if (key === undefined)
        throw new TemplateError(`groupby: '${attribute}' is undefined in ${pyRepr(item)}`);
      const k = stableKey(key);
      const g = groups.get(k) ?? { key, items: [] };
      g.items.push(item);
      groups.set(k, g);
    }
    return [...groups.values()]
      .sort((a, b) => compareKeys(a.key, b.key))
      .map(({ key, items }) => Object.assign([key, items], { grouper: key, list: items }));
  },
  min: (value: unknown) => extreme(asList(value, 'min'), -1),
  max: (value: unknown) => extreme(asList(value, 'max'), 1),
  map(this: FilterThis, value: unknown, ...args: unknown[]) {
    const [pos, kw] = splitKwargs(args);
    const items = asList(value, 'map');
    if (typeof kw.attribute === 'string') {
      const attr = kw.attribute;
      return items.map((item) => {
        const v = attrPath(item, attr);
        if (v === undefined && !('default' in kw))
          throw new TemplateError(`map: '${attr}' is undefined in ${pyRepr(item)}`, attr);
        return v === undefined ? kw.default : v;
      });
    }
    const [name, ...filterArgs] = pos as [string, ...unknown[]];
    if (typeof name !== 'string') throw new TemplateError('map: give a filter name or attribute=');
    const f = this.env.getFilter(name);
    return items.map((item) => f.call(this, item as never, ...(filterArgs as never[])));
  },
  // Ansible's extract: container[item], then each of morekeys in turn (`map('extract', hostvars, 'x')`).
  extract(item: unknown, container: unknown, morekeys?: unknown) {
    const keys = [item, ...(morekeys === undefined ? [] : Array.isArray(morekeys) ? morekeys : [morekeys])];
    let v: unknown = container;
    for (const k of keys) {
      const next = safeMember(v, k);
      if (next === undefined) throw new TemplateError(`extract: ${pyRepr(k)} is undefined`);
      v = next;
    }
    return v;
  },
  select(this: FilterThis, value: unknown, ...args: unknown[]) {
    return selecting.call(this, value, true, undefined, args);
  },
  reject(this: FilterThis, value: unknown, ...args: unknown[]) {
    return selecting.call(this, value, false, undefined, args);
  },
  selectattr(this: FilterThis, value: unknown, attr: unknown, ...args: unknown[]) {
    return selecting.call(this, value, true, String(attr), args);
  },
  rejectattr(this: FilterThis, value: unknown, attr: unknown, ...args: unknown[]) {
    return selecting.call(this, value, false, String(attr), args);
  },
  dict2items(value: unknown, ...args: unknown[]) {
    const [pos, kw] = splitKwargs(args);
    const keyName = String(arg(pos, kw, 0, 'key_name', 'key'));
    const valueName = String(arg(pos, kw, 1, 'value_name', 'value'));
    const d = asDict(value, 'dict2items');
    return Object.keys(d).map((k) => ({ [keyName]: k, [valueName]: d[k] }));
  },
  items2dict(value: unknown, ...args: unknown[]) {
    const [pos, kw] = splitKwargs(args);
    const keyName = String(arg(pos, kw, 0, 'key_name', 'key'));
    const valueName = String(arg(pos, kw, 1, 'value_name', 'value'));
    const out: Kwargs = {};
    for (const item of asList(value, 'items2dict')) {
      const d = asDict(item, 'items2dict');
      out[String(d[keyName])] = d[valueName];
    }
    return out;
  },
  combine(value: unknown, ...args: unknown[]) {
    const [pos, kw] = splitKwargs(args);
    const recursive = kw.recursive === true;
    const listMerge = String(kw.list_merge ?? 'replace');
    const dicts = [value, ...pos].flatMap((d) => (Array.isArray(d) ? d : [d]));
    return dicts.reduce<Kwargs>((acc, d) => combine(acc, asDict(d, 'combine'), recursive, listMerge), {});
  },
  regex_replace(value: unknown, pattern: unknown, replacement: unknown = '', ...args: unknown[]) {
    const [pos, kw] = splitKwargs(args);
    const flags = `${arg(pos, kw, 0, 'ignorecase', false) ? 'i' : ''}${arg(pos, kw, 1, 'multiline', false) ? 'm' : ''}`;
    const count = Number(arg(pos, kw, 2, 'count', 0));
    const text = pyStr(value);
    let out = '';
    let last = 0;
    let n = 0;
    for (const m of text.matchAll(pyRegExp(String(pattern), `${flags}g`))) {
      if (count > 0 && n >= count) break;
      n++;
      out += text.slice(last, m.index) + expandTemplate(String(replacement), m);
      last = m.index + m[0].length;
    }
    return out + text.slice(last);
  },
  regex_search(value: unknown, pattern: unknown, ...args: unknown[]) {
    const [pos, kw] = splitKwargs(args);
    const flags = `${kw.ignorecase ? 'i' : ''}${kw.multiline ? 'm' : ''}`;
    const m = pyRegExp(String(pattern), flags).exec(pyStr(value));
    if (!m) return null;
    if (pos.length === 0) return m[0];
    // Ansible: '\\1' or '\\g<name>' arguments select groups and return them as a list.
    return pos.map((g) => {
      const ref = /^\\(?:(\d+)|g<(\w+)>)$/.exec(String(g));
      if (!ref) throw new TemplateError(`regex_search: unknown group reference ${pyRepr(g)}`);
      return ref[1] !== undefined ? m[Number(ref[1])] : m.groups?.[ref[2]!];
    });
  },
  regex_findall(value: unknown, pattern: unknown, ...args: unknown[]) {
    const [pos, kw] = splitKwargs(args);
    const flags = `${arg(pos, kw, 0, 'ignorecase', false) ? 'i' : ''}${arg(pos, kw, 1, 'multiline', false) ? 'm' : ''}`;
    return [...pyStr(value).matchAll(pyRegExp(String(pattern), `${flags}g`))].map((m) =>
      m.length === 1 ? m[0] : m.length === 2 ? (m[1] ?? '') : m.slice(1).map((g) => g ?? ''),
    );
  },
  splitlines: (value: unknown) => pySplitlines(pyStr(value)),
  split: (value: unknown, sep: unknown, maxsplit: unknown) =>
    pySplit(
      pyStr(value),
      sep === undefined || sep === null ? undefined : String(sep),
      maxsplit === undefined ? -1 : Number(maxsplit),
    ),
  random: (value: unknown, ...args: unknown[]) => ansibleRandom(value, args),
  // Jinja's versions of filters where nunjucks' differ (a number to lower, the first key of a mapping,
  // sum by attribute, truncate's leeway).
  lower: (value: unknown) => pyStr(value).toLowerCase(),
  upper: (value: unknown) => pyStr(value).toUpperCase(),
  capitalize: (value: unknown) => {
    const s = pyStr(value);
    return s.charAt(0).toUpperCase() + s.slice(1).toLowerCase();
  },
  title: (value: unknown) =>
    pyStr(value).replace(/[\p{L}\p{N}]+/gu, (w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase()),
  trim: (value: unknown, chars: unknown) => {
    const s = pyStr(value);
    if (chars === undefined || chars === null) return s.trim();
    const set = new Set([...pyStr(chars)]);
    let a = 0;
    let b = s.length;
    while (a < b && set.has(s[a]!)) a++;
    while (b > a && set.has(s[b - 1]!)) b--;
    return s.slice(a, b);
  },
  first: (value: unknown) => asList(value, 'first')[0],
  last: (value: unknown) => asList(value, 'last').at(-1),
  sum(value: unknown, ...args: unknown[]) {
    const [pos, kw] = splitKwargs(args);
    const attr = kw.attribute ?? pos[0];
    const items = asList(value, 'sum').map((item) =>
      typeof attr === 'string' ? attrPath(item, attr) : item,
    );
    return items.reduce(
      (total: unknown, x) => {
        if (typeof total !== 'number' || typeof x !== 'number')
          throw new TemplateError(`sum: cannot add ${pyRepr(x)} to ${pyRepr(total)}`);
        return total + x;
      },
      kw.start ?? pos[1] ?? 0,
    );
  },
  truncate(value: unknown, ...args: unknown[]) {
    const [pos, kw] = splitKwargs(args);
    const s = pyStr(value);
    const length = Number(kw.length ?? pos[0] ?? 255);
    const killwords = pyTruthy(kw.killwords ?? pos[1] ?? false);
    const end = pyStr(kw.end ?? pos[2] ?? '...');
    const leeway = Number(kw.leeway ?? pos[3] ?? 5);
    if (s.length <= length + leeway) return s;
    if (killwords) return s.slice(0, length - end.length) + end;
    const cut = s.slice(0, length - end.length);
    const space = cut.lastIndexOf(' ');
    return (space > 0 ? cut.slice(0, space) : cut) + end;
  },
  // Jinja's list: a mapping gives its keys (nunjucks' own gives key/value pairs), a string its characters.
  list: (value: unknown) => asList(value, 'list'),
};
Object.assign(filters, jinjaFilters, setFilters, textFilters);
filters.d = filters.default!;
filters.count = filters.length!;
