// Inventory and group_vars/host_vars files are read the way Ansible reads them (PyYAML, YAML 1.1: yes/no/on/off
// are booleans, 0644 is octal), so the same file yields the same values in both tools; positions come along.
import {
  type Document,
  isAlias,
  isScalar,
  LineCounter,
  type Node,
  parseDocument,
  type Tags,
  visit,
} from 'yaml';
import { withoutBom } from '../core/input-file.js';
import type { Problem, SourcePos } from '../core/problems.js';
import { resolveAliases } from '../core/yaml-aliases.js';
import { YAML_TOO_LARGE, yamlTooLargeAt } from '../core/yaml-size.js';

export interface YamlFile {
  file: string;
  text: string;
  doc: Document.Parsed;
  /** The text is not YAML at all (a syntax error); duplicate keys leave it usable. */
  broken: boolean;
  /** file:line:col of a node (its start) or of an offset. */
  pos(at: Node | number | null | undefined): SourcePos;
  /** The plain JS value of a node (aliases and merge keys resolved). */
  value(node: unknown): unknown;
  /** Follows an alias to the node it names. */
  deref(node: unknown): unknown;
}

const BOOL = 'tag:yaml.org,2002:bool';
const TIMESTAMP = 'tag:yaml.org,2002:timestamp';
const FLOAT = 'tag:yaml.org,2002:float';

// PyYAML differs from the yaml package's 1.1 schema where it matters here: `y`/`n` stay strings, an exponent
// needs a dot and a sign (`1e3` is a string, `1.0e+3` a float), and dates stay what they look like (Ansible
// prints a date as written; a JS Date would print as a timestamp).
const PYYAML_FLOAT_EXP = /^[-+]?(?:[0-9][0-9_]*)?\.[0-9_]*[eE][-+][0-9]+$/;

function ansibleTags(tags: Tags): Tags {
  return tags
    .filter((t) => typeof t === 'string' || t.tag !== TIMESTAMP)
    .map((t) => {
      if (typeof t === 'string' || !t.test) return t;
      if (t.tag === BOOL)
        return { ...t, test: new RegExp(t.test.source.replace(/^\^\(\?:[YN]\|[yn]\|/, '^(?:')) };
      if (t.tag === FLOAT && t.format === 'EXP') return { ...t, test: PYYAML_FLOAT_EXP };
      return t;
    });
}

export function parseYamlFile(file: string, given: string, problems: Problem[]): YamlFile {
  const text = withoutBom(given);
  const lines = new LineCounter();
  // Too many values to parse in time: parsed as empty, with the problem (the source counts as broken).
  const tooLargeAt = yamlTooLargeAt(text);
  const doc = parseDocument(tooLargeAt === undefined ? text : '', {
    lineCounter: lines,
    version: '1.1',
    prettyErrors: false,
    // Duplicates are found below, at the repeated key: the parser's own check points elsewhere for `key:`.
    uniqueKeys: false,
    customTags: ansibleTags,
  });
  const pos = (at: Node | number | null | undefined): SourcePos => {
    const offset = typeof at === 'number' ? at : (at?.range?.[0] ?? 0);
    const { line, col } = lines.linePos(offset);
    return { file, line, col };
  };
  if (tooLargeAt !== undefined) {
    for (let at = text.indexOf('\n'); at >= 0 && at < tooLargeAt; at = text.indexOf('\n', at + 1))
      lines.addNewLine(at + 1);
    problems.push({ ...pos(tooLargeAt), ...YAML_TOO_LARGE });
  }
  for (const error of doc.errors)
    problems.push({
      ...pos(error.pos[0]),
      message: /call stack/i.test(error.message)
        ? 'YAML syntax error: YAML is nested too deeply here'
        : `YAML syntax error: ${error.message}`,
    });
  const aliasesOk = doc.errors.length > 0 || resolveAliases(doc, pos, problems);
  // After resolveAliases a mapping may sit at several places (an alias names it): check it once.
  const checked = new WeakSet<object>();
  visit(doc, {
    Map(_, map) {
      if (checked.has(map)) return;
      checked.add(map);
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        if (seen.has(pair.key.value))
          problems.push({
            ...pos(pair.key),
            message: `duplicate key '${String(pair.key.value)}'`,
            hint: 'each key may appear only once in a mapping',
          });
        seen.add(pair.key.value);
      }
    },
  });
  const deref = (node: unknown): unknown => (isAlias(node) ? node.resolve(doc) : node);
  const value = (node: unknown): unknown =>
    node && typeof node === 'object' && 'toJS' in node ? (node as Node).toJS(doc) : node;
  const broken = doc.errors.length > 0 || !aliasesOk || tooLargeAt !== undefined;
  return { file, text, doc, broken, pos, value, deref };
}
