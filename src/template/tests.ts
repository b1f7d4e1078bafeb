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

export const tests: Record<string, Test> = {
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
