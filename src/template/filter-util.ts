// Helpers shared by the filter files (filters.ts, jinja-filters.ts, set-filters.ts, text-filters.ts):
// Jinja's calling convention and the coercions Ansible's filters apply to their input.
import { TemplateError } from './errors.js';
import { type Kwargs, pyRepr } from './python.js';

/** `this` inside a filter: the nunjucks render context, whose env resolves other filters and tests. */
export interface FilterThis {
  env: { getFilter(name: string): Filter; getTest(name: string): Filter };
}
export type Filter = (this: FilterThis, value: never, ...args: never[]) => unknown;

/** An argument by position, else by keyword, else a default (Jinja's calling convention). */
export function arg<T>(positional: unknown[], kw: Kwargs, index: number, name: string, dflt: T): T {
  if (positional.length > index) return positional[index] as T;
  if (name in kw) return kw[name] as T;
  return dflt;
}

/** `a.b.0` on an item, as Jinja's attribute= does (a digit indexes a list; own data only). */
export function attrPath(item: unknown, path: string): unknown {
  let v: unknown = item;
  for (const part of path.split('.')) {
    if (v === null || v === undefined) return undefined;
    const key = /^\d+$/.test(part) && Array.isArray(v) ? Number(part) : part;
    // Own data only: an attribute name never reaches JavaScript (`constructor`, `__proto__`).
    v = typeof v === 'object' && Object.hasOwn(v, key) ? (v as Kwargs)[key] : undefined;
  }
  return v;
}

/** Python's list(v): a list as is, a string's characters, a mapping's keys. */
export function asList(v: unknown, filter: string): unknown[] {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return [...v];
  if (v && typeof v === 'object') return Object.keys(v);
  throw new TemplateError(`${filter}: expected a list, got ${pyRepr(v)}`);
}

export function isDict(v: unknown): v is Kwargs {
  return !!v && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v);
}

export function asDict(v: unknown, filter: string): Kwargs {
  if (isDict(v)) return v;
  throw new TemplateError(`${filter}: expected a dictionary, got ${pyRepr(v)}`);
}

/** A string for a value such that equal values (as Python compares them) give equal keys. */
export function stableKey(v: unknown): string {
  return typeof v === 'string' ? `s${v}` : `j${JSON.stringify(v)}`;
}
