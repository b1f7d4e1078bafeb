// JSON as Python's json.dumps(indent=4) writes it, for output compared with ansible-inventory's: the same
// layout as JSON.stringify(value, null, 4), except numbers. A number is a float when it is not integral or
// was marked as written as a Python float (python-floats.ts), and is then written as Python does (1000.0,
// 1e-05, Infinity); an integer is written in full (no 1e+21).
import { isPythonFloat, pythonFloatText } from './python-floats.js';

export function pythonJson(value: unknown, indent = 4): string {
  return write(value, false, '', ' '.repeat(indent));
}

function numberText(n: number, float: boolean): string {
  if (float || !Number.isInteger(n)) return pythonFloatText(n);
  return Number.isSafeInteger(n) ? String(n) : BigInt(n).toString();
}

function write(value: unknown, float: boolean, at: string, step: string): string {
  if (typeof value === 'number') return numberText(value, float);
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  const inner = at + step;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const items = value.map((v, i) => inner + write(v, isPythonFloat(value, i), inner, step));
    return `[\n${items.join(',\n')}\n${at}]`;
  }
  const entries = Object.entries(value).filter(([, v]) => v !== undefined && typeof v !== 'function');
  if (entries.length === 0) return '{}';
  const items = entries.map(
    ([k, v]) => `${inner}${JSON.stringify(k)}: ${write(v, isPythonFloat(value, k), inner, step)}`,
  );
  return `{\n${items.join(',\n')}\n${at}}`;
}
