// Playbooks and task files are read the way Ansible reads them (PyYAML, YAML 1.1: yes/no/on/off are booleans,
// 0644 is octal), with positions kept so every problem points at file:line:col. Syntax errors and duplicate
// keys are all collected, never thrown one at a time.
import {
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  type Pair,
  parseDocument,
  type Scalar,
  type Tags,
  visit,
  type YAMLError,
  type YAMLMap,
} from 'yaml';
import { InputFileError, readInputText, withoutBom } from '../core/input-file.js';
import type { Problem, SourcePos } from '../core/problems.js';
import { resolveAliases } from '../core/yaml-aliases.js';
import { YAML_TOO_LARGE, yamlTooLargeAt } from '../core/yaml-size.js';

export type YamlPath = ReadonlyArray<string | number>;

export interface YamlSource {
  file: string;
  text: string;
  doc: Document.Parsed;
  /** The text has YAML syntax errors: its structure cannot be trusted (duplicate keys leave it usable). */
  broken: boolean;
  /** file:line:col (1-based) of a node's start, or of an offset into the text. */
  pos(at: Node | Pair | number | null | undefined): SourcePos;
  /** The plain JS value of a node (aliases and merge keys resolved). */
  value(node: unknown): unknown;
  /** The node a path names (map keys and sequence indexes), aliases followed; undefined when absent. */
  nodeAt(path: YamlPath, from?: unknown): Node | undefined;
  /** Position of the node a path names, or of its nearest existing ancestor. */
  posOf(path: YamlPath, from?: unknown): SourcePos;
}

const BOOL = 'tag:yaml.org,2002:bool';
const TIMESTAMP = 'tag:yaml.org,2002:timestamp';
const FLOAT = 'tag:yaml.org,2002:float';
// PyYAML differs from the yaml package's 1.1 schema where it matters: `y`/`n` stay strings, an exponent needs a
// dot and a sign, and dates stay strings (Ansible prints a date as written).
const PYYAML_FLOAT_EXP = /^[-+]?(?:[0-9][0-9_]*)?\.[0-9_]*[eE][-+][0-9]+$/;

function pyyamlTags(tags: Tags): Tags {
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

/** Hints for the parser's errors that people meet most. */
const SYNTAX_HINTS: Partial<Record<YAMLError['code'], string>> = {
  TAB_AS_INDENT: 'indent with spaces; YAML does not allow tabs for indentation',
  BAD_INDENT: 'items of one mapping or list must start in the same column, and brackets must be closed',
  MULTILINE_IMPLICIT_KEY: 'a key must fit on one line and end with ": "; check for a missing colon or quote',
  BLOCK_AS_IMPLICIT_KEY: 'quote a value that contains ": ", e.g. name: "Step: one"',
  UNEXPECTED_TOKEN: 'check the indentation and quoting of this line',
  MULTIPLE_DOCS: 'a playbook or task file holds one YAML document: remove the extra "---"',
};

/** The parser's words where they help people, ours where they name the parser's API. */
const SYNTAX_MESSAGES: Partial<Record<YAMLError['code'], string>> = {
  MULTIPLE_DOCS: 'the file holds more than one YAML document',
  BLOCK_AS_IMPLICIT_KEY: "a value cannot start another 'key: value' mapping on the same line",
};

function syntaxProblem(e: YAMLError, text: string): { offset: number; message: string; hint?: string } {
  // An unclosed quote is reported at the end of the file; the opening quote is where to look.
  const quote = e.code === 'MISSING_CHAR' ? /closing (["'])quote/.exec(e.message)?.[1] : undefined;
  if (quote) {
    const opening = text.lastIndexOf(quote, e.pos[0] - 1);
    return {
      offset: opening >= 0 ? opening : e.pos[0],
      message: 'YAML syntax error: this quote is never closed',
      hint: `add the closing ${quote} (or quote the value with the other kind of quote)`,
    };
  }
  // The parser recurses per level of nesting; a file nested deeper than the stack says so in JS terms.
  const words = /call stack/i.test(e.message)
    ? 'YAML is nested too deeply here'
    : (SYNTAX_MESSAGES[e.code] ?? e.message);
  const hint = SYNTAX_HINTS[e.code];
  return {
    offset: e.pos[0],
    message: `YAML syntax error: ${words.charAt(0).toLowerCase()}${words.slice(1)}`,
    ...(hint ? { hint } : {}),
  };
}

export function parseYaml(file: string, given: string, problems: Problem[]): YamlSource {
  // A byte order mark is no content (inventories and vars files accept it too).
  const text = withoutBom(given);
  const lines = new LineCounter();
  // Too many values to parse in time: parsed as empty, with the problem (the source counts as broken).
  const tooLargeAt = yamlTooLargeAt(text);
  const doc = parseDocument(tooLargeAt === undefined ? text : '', {
    lineCounter: lines,
    version: '1.1',
    prettyErrors: false,
    // Duplicates are found below, at the repeated key (the parser's own check points at the mapping).
    uniqueKeys: false,
    customTags: pyyamlTags,
  });
  const pos = (at: Node | Pair | number | null | undefined): SourcePos => {
    let offset = 0;
    if (typeof at === 'number') offset = at;
    else if (isPair(at)) offset = (at.key as Node | null)?.range?.[0] ?? 0;
    else if (at) offset = at.range?.[0] ?? 0;
    const { line, col } = lines.linePos(offset);
    return { file, line, col };
  };
  if (tooLargeAt !== undefined) {
    for (let at = text.indexOf('\n'); at >= 0 && at < tooLargeAt; at = text.indexOf('\n', at + 1))
      lines.addNewLine(at + 1);
    problems.push({ ...pos(tooLargeAt), ...YAML_TOO_LARGE });
  }
  const seen = new Set<string>();
  // An unknown tag is only a warning to the parser, and the value would be its text: a `!vault` value would
  // reach a task as ciphertext. Playbooks and task files are read without the vault password.
  for (const warning of doc.warnings) {
    if (warning.code !== 'TAG_RESOLVE_FAILED') continue;
    const vault = text.startsWith('!vault', warning.pos[0]);
    problems.push({
      ...pos(warning.pos[0]),
      message: vault
        ? '!vault values are read from vars files, not from playbooks or task files'
        : `unknown YAML tag '${text.slice(warning.pos[0], warning.pos[1])}'`,
      hint: vault
        ? 'move the variable to a vars file (vars_files, group_vars or host_vars), where the vault password opens it'
        : 'remove the tag; ewsplay knows the standard YAML tags (!!str, !!int ...)',
    });
  }
  for (const error of doc.errors) {
    const { offset, ...problem } = syntaxProblem(error, text);
    const at = pos(offset);
    // The parser often reports one mistake several times at one spot; once is enough.
    const key = `${at.line}:${at.col}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({ ...at, ...problem });
  }
  const aliasesOk = doc.errors.length > 0 || resolveAliases(doc, pos, problems);
  // After resolveAliases a mapping may sit at several places (an alias names it): check it once.
  const checked = new WeakSet<object>();
  visit(doc, {
    Map(_, map) {
      if (checked.has(map)) return;
      checked.add(map);
      const keys = new Set<unknown>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        if (keys.has(pair.key.value))
          problems.push({
            ...pos(pair.key),
            message: `duplicate key '${String(pair.key.value)}'`,
            hint: 'each key may appear only once in a mapping; the later one would silently win',
          });
        keys.add(pair.key.value);
      }
    },
  });
  const deref = (node: unknown): unknown => (isAlias(node) ? node.resolve(doc) : node);
  const value = (node: unknown): unknown => {
    const target = deref(node);
    return target && typeof target === 'object' && 'toJS' in target ? (target as Node).toJS(doc) : target;
  };
  const nodeAt = (path: YamlPath, from: unknown = doc.contents): Node | undefined => {
    let node = deref(from);
    for (const step of path) {
      if (isMap(node)) node = deref(mapPair(node, String(step))?.value);
      else if (isSeq(node) && typeof step === 'number') node = deref(node.items[step]);
      else return undefined;
      if (node === undefined || node === null) return undefined;
    }
    return (node ?? undefined) as Node | undefined;
  };
  const posOf = (path: YamlPath, from: unknown = doc.contents): SourcePos => {
    for (let n = path.length; n >= 0; n--) {
      const node = nodeAt(path.slice(0, n), from);
      if (node) return pos(node);
    }
    return pos(0);
  };
  const broken = doc.errors.length > 0 || !aliasesOk || tooLargeAt !== undefined;
  return { file, text, doc, broken, pos, value, nodeAt, posOf };
}

/** Reads and parses a file; a missing or unreadable file becomes a Problem at `from` (or the file itself). */
export async function readYaml(
  file: string,
  problems: Problem[],
  from?: SourcePos,
): Promise<YamlSource | undefined> {
  let text: string;
  try {
    text = await readInputText(file);
  } catch (e) {
    if (!(e instanceof InputFileError)) throw e;
    problems.push({
      ...(from ?? { file, line: 1, col: 1 }),
      message: e.message,
      ...(e.hint ? { hint: e.hint } : {}),
    });
    return undefined;
  }
  return parseYaml(file, text, problems);
}

/** The pair of a mapping whose key is `key` (the first one, as duplicates are reported separately). */
export function mapPair(map: YAMLMap, key: string): Pair<unknown, unknown> | undefined {
  return map.items.find((p) => (isScalar(p.key) ? String(p.key.value) : p.key) === key);
}

/** The key of a pair as a string (non-scalar keys yield undefined). */
export function pairKey(pair: Pair<unknown, unknown>): string | undefined {
  const key = pair.key;
  if (isScalar(key)) return key.value === null ? undefined : String(key.value);
  return undefined;
}

/** Scalar string nodes of a value, deep (for template checks); keys are skipped. */
export function stringScalars(node: unknown, out: Scalar<string>[] = []): Scalar<string>[] {
  if (isScalar(node)) {
    if (typeof node.value === 'string') out.push(node as Scalar<string>);
  } else if (isMap(node)) {
    for (const pair of node.items) stringScalars(pair.value, out);
  } else if (isSeq(node)) {
    for (const item of node.items) stringScalars(item, out);
  }
  return out;
}
