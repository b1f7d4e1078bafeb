// JavaScript has one number type; Python tells 1000.0 from 1000, and ansible-inventory prints an INI value
// `sci=1e3` as 1000.0. The values stay plain numbers everywhere (templates and modules see 1000); only
// where a number was written as a Python float is remembered, for output that shows Ansible's JSON:
//   - inside a list or dict value, by its container and key (the containers are shared, never copied, on
//     their way from the INI file to a host's variables);
//   - for a variable itself, by the source position of its definition, which the inventory keeps beside
//     the winning value when it merges a host's variables (Inventory.varSource).
import type { SourcePos } from '../core/problems.js';

const floatKeys = new WeakMap<object, Set<string | number>>();
const floatVars = new WeakSet<SourcePos>();

/** `container[key]` was written as a Python float. */
export function markPythonFloat(container: object, key: string | number): void {
  const keys = floatKeys.get(container) ?? new Set<string | number>();
  keys.add(key);
  floatKeys.set(container, keys);
}

export function isPythonFloat(container: object, key: string | number): boolean {
  return floatKeys.get(container)?.has(key) ?? false;
}

/** The variable defined at `pos` was written as a Python float. */
export function markPythonFloatVar(pos: SourcePos): void {
  floatVars.add(pos);
}

export function isPythonFloatVar(pos: SourcePos | undefined): boolean {
  return pos !== undefined && floatVars.has(pos);
}

/**
 * Python's repr of a float, as json.dumps writes it: the shortest digits that read back (as JavaScript's),
 * in exponent form below 1e-4 and from 1e16 (`1e-05`, `1e+16`), else with a `.0` when integral.
 */
export function pythonFloatText(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
  if (n === 0) return Object.is(n, -0) ? '-0.0' : '0.0';
  const [mantissa, exponentText] = n.toExponential().split('e') as [string, string];
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 16)
    return `${mantissa}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  const text = String(n);
  return text.includes('.') ? text : `${text}.0`;
}
