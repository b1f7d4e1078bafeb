// A task's module arguments: the mapping or key=value string under the module key, merged with `args:`,
// aliases renamed, checked against the module's schema (templated values wait for the run), each problem
// at the word it is about; and local_action's module with its arguments.
import { isMap, isScalar, isSeq, Pair, Scalar, YAMLMap, type Node as YamlNode } from 'yaml';
import type { Vars } from '../core/model.js';
import type { SourcePos } from '../core/problems.js';
import { closest } from '../core/suggest.js';
import type { Module } from '../modules/module.js';
import { explainErrors, kindOf, pathText, type Subject, validatorFor, withoutTemplated } from './check.js';
import {
  COMMAND_OPTIONS,
  convertArg,
  type KeyValueArgs,
  KeyValueSyntaxError,
  parseKeyValue,
} from './key-value-args.js';
import { type LoadContext, type LoadedSource, locateIn, type TaskLoading } from './loader-context.js';
import { mapPair, type YamlSource } from './yaml.js';

/** A module key of a task: as written, its module, and its pair in the task's mapping. */
export interface ModuleUse {
  key: string;
  module: Module;
  pair: Pair;
}

export class ModuleArgs {
  constructor(
    private readonly ctx: LoadContext,
    /** Loads the task lists some modules take as arguments (manual's verify:). */
    private readonly tasks: TaskLoading,
  ) {}

  /**
   * Ansible's local_action: the module and its arguments under one key (`local_action: command ./x` or
   * `local_action: { module: command, cmd: ./x }`), run as delegate_to: localhost.
   */
  localAction(src: YamlSource, pair: Pair): ModuleUse | undefined {
    const node = pair.value;
    let name: string | undefined;
    let args: unknown;
    if (isScalar(node) && typeof node.value === 'string') {
      const head = /^\s*(\S+)\s*/.exec(node.value);
      name = head?.[1];
      const rest = new Scalar(node.value.slice(head?.[0].length ?? 0));
      // Where the arguments start in the file, so their problems point at the word.
      const start = (node.range?.[0] ?? 0) + (node.type === 'PLAIN' ? 0 : 1) + (head?.[0].length ?? 0);
      rest.type = 'PLAIN';
      rest.range = [start, start + rest.value.length, start + rest.value.length];
      args = rest;
    } else if (isMap(node)) {
      const modulePair = mapPair(node, 'module');
      name = modulePair && isScalar(modulePair.value) ? String(modulePair.value.value) : undefined;
      const rest = new YAMLMap();
      rest.items = node.items.filter((p) => p !== modulePair);
      rest.range = node.range;
      args = rest;
    }
    const module = name === undefined ? undefined : this.ctx.registry.resolve(name);
    if (module && name) return { key: name, module, pair: new Pair(pair.key, args) };
    const guess = name === undefined ? undefined : closest(name, this.ctx.moduleKeys);
    this.ctx.problem(
      src.pos((node as YamlNode | null) ?? pair),
      name === undefined ? 'local_action names no module' : `unknown module '${name}' in local_action`,
      guess
        ? `did you mean '${guess}'?`
        : "write 'local_action: MODULE ARGS' or a mapping with 'module:' (or use the module key with delegate_to: localhost)",
    );
    return undefined;
  }

  /** The module's args: the mapping (or free-form string) under its key, merged with `args:`. */
  async moduleArgs(
    loaded: LoadedSource,
    { key, module, pair }: ModuleUse,
    argsPair: Pair | undefined,
    argsKeyword: Vars | undefined,
  ): Promise<Vars | undefined> {
    const { src } = loaded;
    const node = pair.value as YamlNode | null;
    const raw = src.value(node);
    let inline: Vars;
    // Where each key=value argument was written (the short form has no YAML node per argument).
    let wordPos = new Map<string, SourcePos>();
    if (raw === null || raw === undefined) inline = {};
    else if (typeof raw === 'string') {
      const short = this.keyValueArgs(src, key, module, node ?? pair, raw);
      if (!short) return undefined;
      ({ args: inline, positions: wordPos } = short);
    } else if (isMap(node) || (raw !== null && typeof raw === 'object' && !Array.isArray(raw)))
      inline = raw as Vars;
    else {
      this.ctx.problem(
        src.pos(node ?? pair),
        `module '${key}' takes a mapping of arguments, got ${kindOf(raw)}`,
        module.freeForm
          ? `write the ${module.freeForm} as a string, or its arguments as 'key: value' lines under '${key}:'`
          : `write each argument as 'key: value' on its own line under '${key}:'`,
      );
      return undefined;
    }
    const inlineMap = isMap(node) ? node : undefined;
    const argsMap = isMap(argsPair?.value) ? (argsPair.value as YAMLMap) : undefined;
    // A key as written: under the module key (mapping or key=value), or under `args:`.
    const writtenAt = (name: string): SourcePos | undefined => {
      const at = wordPos.get(name);
      if (at) return at;
      const found = (inlineMap && mapPair(inlineMap, name)) || (argsMap && mapPair(argsMap, name));
      return found ? src.pos(found) : undefined;
    };
    const merged = { ...(argsKeyword ?? {}), ...inline };
    const { args, writtenAs } = this.canonicalArgs(key, module, merged, writtenAt);
    const written = (name: string | number | undefined) =>
      name === undefined ? undefined : (writtenAs.get(String(name)) ?? String(name));
    const validate = validatorFor(module, () => loaderArgsSchema(module));
    // Each argument is found where it was written: under the module key or under `args:`.
    const sourceOf = (name: string | undefined): unknown =>
      name !== undefined && inlineMap && mapPair(inlineMap, name)
        ? inlineMap
        : name !== undefined && argsMap && mapPair(argsMap, name)
          ? argsMap
          : (inlineMap ?? argsMap);
    const errors = validate(args) ? [] : withoutTemplated(validate.errors ?? [], args);
    if (errors.length > 0) {
      const subject: Subject = {
        locate: (path, k) => {
          const name = written(path.length > 0 ? path[0] : k);
          const word = name !== undefined ? wordPos.get(name) : undefined;
          if (word) return word;
          if (!inlineMap && !argsMap) return src.pos(node ?? pair);
          if (path.length === 0 && k === undefined) return src.pos(pair);
          const from = sourceOf(name);
          const writtenPath = path.length > 0 ? [name!, ...path.slice(1)] : path;
          return from ? locateIn(src, from, writtenPath, path.length > 0 ? k : name) : src.pos(pair);
        },
        label: (path) => (path.length === 0 ? `module '${key}'` : `'${pathText(path)}'`),
        unknownKey: (k) => `unknown argument '${k}' for module '${key}'`,
        missingKey: (k) => `module '${key}' requires the argument '${k}'`,
      };
      this.ctx.problems.push(...explainErrors(errors, args, subject));
    }
    // Nested task lists (manual's verify:) become nodes, loaded and checked like any tasks.
    for (const name of module.taskListArgs ?? []) {
      if (!(name in args)) continue;
      const from = sourceOf(written(name));
      const listNode = from ? (mapPair(from as YAMLMap, written(name)!)?.value ?? null) : null;
      if (isSeq(listNode)) args[name] = await this.tasks.taskList(loaded, listNode, false);
    }
    return args;
  }

  /**
   * Ansible's short form: `msg="hi {{ who }}" verbosity=1`; for command and shell, the command line with
   * its options (creates=, chdir= ...) taken out. Values are converted to the argument's type.
   */
  private keyValueArgs(
    src: YamlSource,
    key: string,
    module: Module,
    at: YamlNode | Pair,
    text: string,
  ): { args: Vars; positions: Map<string, SourcePos> } | undefined {
    let parsed: KeyValueArgs;
    try {
      parsed = parseKeyValue(text, module.commandLine ? COMMAND_OPTIONS : undefined);
    } catch (e) {
      if (!(e instanceof KeyValueSyntaxError)) throw e;
      // Deviation from Ansible, which refuses the task: an apostrophe in a shell script's comment is not a
      // mistake, so a command line that cannot be split is taken whole, as written.
      if (module.freeForm) return { args: { [module.freeForm]: text }, positions: new Map() };
      this.ctx.problem(
        src.pos(at),
        `cannot split the arguments of '${key}' into key=value words: ${e.message}`,
        `close it, or write the arguments as 'key: value' lines under '${key}:'`,
      );
      return undefined;
    }
    const wordAt = wordLocator(src, at, text);
    const properties = (module.args.properties ?? {}) as Record<string, unknown>;
    const args: Vars = {};
    const positions = new Map<string, SourcePos>();
    for (const [name, { value, offset }] of parsed.options) {
      args[name] = convertArg(value, properties[module.aliases?.[name] ?? name]);
      positions.set(name, wordAt(offset));
    }
    if (module.freeForm) {
      if (parsed.rawText.trim() !== '') args[module.freeForm] = parsed.rawText;
    } else if (parsed.raw.length > 0) {
      const word = parsed.raw[0]!;
      const example = ((module.args.required as string[] | undefined) ?? [])[0] ?? 'name';
      this.ctx.problem(
        wordAt(word.offset),
        `module '${key}' takes key=value arguments, and '${word.text}' is not one`,
        `write ${example}=..., or the arguments as 'key: value' lines under '${key}:'`,
      );
      return undefined;
    }
    return { args, positions };
  }

  /** Ansible's argument aliases (file's dest and name for path ...) renamed to the argument they stand for. */
  private canonicalArgs(
    key: string,
    module: Module,
    given: Vars,
    writtenAt: (name: string) => SourcePos | undefined,
  ): { args: Vars; writtenAs: Map<string, string> } {
    const writtenAs = new Map<string, string>();
    const aliases = module.aliases;
    if (!aliases) return { args: given, writtenAs };
    const args: Vars = {};
    for (const [name, value] of Object.entries(given)) {
      const canonical = aliases[name] ?? name;
      const earlier = canonical in args ? (writtenAs.get(canonical) ?? canonical) : undefined;
      if (earlier !== undefined) {
        const at = writtenAt(name) ?? writtenAt(earlier);
        if (at)
          this.ctx.problem(
            at,
            `'${earlier}' and '${name}' are the same argument of module '${key}' ('${canonical}')`,
            `give only one of them`,
          );
        continue;
      }
      args[canonical] = value;
      if (canonical !== name) writtenAs.set(canonical, name);
    }
    return { args, writtenAs };
  }
}

/** The args schema the loader validates: task-list args are checked as tasks separately, so only their shape here. */
export function loaderArgsSchema(module: Module): object {
  const lists = module.taskListArgs ?? [];
  if (lists.length === 0) return module.args;
  const properties = { ...((module.args.properties as Record<string, object> | undefined) ?? {}) };
  for (const name of lists) properties[name] = { type: 'array' };
  return { ...module.args, properties };
}

/**
 * Run time: arguments written as templates, checked against the module's schema once rendered (the loader
 * skipped them). A message for people, or undefined when they fit.
 */
export function renderedArgsProblem(module: Module, args: Vars, at: SourcePos): string | undefined {
  const validate = validatorFor(module, () => loaderArgsSchema(module));
  if (validate(args)) return undefined;
  const subject: Subject = {
    locate: () => at,
    label: (path) => (path.length === 0 ? `module '${module.name}'` : `'${pathText(path)}'`),
    unknownKey: (k) => `unknown argument '${k}' for module '${module.name}'`,
    missingKey: (k) => `module '${module.name}' requires the argument '${k}'`,
  };
  return explainErrors(validate.errors ?? [], args, subject)
    .map((p) => `${p.message} once rendered${p.hint ? ` (${p.hint})` : ''}`)
    .join('; ');
}

/** Maps an offset into a key=value string to file:line:col when the string is written as is (one line). */
function wordLocator(src: YamlSource, at: YamlNode | Pair, text: string): (offset: number) => SourcePos {
  if (isScalar(at) && at.range) {
    const start = at.type === 'PLAIN' ? at.range[0] : at.range[0] + 1;
    if (src.text.slice(start, start + text.length) === text) return (offset) => src.pos(start + offset);
  }
  return () => src.pos(at);
}
