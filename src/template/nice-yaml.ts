// to_nice_yaml as Ansible writes it (PyYAML's block style, keys sorted): a list under a key is not indented
// ("indentless"), nested mappings are indented by `indent` (4 by default), and a mapping inside a list starts
// on the dash's line, padded to the indent ("-   d: 1" at 4). Scalars follow YAML 1.1, as PyYAML reads
// them: strings that would read as another type ('yes', '1.0', '0755') are single-quoted.
// Deviation: PyYAML folds long plain strings at 80 columns and writes multi-line strings quoted; here long
// strings stay on one line and multi-line strings are block literals (`|-`), which read back the same.
import { createRequire } from 'node:module';
import { TemplateError } from './errors.js';

type YamlLib = typeof import('yaml');
let yamlModule: YamlLib | undefined;
function yamlLib(): YamlLib {
  yamlModule ??= createRequire(import.meta.url)('yaml') as YamlLib;
  return yamlModule;
}

const isMapping = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v);

const nonEmpty = (v: unknown): boolean =>
  Array.isArray(v) ? v.length > 0 : isMapping(v) ? Object.keys(v).length > 0 : false;

export function niceYaml(value: unknown, indent = 4): string {
  if (!Number.isInteger(indent) || indent < 2 || indent > 9)
    throw new TemplateError(`to_nice_yaml: indent must be an integer from 2 to 9, got ${String(indent)}`);
  const scalar = (v: unknown, col: number): string => {
    if (Array.isArray(v)) return '[]';
    if (isMapping(v)) return '{}';
    // YAML 1.1 lists y/n as booleans, but PyYAML's resolver does not: it writes them plain.
    if (typeof v === 'string' && /^[yYnN]$/.test(v)) return v;
    const text = yamlLib()
      .stringify(v, { version: '1.1', singleQuote: true, lineWidth: 0, indent })
      .replace(/\n$/, '');
    // A block literal's lines are indented relative to the start of the line that holds it.
    return text.includes('\n') ? text.replace(/\n/g, `\n${' '.repeat(col)}`) : text;
  };
  const pad = (n: number) => ' '.repeat(n);

  const mapping = (m: Record<string, unknown>, col: number): string[] => {
    const lines: string[] = [];
    for (const key of Object.keys(m).sort()) {
      const v = m[key];
      const k = scalar(key, col);
      if (Array.isArray(v) && v.length > 0) lines.push(`${pad(col)}${k}:`, ...sequence(v, col));
      else if (isMapping(v) && nonEmpty(v)) lines.push(`${pad(col)}${k}:`, ...mapping(v, col + indent));
      else lines.push(`${pad(col)}${k}: ${scalar(v, col + indent)}`);
    }
    return lines;
  };

  const sequence = (a: unknown[], col: number): string[] => {
    const lines: string[] = [];
    for (const item of a) {
      if (nonEmpty(item)) {
        const inner = Array.isArray(item)
          ? sequence(item, col + indent)
          : mapping(item as Record<string, unknown>, col + indent);
        const [first, ...rest] = inner;
        lines.push(`${pad(col)}-${pad(indent - 1)}${first!.slice(col + indent)}`, ...rest);
      } else lines.push(`${pad(col)}- ${scalar(item, col + indent)}`);
    }
    return lines;
  };

  if (Array.isArray(value) && value.length > 0) return `${sequence(value, 0).join('\n')}\n`;
  if (isMapping(value) && nonEmpty(value)) return `${mapping(value, 0).join('\n')}\n`;
  return `${scalar(value, 0)}\n`;
}
