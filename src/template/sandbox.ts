// A template is data, not a program: nothing a template names reaches JavaScript. nunjucks, left alone,
// lets `''.constructor.constructor("code")()` build and run a function. Here every way a template reads a
// value (a variable, an attribute or item, a call) goes through these guards:
// - attributes are the value's own data, or Python's string/list/dict methods (python.ts); never inherited
//   JavaScript properties, and never `constructor`, `__proto__`, `prototype` and friends;
// - the only functions a template may hold or call are the ones the templar hands out (filters, tests,
//   globals such as lookup and dict, Python methods, the template's own macros).
import { TemplateError } from './errors.js';
import type { NjRuntime } from './nunjucks.js';
import { NOT_FOUND, pyMember } from './python.js';

/** Names that lead from data to the JavaScript machinery, refused whatever the object. */
const FORBIDDEN = new Set([
  'constructor',
  '__proto__',
  'prototype',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
]);

const callable = new WeakSet<object>();

/** A name no template variable can have: a JavaScript object's own machinery (`constructor`, `toString`). */
export function isForbiddenName(name: string): boolean {
  return FORBIDDEN.has(name) || name in Object.prototype;
}

/** Lets templates call `fn` (the templar's own globals, macros, Python methods). */
export function allowCall<T extends object>(fn: T): T {
  callable.add(fn);
  return fn;
}

/** A value a template may hold: anything but a function the templar did not hand out. */
function guard(value: unknown): unknown {
  return typeof value === 'function' && !callable.has(value) ? undefined : value;
}

/** An attribute or item of `obj`, as Jinja reads `obj.name` / `obj[name]` on Python values. */
export function safeMember(obj: unknown, name: unknown): unknown {
  if (obj === null || obj === undefined) return undefined;
  if (typeof name === 'symbol') return undefined;
  if (typeof name === 'string' && FORBIDDEN.has(name)) return undefined;
  if ((typeof obj === 'object' || typeof obj === 'function') && Object.hasOwn(obj, name as PropertyKey))
    return guard((obj as Record<PropertyKey, unknown>)[name as PropertyKey]);
  const m = pyMember(obj, name);
  if (m === NOT_FOUND) return undefined;
  return typeof m === 'function' ? allowCall(m) : m;
}

type Lookup = (this: unknown, ...args: unknown[]) => unknown;

/**
 * Installs the guards on nunjucks' runtime (the compiled templates call these by name). `sliceLookup` is
 * the Jinja-compat lookup for slices (`s[1:3]`), the one case handed through.
 */
export function installSandbox(runtime: NjRuntime & Record<string, unknown>, sliceLookup: Lookup): void {
  runtime.memberLookup = function memberLookup(obj: unknown, name: unknown, ...slice: unknown[]) {
    if (slice.length > 0) {
      const items = sliceLookup.call(this, obj, name, ...slice);
      return typeof obj === 'string' ? (items as string[]).join('') : items;
    }
    return safeMember(obj, name);
  };
  const contextOrFrameLookup = runtime.contextOrFrameLookup as Lookup;
  runtime.contextOrFrameLookup = function lookupName(context: unknown, frame: unknown, name: unknown) {
    if (typeof name === 'string' && FORBIDDEN.has(name)) return undefined;
    const value = contextOrFrameLookup.call(this, context, frame, name);
    // A name found only on Object.prototype (toString, valueOf, hasOwnProperty) is no variable.
    if (typeof name === 'string' && name in Object.prototype && value === (Object.prototype as never)[name])
      return undefined;
    return guard(value);
  };
  runtime.callWrap = (fn: unknown, name: string, context: unknown, args: unknown[]) => {
    if (typeof fn !== 'function' || !callable.has(fn))
      throw new TemplateError(
        `'${name}' is not callable: a template calls filters, tests, lookups, its macros and Python's string, list and dict methods`,
      );
    return (fn as Lookup).apply(context, args);
  };
  const makeMacro = runtime.makeMacro as (...args: unknown[]) => object;
  runtime.makeMacro = (...args: unknown[]) => allowCall(makeMacro(...args));
}
