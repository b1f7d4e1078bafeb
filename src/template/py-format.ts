// Python's number formatting and ordering, for the Jinja filters that expose them: `'%05.2f' % x` (format),
// round(x, n) and sorted(). Rounding works on the exact binary value of a float and breaks ties to even, as
// Python does (round(2.5) is 2, '%.2f' % 0.125 is '0.12'); JavaScript's toFixed rounds ties up.
import { TemplateError } from './errors.js';
import { type Kwargs, pyRepr, pyStr } from './python.js';

/** |x| as num/den exactly (x finite). */
function exactFraction(x: number): [bigint, bigint] {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  const mantissa = biased === 0 ? fraction : fraction | (1n << 52n);
  const exp = (biased === 0 ? 1 : biased) - 1075;
  return exp >= 0 ? [mantissa << BigInt(exp), 1n] : [mantissa, 1n << BigInt(-exp)];
}

/** round(|x| * 10^places) to an integer, ties to even. */
function scaledRound(x: number, places: number): bigint {
  let [num, den] = exactFraction(x);
  if (places >= 0) num *= 10n ** BigInt(places);
  else den *= 10n ** BigInt(-places);
  let q = num / den;
  const twice = 2n * (num % den);
  if (twice > den || (twice === den && q % 2n === 1n)) q++;
  return q;
}

function nonFinite(x: number): string | undefined {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  return undefined;
}

const negative = (x: number) => x < 0 || Object.is(x, -0);

/** Python's '%.{places}f' % x. */
export function pyFixed(x: number, places: number): string {
  const bad = nonFinite(x);
  if (bad) return bad;
  const digits = scaledRound(x, places)
    .toString()
    .padStart(places + 1, '0');
  const body = places > 0 ? `${digits.slice(0, -places)}.${digits.slice(-places)}` : digits;
  return (negative(x) ? '-' : '') + body;
}

/** Python's '%.{places}e' % x: mantissa digits and the decimal exponent. */
function expParts(x: number, places: number): [string, number] {
  if (x === 0) return ['0'.repeat(places + 1), 0];
  let e = Math.floor(Math.log10(Math.abs(x)));
  for (;;) {
    const q = scaledRound(x, places - e).toString();
    if (q.length > places + 1) e++;
    else if (q.length < places + 1) e--;
    else return [q, e];
  }
}

function expString(x: number, places: number, upper: boolean): string {
  const bad = nonFinite(x);
  if (bad) return upper ? bad.toUpperCase() : bad;
  const [digits, e] = expParts(x, places);
  const mant = places > 0 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const exp = `${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  return `${negative(x) ? '-' : ''}${mant}${upper ? 'E' : 'e'}${exp}`;
}

/** Python's '%.{precision}g' % x (alt keeps trailing zeros, as the '#' flag does). */
function generalString(x: number, precision: number, alt: boolean, upper: boolean): string {
  const bad = nonFinite(x);
  if (bad) return upper ? bad.toUpperCase() : bad;
  const p = precision === 0 ? 1 : precision;
  const e = x === 0 ? 0 : expParts(x, p - 1)[1];
  const s = e >= -4 && e < p ? pyFixed(x, p - 1 - e) : expString(x, p - 1, upper);
  if (alt) return s;
  // Without '#', trailing zeros of the fraction go, and the point with them.
  const [mant = s, exp = ''] = s.split(/(?=[eE])/);
  return (mant.includes('.') ? mant.replace(/\.?0+$/, '') : mant) + exp;
}

/** Python's round(x, places) (Jinja's round filter, method 'common'). */
export function pyRound(x: number, places = 0): number {
  if (!Number.isFinite(x)) return x;
  const q = scaledRound(x, places);
  const sign = negative(x) ? '-' : '';
  return Number(places >= 0 ? `${sign}${q}e-${places}` : `${sign}${q}e${-places}`);
}

const SPEC = /%(?:\((\w*)\))?([#0\- +]*)(\*|\d+)?(?:\.(\*|\d*))?[hlL]?([diouxXeEfFgGcrsa%])/g;

function needNumber(conv: string, v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return Number(v);
  throw new TemplateError(
    `format: %${conv} format: a real number is required, not ${pyRepr(v)} (convert it with | int or | float first)`,
  );
}

/** One conversion of Python's `%` operator. */
function convert(conv: string, flags: string, precision: number | undefined, v: unknown): string {
  const alt = flags.includes('#');
  switch (conv) {
    case 's':
      return precision === undefined ? pyStr(v) : pyStr(v).slice(0, precision);
    case 'r':
    case 'a': {
      const r = pyRepr(v);
      return precision === undefined ? r : r.slice(0, precision);
    }
    case 'c':
      if (typeof v === 'string' && [...v].length === 1) return v;
      if (typeof v === 'number' && Number.isInteger(v)) return String.fromCodePoint(v);
      throw new TemplateError(`format: %c requires an integer or a single character, got ${pyRepr(v)}`);
    case 'd':
    case 'i':
    case 'u':
      return Math.trunc(needNumber(conv, v)).toString();
    case 'x':
    case 'X':
    case 'o': {
      const n = needNumber(conv, v);
      if (!Number.isInteger(n))
        throw new TemplateError(`format: %${conv} format: an integer is required, got ${pyRepr(v)}`);
      const digits = Math.abs(n).toString(conv === 'o' ? 8 : 16);
      const prefix = alt ? (conv === 'o' ? '0o' : conv === 'x' ? '0x' : '0X') : '';
      return `${n < 0 ? '-' : ''}${prefix}${conv === 'X' ? digits.toUpperCase() : digits}`;
    }
    case 'f':
    case 'F': {
      const s = pyFixed(needNumber(conv, v), precision ?? 6);
      return conv === 'F' ? s.toUpperCase() : alt && !s.includes('.') ? `${s}.` : s;
    }
    case 'e':
    case 'E':
      return expString(needNumber(conv, v), precision ?? 6, conv === 'E');
    default:
      return generalString(needNumber(conv, v), precision ?? 6, alt, conv === 'G');
  }
}

/** Width, sign and zero padding around a converted value. */
function pad(s: string, flags: string, width: number, numeric: boolean): string {
  let out = s;
  if (numeric && !out.startsWith('-')) {
    if (flags.includes('+')) out = `+${out}`;
    else if (flags.includes(' ')) out = ` ${out}`;
  }
  if (out.length >= width) return out;
  if (flags.includes('-')) return out.padEnd(width);
  if (numeric && flags.includes('0') && /\d/.test(out)) {
    const sign = /^[-+ ]/.test(out) ? out[0]! : '';
    const prefix = /^[-+ ]?(0[xXo])/.exec(out)?.[1] ?? '';
    const rest = out.slice(sign.length + prefix.length);
    return sign + prefix + rest.padStart(width - sign.length - prefix.length, '0');
  }
  return out.padStart(width);
}

/** Python's `template % args` (a tuple) or `template % mapping` (with %(name)s), as Jinja's format filter. */
export function pyPercent(template: string, args: unknown[], mapping?: Kwargs): string {
  let next = 0;
  const take = (): unknown => {
    if (next >= args.length) throw new TemplateError('format: not enough arguments for format string');
    return args[next++];
  };
  let usedMapping = false;
  const out = template.replace(
    SPEC,
    (_, name: string | undefined, flags: string, w?: string, p?: string, conv?: string) => {
      if (conv === '%') return '%';
      const width = w === '*' ? Number(take()) : Number(w ?? 0);
      const precision = p === '*' ? Number(take()) : p === undefined ? undefined : Number(p || 0);
      let v: unknown;
      if (name !== undefined) {
        if (!mapping) throw new TemplateError('format: %(name)s needs keyword arguments: format(name=value)');
        if (!Object.hasOwn(mapping, name))
          throw new TemplateError(`format: no keyword argument named '${name}'`);
        usedMapping = true;
        v = mapping[name];
      } else v = take();
      const numeric = !'srac'.includes(conv!);
      return pad(convert(conv!, flags, precision, v), flags, width, numeric);
    },
  );
  const stray = template.replace(SPEC, '');
  if (stray.includes('%'))
    throw new TemplateError(`format: incomplete or unsupported format in ${pyRepr(template)}`);
  if (!usedMapping && next < args.length)
    throw new TemplateError('format: not all arguments converted during string formatting');
  return out;
}

/** The name of a value's Python type, for error messages. */
export function pyTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return 'str';
  if (Array.isArray(v)) return 'list';
  return 'dict';
}

/**
 * Python's ordering (sorted(), min, max): numbers (and booleans) with numbers, strings by code point, lists
 * item by item. Anything else, or mixed types, raises as Python does ("'<' not supported ...").
 */
export function pyCompare(a: unknown, b: unknown, filter: string): number {
  const numA = typeof a === 'number' || typeof a === 'boolean';
  const numB = typeof b === 'number' || typeof b === 'boolean';
  if (numA && numB) return Number(a) - Number(b);
  if (typeof a === 'string' && typeof b === 'string') {
    if (a === b) return 0;
    const ca = [...a];
    const cb = [...b];
    for (let i = 0; i < Math.min(ca.length, cb.length); i++)
      if (ca[i] !== cb[i]) return ca[i]!.codePointAt(0)! - cb[i]!.codePointAt(0)!;
    return ca.length - cb.length;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = pyCompare(a[i], b[i], filter);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  }
  throw new TemplateError(
    `${filter}: cannot compare ${pyRepr(a)} (${pyTypeName(a)}) with ${pyRepr(b)} (${pyTypeName(b)}); ` +
      'the items must be all numbers, all strings or all lists',
  );
}
