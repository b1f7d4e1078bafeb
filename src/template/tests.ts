// Jinja tests (`x is defined`, `result is failed`, `out.stdout is search('ok')`) with Ansible's semantics.
import { TemplateError } from './errors.js';
import { pyRepr, pyTruthy, splitKwargs } from './python.js';
import { pyRegExp } from './regex.js';

type Test = (value: never, ...args: never[]) => boolean;
type Result = Record<string, unknown>;

function asResult(v: unknown, test: string): Result {
  if (v && typeof v === 'object' && !Array.isArray(v)) return v as Result;
  throw new TemplateError(`the '${test}' test expects a registered result (a dictionary), got ${pyRepr(v)}`);
}

/** Ansible: a loop's registered result is changed/failed/skipped when any (or, for skipped, every) item is. */
function resultFlag(v: unknown, test: string, flag: string): boolean {
  const r = asResult(v, test);
  if (Array.isArray(r.results) && r.results.length > 0) {
    const items = r.results as Result[];
    return flag === 'skipped'
      ? items.every((i) => i?.[flag] === true)
      : items.some((i) => i?.[flag] === true);
  }
  return pyTruthy(r[flag]);
}

function regexTest(anchored: boolean) {
  return (value: unknown, pattern: unknown, ...rest: unknown[]) => {
    if (value === null || value === undefined) return false;
    const [pos, kw] = splitKwargs(rest);
    const ignorecase = (pos[0] ?? kw.ignorecase) === true;
    const multiline = (pos[1] ?? kw.multiline) === true;
    const re = pyRegExp(
      String(pattern),
      `${ignorecase ? 'i' : ''}${multiline ? 'm' : ''}${anchored ? 'y' : ''}`,
    );
    re.lastIndex = 0;
    return re.test(String(value));
  };
}

function contains(seq: unknown, item: unknown): boolean {
  if (typeof seq === 'string') return seq.includes(String(item));
  if (Array.isArray(seq)) return seq.includes(item);
  if (seq && typeof seq === 'object') return Object.hasOwn(seq, String(item));
  throw new TemplateError(`cannot test membership in ${pyRepr(seq)}`);
}

const isNumber = (v: unknown) => typeof v === 'number';

/**
 * Python's LooseVersion, as Ansible's `version` test uses by default: numbers and letters in turn
 * ('2.10.1' -> [2, 10, 1]; '1.0rc1' -> [1, 0, 'rc', 1]), compared item by item, a number below a string.
 */
function looseVersion(v: unknown): (number | string)[] {
  return (pyStrOf(v).match(/\d+|[a-z]+/gi) ?? []).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

function pyStrOf(v: unknown): string {
  return typeof v === 'string' ? v : String(v);
}

function compareVersions(a: unknown, b: unknown): number {
  const x = looseVersion(a);
  const y = looseVersion(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if (i >= x.length) return -1;
    if (i >= y.length) return 1;
    const p = x[i]!;
    const q = y[i]!;
    if (p === q) continue;
    if (typeof p === typeof q) return p < q ? -1 : 1;
    return typeof p === 'number' ? -1 : 1;
  }
  return 0;
}

const VERSION_OPERATORS: Record<string, (c: number) => boolean> = {
  '<': (c) => c < 0,
  lt: (c) => c < 0,
  '<=': (c) => c <= 0,
  le: (c) => c <= 0,
  '>': (c) => c > 0,
  gt: (c) => c > 0,
  '>=': (c) => c >= 0,
  ge: (c) => c >= 0,
  '==': (c) => c === 0,
  '=': (c) => c === 0,
  eq: (c) => c === 0,
  '!=': (c) => c !== 0,
  '<>': (c) => c !== 0,
  ne: (c) => c !== 0,
};

/** Ansible's `version` test (alias version_compare): `ver is version('2.9', '>=')`, loose comparison. */
function versionTest(value: unknown, ...args: unknown[]): boolean {
  const [pos, kw] = splitKwargs(args);
  const other = kw.version ?? pos[0];
  const op = String(kw.operator ?? pos[1] ?? 'eq');
  if (other === undefined) throw new TemplateError("the 'version' test needs a version to compare with");
  const check = VERSION_OPERATORS[op];
  if (!check)
    throw new TemplateError(
      `the 'version' test: unknown operator '${op}' (use one of ${Object.keys(VERSION_OPERATORS).join(' ')})`,
    );
  return check(compareVersions(value, other));
}

export const tests: Record<string, Test> = {
  version: versionTest as Test,
  version_compare: versionTest as Test,
  defined: (v: unknown) => v !== undefined,
  undefined: (v: unknown) => v === undefined,
  none: (v: unknown) => v === null,
  succeeded: (v: unknown) => !resultFlag(v, 'succeeded', 'failed'),
  failed: (v: unknown) => resultFlag(v, 'failed', 'failed'),
  changed: (v: unknown) => resultFlag(v, 'changed', 'changed'),
  skipped: (v: unknown) => resultFlag(v, 'skipped', 'skipped'),
  match: regexTest(true),
  search: regexTest(false),
  regex(value: unknown, pattern: unknown, ...rest: unknown[]) {
    const [pos, kw] = splitKwargs(rest);
    const type = pos[2] ?? kw.match_type ?? 'search';
    return regexTest(type === 'match')(value, pattern, pos[0] ?? kw.ignorecase, pos[1] ?? kw.multiline);
  },
  in: (v: unknown, seq: unknown) => contains(seq, v),
  contains: (seq: unknown, v: unknown) => contains(seq, v),
  string: (v: unknown) => typeof v === 'string',
  number: isNumber,
  integer: (v: unknown) => Number.isInteger(v),
  float: (v: unknown) => isNumber(v) && !Number.isInteger(v),
  boolean: (v: unknown) => typeof v === 'boolean',
  mapping: (v: unknown) => !!v && typeof v === 'object' && !Array.isArray(v),
  sequence: (v: unknown) => typeof v === 'string' || (!!v && typeof v === 'object'),
  iterable: (v: unknown) => typeof v === 'string' || (!!v && typeof v === 'object'),
  truthy: (v: unknown) => pyTruthy(v),
  falsy: (v: unknown) => !pyTruthy(v),
  equalto: (v: unknown, other: unknown) => v === other,
  sameas: (v: unknown, other: unknown) => v === other,
  even: (v: unknown) => Number(v) % 2 === 0,
  odd: (v: unknown) => Math.abs(Number(v) % 2) === 1,
  divisibleby: (v: unknown, n: unknown) => Number(v) % Number(n) === 0,
  lower: (v: unknown) => typeof v === 'string' && v === v.toLowerCase(),
  upper: (v: unknown) => typeof v === 'string' && v === v.toUpperCase(),
  subset: (v: unknown, of: unknown) =>
    Array.isArray(v) && Array.isArray(of) && v.every((x) => of.includes(x)),
  superset: (v: unknown, of: unknown) =>
    Array.isArray(v) && Array.isArray(of) && of.every((x) => v.includes(x)),
};
tests.success = tests.succeeded!;
tests.failure = tests.failed!;
tests.change = tests.changed!;
tests.skip = tests.skipped!;
tests.eq = tests.equalto!;
