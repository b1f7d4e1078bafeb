// What every piece of the loader shares: the problems and sources of one load, reading a file, checking
// keyword values, and the interface the pieces call each other through (tasks.ts implements it), so that no
// piece imports one that imports it: plays.ts -> tasks.ts -> roles.ts, includes.ts, module-args.ts -> here.
import { statSync } from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import type { ErrorObject } from 'ajv';
import { isMap, isScalar, isSeq, type Pair, type Node as YamlNode } from 'yaml';
import type { Node, TaskNode } from '../core/model.js';
import type { Problem, SourcePos } from '../core/problems.js';
import { explainErrors, pathText, type Subject, validatorFor } from './check.js';
import type { Keyword } from './keywords.js';
import type { ModuleRegistry } from './registry.js';
import { mapPair, readYaml, type YamlPath, type YamlSource } from './yaml.js';

/** A file the loader read, with the scalars that are bare expressions (when:, until: ...) rather than templates. */
export interface LoadedSource {
  src: YamlSource;
  expressions: Set<YamlNode>;
}

export interface LoadResult<T> {
  value: T;
  /** All problems of all files read, sorted by file (in reading order), line and column. */
  problems: Problem[];
  sources: LoadedSource[];
}

/** What the pieces of the loader ask of the task loader (tasks.ts), which composes them. */
export interface TaskLoading {
  /** The tasks of a YAML sequence (a tasks:, block: or handlers: section, a task-list argument). */
  taskList(loaded: LoadedSource, seq: { items: unknown[] }, handlers: boolean): Promise<Node[]>;
  /** A task file's tasks, loaded once per path; undefined when unreadable or part of a cycle. */
  taskFile(file: string, from?: SourcePos): Promise<Node[] | undefined>;
  /** A handlers: section (or a role's handlers file): module tasks only. */
  handlers(loaded: LoadedSource, node: unknown): Promise<TaskNode[]>;
}

/** Keywords whose values are bare expressions (`when: x == 1`), not templates. */
export const EXPRESSION_KEYWORDS = new Set(['when', 'changed_when', 'failed_when', 'until']);

/** The state of one load (a playbook, a task file, or one include_role at run time). */
export class LoadContext {
  readonly problems: Problem[] = [];
  readonly sources: LoadedSource[] = [];
  readonly moduleKeys: string[];
  /** Task files loaded, by path (a file included twice is read once). */
  readonly taskFiles = new Map<string, Node[]>();
  /** Task files being loaded, outermost first: an include of one of them is a cycle. */
  readonly taskFileStack: string[] = [];
  /** Playbook files being loaded (absolute), outermost first: an import of one of them is a cycle. */
  readonly playbookStack: string[] = [];
  /** Where each item of a task's `notify:` was written, for the check that it names a handler. */
  readonly notifyPositions = new WeakMap<TaskNode, SourcePos[]>();

  constructor(
    readonly registry: ModuleRegistry,
    /** Relative names (task files, roles) are looked up from here: the directory of the playbook being read. */
    public playbookDir: string,
    /** Ansible's roles_path (ansible.cfg), searched after roles/ beside the playbook. */
    readonly rolesPath: string[] = [],
  ) {
    this.moduleKeys = registry.keys();
  }

  problem(pos: SourcePos, message: string, hint?: string): void {
    this.problems.push({ ...pos, message, ...(hint ? { hint } : {}) });
  }

  result<T>(value: T): LoadResult<T> {
    const order = new Map(this.sources.map((s, i) => [s.src.file, i]));
    const seen = new Set<string>();
    const problems = this.problems
      .filter((p) => {
        const key = `${p.file}:${p.line}:${p.col}:${p.message}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      })
      .sort(
        (a, b) =>
          (order.get(a.file) ?? -1) - (order.get(b.file) ?? -1) ||
          a.file.localeCompare(b.file) ||
          a.line - b.line ||
          a.col - b.col,
      );
    return { value, problems, sources: this.sources };
  }

  async read(file: string, from?: SourcePos): Promise<LoadedSource | undefined> {
    const src = await readYaml(displayName(file), this.problems, from);
    if (!src) return undefined;
    const loaded = { src, expressions: new Set<YamlNode>() };
    this.sources.push(loaded);
    // With syntax errors the structure is guesswork: report those alone.
    return src.broken ? undefined : loaded;
  }

  /** Checks a keyword's value against its schema; returns the plain value when valid. */
  keyword(loaded: LoadedSource, name: string, keyword: Keyword, pair: Pair): { ok: boolean; value: unknown } {
    const value = loaded.src.value(pair.value);
    const validate = validatorFor(keyword, () => keyword.schema);
    if (validate(value)) return { ok: true, value };
    this.problems.push(
      ...explainErrors(validate.errors ?? [], value, this.keywordSubject(loaded, name, keyword, pair)),
    );
    return { ok: false, value };
  }

  /**
   * Checks all keywords of a play or task with one validator per keyword table (one compile, not one per
   * keyword: start-up time matters for `ewsplay validate`); returns the valid values.
   */
  keywords(
    loaded: LoadedSource,
    table: Record<string, Keyword>,
    pairs: Map<string, Pair>,
  ): Map<string, unknown> {
    const values: Record<string, unknown> = {};
    for (const [key, pair] of pairs) values[key] = loaded.src.value(pair.value);
    const validate = validatorFor(table, () => tableSchema(table));
    const valid = new Map(Object.entries(values));
    if (validate(values)) return valid;
    const byKeyword = new Map<string, ErrorObject[]>();
    for (const e of validate.errors ?? []) {
      const key = e.instancePath.split('/')[1]!.replace(/~1/g, '/').replace(/~0/g, '~');
      const prefix = e.instancePath.split('/', 2).join('/');
      const schemaPrefix = `#/properties/${e.instancePath.split('/')[1]}`;
      const inner = {
        ...e,
        instancePath: e.instancePath.slice(prefix.length),
        schemaPath: `#${e.schemaPath.slice(schemaPrefix.length)}`,
      };
      byKeyword.set(key, [...(byKeyword.get(key) ?? []), inner]);
    }
    for (const [key, errors] of byKeyword) {
      valid.delete(key);
      const subject = this.keywordSubject(loaded, key, table[key]!, pairs.get(key)!);
      this.problems.push(...explainErrors(errors, values[key], subject));
    }
    return valid;
  }

  private keywordSubject(loaded: LoadedSource, name: string, keyword: Keyword, pair: Pair): Subject {
    const valueNode = pair.value ?? pair;
    return {
      locate: (path, key) => locateIn(loaded.src, valueNode, path, key),
      label: (path) => `'${pathText([name, ...path])}'`,
      unknownKey: (key) => `unknown key '${key}' in '${name}'`,
      missingKey: (key) => `'${name}' requires the key '${key}'`,
      expects: keyword.expects,
    };
  }
}

/** One schema for a whole keyword table (one compile, not one per keyword). */
export function tableSchema(table: Record<string, Keyword>): object {
  return {
    type: 'object',
    properties: Object.fromEntries(Object.entries(table).map(([name, k]) => [name, k.schema])),
  };
}

/** Paths in messages: relative to the working directory when below it, else absolute. */
export function displayName(file: string): string {
  if (!isAbsolute(file)) return file;
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

export function locateIn(src: YamlSource, from: unknown, path: YamlPath, key?: string): SourcePos {
  if (key === undefined) return src.posOf(path, from);
  const map = src.nodeAt(path, from);
  const pair = isMap(map) ? mapPair(map, key) : undefined;
  return pair ? src.pos(pair) : src.posOf(path, from);
}

/** Records the scalars of a when:/until: ... value as bare expressions (validate checks them as such). */
export function markExpressions(loaded: LoadedSource, node: unknown): void {
  if (isScalar(node)) loaded.expressions.add(node);
  else if (isSeq(node)) for (const item of node.items) if (isScalar(item)) loaded.expressions.add(item);
}

/** A YAML value that says nothing: absent, or an empty scalar (`tasks:` with nothing after it). */
export function isEmptyNode(node: unknown): boolean {
  return node === null || node === undefined || (isScalar(node) && node.value === null);
}

export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
