// FindItem restrictions and sort orders of the fake EWS, evaluated as Exchange's store evaluates them:
// string comparisons in property restrictions (IsEqualTo, IsLessThan, ...) ignore case, as the store's
// collation does; Contains reads ContainmentMode (default FullString) and ContainmentComparison (default
// Exact); a property an item does not have matches no comparison and fails Exists.
import type { FakeEvent } from './ews-mailbox.js';
import { MessageError } from './ews-soap.js';
import { child, type XmlElement } from './xml.js';

export type Value = string | Date | undefined;
/** How a restriction reads an object's properties, by FieldURI. */
export type FieldReaders<T> = Record<string, (x: T) => Value>;

/** The properties the fake stores on items, by FieldURI. */
export const ITEM_FIELDS: FieldReaders<FakeEvent> = {
  'item:Subject': (ev) => ev.subject,
  'item:Body': (ev) => ev.body,
  'item:ItemClass': () => 'IPM.Appointment',
  'item:DateTimeCreated': (ev) => ev.created,
  'item:DateTimeReceived': (ev) => ev.created,
  'calendar:Start': (ev) => ev.start,
  'calendar:End': (ev) => ev.end,
};

const COMPARISONS: Record<string, (c: number) => boolean> = {
  IsEqualTo: (c) => c === 0,
  IsNotEqualTo: (c) => c !== 0,
  IsGreaterThan: (c) => c > 0,
  IsGreaterThanOrEqualTo: (c) => c >= 0,
  IsLessThan: (c) => c < 0,
  IsLessThanOrEqualTo: (c) => c <= 0,
};

const CONTAINMENT_MODES = new Set(['FullString', 'Prefixed', 'Substring', 'PrefixOnWords', 'ExactPhrase']);

/** Compiles the Restriction element's one search expression into a predicate. */
export function compileRestriction<T>(restriction: XmlElement, fields: FieldReaders<T>): (x: T) => boolean {
  const expression = restriction.children[0];
  if (!expression) return () => true;
  return compile(expression, fields);
}

function compile<T>(expr: XmlElement, fields: FieldReaders<T>): (x: T) => boolean {
  if (expr.local === 'And' || expr.local === 'Or') {
    const parts = expr.children.map((c) => compile(c, fields));
    return expr.local === 'And' ? (ev) => parts.every((p) => p(ev)) : (ev) => parts.some((p) => p(ev));
  }
  if (expr.local === 'Not') {
    const inner = expr.children[0];
    if (!inner) throw invalidRestriction();
    const p = compile(inner, fields);
    return (ev) => !p(ev);
  }
  const field = fieldOf(expr, fields);
  if (expr.local === 'Exists') return (ev) => field(ev) !== undefined;
  if (expr.local === 'Contains') return containsPredicate(expr, field);
  const relation = COMPARISONS[expr.local];
  if (relation) {
    const constant = child(child(expr, 'FieldURIOrConstant'), 'Constant')?.attrs.Value;
    if (constant === undefined) throw invalidRestriction();
    return (ev) => {
      const value = field(ev);
      return value !== undefined && relation(compare(value, constant));
    };
  }
  // Excludes (bitmask tests) and anything newer: no stored property of the fake is a bitmask.
  throw new MessageError(
    'ErrorUnsupportedQueryFilter',
    `The restriction contains a query filter that is not supported: ${expr.local}.`,
  );
}

function containsPredicate<T>(expr: XmlElement, field: (x: T) => Value): (x: T) => boolean {
  const mode = expr.attrs.ContainmentMode ?? 'FullString';
  if (!CONTAINMENT_MODES.has(mode)) throw invalidRestriction();
  const comparison = expr.attrs.ContainmentComparison ?? 'Exact';
  const fold = folding(comparison);
  const wanted = fold(child(expr, 'Constant')?.attrs.Value ?? '');
  return (ev) => {
    const raw = field(ev);
    if (typeof raw !== 'string') return false;
    const value = fold(raw);
    switch (mode) {
      case 'Prefixed':
        return value.startsWith(wanted);
      case 'Substring':
        return value.includes(wanted);
      case 'PrefixOnWords':
        return value.split(/\s+/).some((word) => word.startsWith(wanted));
      case 'ExactPhrase':
        return ` ${value.split(/\s+/).join(' ')} `.includes(` ${wanted.split(/\s+/).join(' ')} `);
      default:
        return value === wanted;
    }
  };
}

function folding(comparison: string): (s: string) => string {
  const ignoreCase = /IgnoreCase|Loose/.test(comparison);
  const ignoreNonSpacing = /NonSpac|Loose/.test(comparison);
  return (s) => {
    let out = ignoreNonSpacing ? s.normalize('NFD').replace(/\p{Mn}/gu, '') : s;
    if (ignoreCase) out = out.toLowerCase();
    return out;
  };
}

function fieldOf<T>(expr: XmlElement, fields: FieldReaders<T>): (x: T) => Value {
  const uri = child(expr, 'FieldURI')?.attrs.FieldURI;
  if (uri === undefined) {
    // IndexedFieldURI / ExtendedFieldURI: properties the fake's items never carry.
    if (child(expr, 'IndexedFieldURI') || child(expr, 'ExtendedFieldURI')) return () => undefined;
    throw invalidRestriction();
  }
  return fields[uri] ?? (() => undefined);
}

function compare(value: string | Date, constant: string): number {
  if (value instanceof Date) {
    const other = new Date(constant).getTime();
    if (Number.isNaN(other)) throw invalidRestriction();
    return Math.sign(value.getTime() - other);
  }
  return value.localeCompare(constant, 'en', { sensitivity: 'accent' });
}

function invalidRestriction(): MessageError {
  return new MessageError('ErrorInvalidRestriction', 'The restriction is invalid.');
}

/** A comparator for SortOrder's FieldOrder elements; items without the property sort first, as in the store. */
export function compileSortOrder<T>(
  sortOrder: XmlElement | undefined,
  fields: FieldReaders<T>,
): ((a: T, b: T) => number) | undefined {
  const orders = sortOrder?.children.filter((c) => c.local === 'FieldOrder') ?? [];
  if (orders.length === 0) return undefined;
  const keys = orders.map((o) => ({
    field: fieldOf(o, fields),
    sign: o.attrs.Order === 'Descending' ? -1 : 1,
  }));
  return (a, b) => {
    for (const { field, sign } of keys) {
      const x = field(a);
      const y = field(b);
      const c =
        x === undefined || y === undefined
          ? Number(x !== undefined) - Number(y !== undefined)
          : x instanceof Date && y instanceof Date
            ? Math.sign(x.getTime() - y.getTime())
            : String(x).localeCompare(String(y), 'en', { sensitivity: 'accent' });
      if (c !== 0) return sign * c;
    }
    return 0;
  };
}
