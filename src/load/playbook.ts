// Playbooks and task files -> the model the engine runs. The task shape (which key is the module, which are
// keywords) is checked here by hand so messages are precise; ajv checks each module's arguments and each
// keyword's value. Every problem of every file read is collected, then reported at once.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { ErrorObject } from 'ajv';
import { isMap, isScalar, isSeq, Pair, Scalar, YAMLMap, type Node as YamlNode } from 'yaml';
import type {
  BlockNode,
  IncludeNode,
  LoopControl,
  Node,
  NodeCommon,
  Play,
  Playbook,
  RoleFiles,
  RoleInfo,
  TaskNode,
  Vars,
  VarsPrompt,
} from '../core/model.js';
import { type Problem, type SourcePos, UserError } from '../core/problems.js';
import { closest, didYouMean } from '../core/suggest.js';
import type { Module } from '../modules/module.js';
import { explainErrors, kindOf, pathText, type Subject, validatorFor, withoutTemplated } from './check.js';
import {
  COMMAND_OPTIONS,
  convertArg,
  type KeyValueArgs,
  KeyValueSyntaxError,
  parseKeyValue,
} from './key-value-args.js';
import {
  BLOCK_KEYWORDS,
  BLOCK_SECTIONS,
  HANDLER_KEYWORDS,
  IMPORT_KEYWORDS,
  IMPORT_PLAYBOOK_KEYWORDS,
  IMPORT_PLAYBOOK_VALUE,
  INCLUDE_ACTIONS,
  INCLUDE_KEYWORDS,
  INCLUDE_VALUE,
  type Keyword,
  PLAY_KEYWORDS,
  ROLE_ACTION_VALUE,
  ROLE_ACTIONS,
  ROLE_KEYWORDS,
  TASK_KEYWORDS,
} from './keywords.js';
import { defaultRegistry, type ModuleRegistry } from './registry.js';
import { checkVarsFiles } from './vars-files-check.js';
import { mapPair, pairKey, readYaml, type YamlPath, type YamlSource } from './yaml.js';

export interface LoadOptions {
  registry?: ModuleRegistry;
  /** Directory whose tasks/ and ../tasks/ hold included task files (default: the loaded file's directory). */
  playbookDir?: string;
  /** Ansible's roles_path: directories searched for roles after roles/ beside the playbook. */
  rolesPath?: string[];
}

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

const ALL_TASK_KEYWORDS = new Set([
  ...Object.keys(HANDLER_KEYWORDS),
  ...Object.keys(BLOCK_KEYWORDS),
  ...Object.keys(INCLUDE_KEYWORDS),
]);
const EXPRESSION_KEYWORDS = new Set(['when', 'changed_when', 'failed_when', 'until']);
const LOOP_KEYWORDS = ['loop', 'with_list', 'with_items'] as const;
const TASK_SECTIONS = ['pre_tasks', 'tasks', 'post_tasks'];

/** Hints for keys people bring from Ansible features ewsplay does not have, or put at the wrong level. */
function foreignKeyHint(key: string): string | undefined {
  if (key.startsWith('with_'))
    return "write the loop as 'loop:' (with_items and with_list are understood; other with_* lookups are not)";
  if (key === 'include') return "use 'include_tasks:' or 'import_tasks:'";
  if (key === 'import_playbook' || key === 'ansible.builtin.import_playbook')
    return "import_playbook goes at the top level of a playbook, as a list item of its own ('- import_playbook: other.yml'), not inside a play";
  if (key === 'module_defaults')
    return 'not supported: write the arguments on each task (a YAML anchor can share them)';
  if (key === 'become_flags')
    return 'not supported: ewsplay runs sudo with its own flags (-S -k, password on stdin)';
  if (key === 'connection' || key === 'remote_user' || key === 'port')
    return 'set it on the play, or as ansible_connection / ansible_user / ansible_port in the inventory; to run one task on the control node, use delegate_to: localhost';
  if (key === 'roles') return "'roles' is a play keyword: list the roles there, or use import_role in a task";
  if (key === 'ignore_unreachable')
    return 'not supported: an unreachable host stays out of the rest of the play; wait_for_connection waits for a host that is expected back';
  return undefined;
}

const REPOSITORY_PACKAGES = new Set(['apt', 'yum', 'dnf', 'dnf5', 'zypper', 'apk', 'pip', 'snap']);
/** ansible.builtin modules ewsplay does not have (the repository package managers above aside). */
const OTHER_ANSIBLE_BUILTINS = new Set(
  'apt_key apt_repository assemble async_status cron deb822_repository debconf expect getent git hostname iptables known_hosts mount_facts package_facts reboot rpm_key service_facts subversion sysvinit validate_argument_spec yum_repository'.split(
    ' ',
  ),
);

/**
 * Hints for Ansible modules ewsplay does not have (under any collection name). `known`: a module Ansible
 * surely has, whose hint beats a "did you mean" (cron is not a typo of copy).
 */
function foreignModuleHint(key: string): { hint: string; known: boolean } | undefined {
  const name = key.slice(key.lastIndexOf('.') + 1);
  const instead = `ewsplay has no '${name}' module: run the tool with command or shell (creates:, removes: or changed_when: keep it idempotent); \`ewsplay schema\` lists the modules`;
  if (REPOSITORY_PACKAGES.has(name))
    return {
      hint: "ewsplay's package module installs a .deb or .rpm file (src: or path:); to install packages from a repository by name, use command (e.g. 'command: apt-get install -y NAME' with creates:) or shell with changed_when",
      known: true,
    };
  if (name.startsWith('win_'))
    return {
      hint: 'for a Windows host (ansible_shell_type: powershell), run the cmdlet with the powershell module',
      known: true,
    };
  if (OTHER_ANSIBLE_BUILTINS.has(name)) return { hint: instead, known: true };
  if (/^[a-z_]+$/.test(name) && key.includes('.')) return { hint: instead, known: false };
  return undefined;
}

class Loader {
  readonly problems: Problem[] = [];
  readonly sources: LoadedSource[] = [];
  private readonly taskFiles = new Map<string, Node[]>();
  /** Task files being loaded, outermost first: an include of one of them is a cycle. */
  private readonly stack: string[] = [];
  /** Playbook files being loaded (absolute), outermost first: an import of one of them is a cycle. */
  private readonly playbookStack: string[] = [];
  private readonly moduleKeys: string[];
  /** The roles of the play being loaded (or of one include_role loaded at run time). */
  private playRoles: PlayRoles = newPlayRoles();
  /** Roles being loaded, outermost first: their dependency chain, and a dependency cycle. */
  private readonly roleStack: { name: string; path: string }[] = [];
  /** A role's files read once (vars, defaults, meta), by path. */
  private readonly roleFiles = new Map<string, Promise<Vars | undefined>>();

  constructor(
    private readonly registry: ModuleRegistry,
    private playbookDir: string,
    /** Ansible's roles_path (ansible.cfg), searched after roles/ beside the playbook. */
    private readonly rolesPath: string[] = [],
  ) {
    this.moduleKeys = registry.keys();
  }

  private problem(pos: SourcePos, message: string, hint?: string): void {
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

  private async read(file: string, from?: SourcePos): Promise<LoadedSource | undefined> {
    const src = await readYaml(displayName(file), this.problems, from);
    if (!src) return undefined;
    const loaded = { src, expressions: new Set<YamlNode>() };
    this.sources.push(loaded);
    // With syntax errors the structure is guesswork: report those alone.
    return src.broken ? undefined : loaded;
  }

  async playbook(file: string): Promise<Playbook> {
    const plays = await this.plays(file);
    return { file, plays: plays ?? [] };
  }

  /** The plays of a playbook file, its import_playbook entries inlined in order; undefined when unreadable. */
  private async plays(file: string, from?: SourcePos): Promise<Play[] | undefined> {
    const loaded = await this.read(file, from);
    if (!loaded) return undefined;
    const plays: Play[] = [];
    const { src } = loaded;
    const root = src.doc.contents;
    if (root === null || (isScalar(root) && root.value === null)) {
      this.problem(
        src.pos(0),
        'the playbook is empty',
        "a playbook is a list of plays: start with '- hosts: all'",
      );
      return plays;
    }
    if (!isSeq(root)) {
      const looksLikePlay = isMap(root) && mapPair(root, 'hosts') !== undefined;
      this.problem(
        src.pos(root),
        `a playbook must be a list of plays, got ${kindOf(src.value(root))}`,
        looksLikePlay
          ? "start the play with '- ' to make it a list item: '- hosts: ...'"
          : "a playbook is a list of plays: '- hosts: all' then 'tasks:'",
      );
      return plays;
    }
    // Relative names inside this playbook (task files, roles) are looked up from its own directory, as
    // Ansible sets its base directory to the imported playbook's.
    const outerDir = this.playbookDir;
    const path = resolve(file);
    if (this.playbookStack.length > 0) this.playbookDir = dirname(path);
    this.playbookStack.push(path);
    try {
      for (const item of root.items) {
        if (!isMap(item)) {
          this.problem(src.pos(item as YamlNode), `a play must be a mapping, got ${kindOf(src.value(item))}`);
          continue;
        }
        const importPair =
          mapPair(item, 'import_playbook') ?? mapPair(item, 'ansible.builtin.import_playbook');
        if (importPair) {
          plays.push(...(await this.importPlaybook(loaded, item, importPair)));
          continue;
        }
        const play = await this.play(loaded, item);
        if (play) plays.push(play);
      }
    } finally {
      this.playbookStack.pop();
      this.playbookDir = outerDir;
    }
    return plays;
  }

  /**
   * `- import_playbook: other.yml`: the other playbook's plays, in order, with the import's vars (winning over
   * each play's own), tags (added) and when (put before the conditions of each play's tasks, as Ansible does).
   */
  private async importPlaybook(loaded: LoadedSource, map: YAMLMap, pair: Pair): Promise<Play[]> {
    const { src } = loaded;
    const present = new Map<string, Pair>();
    for (const p of map.items as Pair[]) {
      const key = pairKey(p);
      if (p === pair) continue;
      if (key === undefined || !IMPORT_PLAYBOOK_KEYWORDS[key]) {
        this.problem(
          src.pos(p),
          key === 'hosts' || (key !== undefined && PLAY_KEYWORDS[key])
            ? `'${key}' cannot go with import_playbook: an import is not a play`
            : `'${key ?? '?'}' is not allowed on import_playbook`,
          `beside import_playbook go only ${Object.keys(IMPORT_PLAYBOOK_KEYWORDS).join(', ')}; put a play in its own list item`,
        );
        continue;
      }
      if (p.value === null || src.value(p.value) === null) continue;
      if (key === 'when') markExpressions(loaded, p.value);
      present.set(key, p);
    }
    const values = this.keywords(loaded, IMPORT_PLAYBOOK_KEYWORDS, present);
    const { ok, value } = this.keyword(loaded, 'import_playbook', IMPORT_PLAYBOOK_VALUE, pair);
    if (!ok) return [];
    const name = value as string;
    const at = src.pos((pair.value as YamlNode | null) ?? pair);
    if (name.includes('{{')) {
      this.problem(
        at,
        'import_playbook needs a fixed file name',
        'name the playbook as written on disk; ewsplay imports playbooks while loading, before any variable exists',
      );
      return [];
    }
    const found = isAbsolute(name) ? name : resolve(dirname(this.playbookStack.at(-1)!), name);
    if (!existsSync(found)) {
      this.problem(at, `playbook '${name}' not found`, `looked in: ${displayName(found)}`);
      return [];
    }
    const cycleStart = this.playbookStack.indexOf(found);
    if (cycleStart >= 0) {
      const chain = [...this.playbookStack.slice(cycleStart), found].map(displayName);
      this.problem(
        at,
        `import_playbook cycle: ${chain.join(' -> ')}`,
        'a playbook must not import itself, directly or not',
      );
      return [];
    }
    const plays = (await this.plays(found, at)) ?? [];
    const vars = (values.get('vars') as Vars | undefined) ?? {};
    const tags = tagsOf(values.get('tags'));
    const when = conditionsOf(values.get('when'));
    const importedDir = dirname(found);
    return plays.map((play) => {
      const out: Play = {
        ...play,
        vars: { ...play.vars, ...vars },
        tags: [...new Set([...play.tags, ...tags])],
        // vars_files are read relative to the main playbook at run time: anchor the imported play's own.
        varsFiles: play.varsFiles.map((f) =>
          isAbsolute(f) || f.includes('{{') || importedDir === this.playbookDir ? f : join(importedDir, f),
        ),
      };
      if (when.length > 0)
        out.tasks = play.tasks.map((n) =>
          n.kind === 'task' && n.implicit ? n : { ...n, when: [...when, ...n.when] },
        );
      return out;
    });
  }

  /** A task file's tasks, loaded once per path; undefined when it cannot be read or is part of a cycle. */
  async taskFile(file: string, from?: SourcePos): Promise<Node[] | undefined> {
    const cached = this.taskFiles.get(file);
    if (cached) return cached;
    this.stack.push(file);
    try {
      const loaded = await this.read(file, from);
      if (!loaded) return undefined;
      const { src } = loaded;
      const root = src.doc.contents;
      let nodes: Node[] = [];
      if (root !== null && !(isScalar(root) && root.value === null)) {
        if (isSeq(root)) nodes = await this.taskList(loaded, root, false);
        else
          this.problem(
            src.pos(root),
            `a task file must be a list of tasks, got ${kindOf(src.value(root))}`,
            isMap(root) && mapPair(root, 'hosts')
              ? 'this looks like a playbook: run it with `ewsplay run`, or list only its tasks here'
              : "start each task with '- name: ...'",
          );
      }
      this.taskFiles.set(file, nodes);
      return nodes;
    } finally {
      this.stack.pop();
    }
  }

  /** Checks a keyword's value against its schema; returns the plain value when valid. */
  private keyword(
    loaded: LoadedSource,
    name: string,
    keyword: Keyword,
    pair: Pair,
  ): { ok: boolean; value: unknown } {
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
  private keywords(
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

  private async play(loaded: LoadedSource, map: YAMLMap): Promise<Play | undefined> {
    const { src } = loaded;
    const pos = src.pos(map);
    const present = new Map<string, Pair>();
    const taskSections = new Map<string, Pair>();
    let handlersNode: unknown;
    let handlersPair: Pair | undefined;
    for (const pair of map.items as Pair[]) {
      const key = pairKey(pair);
      if (key === undefined) {
        this.problem(src.pos(pair), 'a play keyword must be a plain name');
        continue;
      }
      const keyword = PLAY_KEYWORDS[key];
      if (!keyword) {
        this.unknownPlayKeyword(src, pair, key);
        continue;
      }
      if (key === 'handlers') {
        [handlersNode, handlersPair] = [pair.value, pair];
        continue;
      }
      if (TASK_SECTIONS.includes(key) || key === 'roles') {
        taskSections.set(key, pair);
        continue;
      }
      if (pair.value !== null && src.value(pair.value) !== null) present.set(key, pair);
    }
    const values = this.keywords(loaded, PLAY_KEYWORDS, present);
    const hostsValue = values.get('hosts');
    if (hostsValue === undefined && !mapPair(map, 'hosts'))
      this.problem(pos, "a play needs 'hosts:' (the hosts or groups it runs on)", "e.g. 'hosts: all'");
    const hosts = Array.isArray(hostsValue)
      ? hostsValue.join(',')
      : ((hostsValue as string | undefined) ?? '');
    const sections: Record<string, Node[]> = {};
    const playRoles = newPlayRoles();
    this.playRoles = playRoles;
    // Ansible's order: pre_tasks, roles, tasks, post_tasks (roles: and their dependencies once per play).
    for (const key of ['pre_tasks', 'roles', 'tasks', 'post_tasks']) {
      const pair = taskSections.get(key);
      if (key === 'roles') sections[key] = pair ? await this.playRolesSection(loaded, pair) : [];
      else sections[key] = pair ? await this.section(loaded, pair.value, `'${key}'`, false) : [];
    }
    const tasks = withHandlerFlushes(
      sections.pre_tasks!,
      [...sections.roles!, ...sections.tasks!],
      sections.post_tasks!,
      pos,
    );
    // Roles' handlers come before the play's own, as Ansible compiles them.
    const handlers = [
      ...playRoles.handlers,
      ...(handlersPair ? await this.handlers(loaded, handlersNode) : []),
    ];
    await this.checkVarsFiles(src, present.get('vars_files'), listOf(values.get('vars_files')));
    const play: Play = {
      name: (values.get('name') as string | undefined) ?? hosts,
      pos,
      hosts,
      vars: (values.get('vars') as Vars | undefined) ?? {},
      varsFiles: listOf(values.get('vars_files')),
      anyErrorsFatal: (values.get('any_errors_fatal') as boolean | undefined) ?? false,
      tags: tagsOf(values.get('tags')),
      tasks,
      handlers,
    };
    assignDefined(play, {
      become: values.get('become') as boolean | undefined,
      becomeUser: values.get('become_user') as string | undefined,
      environment: values.get('environment') as Vars | undefined,
      serial: values.get('serial') as Play['serial'],
      maxFailPercentage: values.get('max_fail_percentage') as number | undefined,
      checkMode: values.get('check_mode') as boolean | undefined,
      gatherFacts: values.get('gather_facts') as boolean | undefined,
      varsPrompt: values.get('vars_prompt') as VarsPrompt[] | undefined,
      connection: values.get('connection') as string | undefined,
      remoteUser: values.get('remote_user') as string | undefined,
      port: values.get('port') as number | undefined,
      order: values.get('order') as Play['order'],
      diff: values.get('diff') as boolean | undefined,
      throttle: values.get('throttle') as number | undefined,
      hostsPos: hostsValue === undefined ? undefined : src.pos(mapPair(map, 'hosts')!.value as YamlNode),
      roleDefaults: Object.keys(playRoles.defaults).length > 0 ? playRoles.defaults : undefined,
      roleVars: Object.keys(playRoles.vars).length > 0 ? playRoles.vars : undefined,
    });
    this.checkNotify(play);
    return play;
  }

  /** vars_files naming fixed files: each found, readable and a mapping (see vars-files-check.ts). */
  private async checkVarsFiles(src: YamlSource, pair: Pair | undefined, names: string[]): Promise<void> {
    if (!pair || names.length === 0) return;
    const node = pair.value as YamlNode | null;
    const entries = names.map((name, i) => ({
      name,
      pos: src.pos(isSeq(node) ? (node.items[i] as YamlNode) : (node ?? pair)),
    }));
    await checkVarsFiles(entries, dirname(this.playbookStack.at(-1)!), this.problems);
  }

  private unknownPlayKeyword(src: YamlSource, pair: Pair, key: string): void {
    const pos = src.pos(pair);
    if (this.registry.resolve(key) || ALL_TASK_KEYWORDS.has(key))
      this.problem(
        pos,
        `unknown play keyword '${key}'`,
        `'${key}' belongs to a task: put the task under 'tasks:' (a list)`,
      );
    else
      this.problem(
        pos,
        `unknown play keyword '${key}'`,
        foreignKeyHint(key) ?? didYouMean(key, Object.keys(PLAY_KEYWORDS)),
      );
  }

  /** A `tasks:`/`block:` style section: a list of tasks, or nothing. */
  private async section(
    loaded: LoadedSource,
    node: unknown,
    label: string,
    handlers: boolean,
  ): Promise<Node[]> {
    const { src } = loaded;
    if (node === null || node === undefined || (isScalar(node) && node.value === null)) return [];
    if (!isSeq(node)) {
      this.problem(
        src.pos(node as YamlNode),
        `${label} must be a list of tasks, got ${kindOf(src.value(node))}`,
        "start each task with '- ' (a list item)",
      );
      return [];
    }
    return this.taskList(loaded, node, handlers);
  }

  private async taskList(
    loaded: LoadedSource,
    seq: { items: unknown[] },
    handlers: boolean,
  ): Promise<Node[]> {
    const nodes: Node[] = [];
    for (const item of seq.items) {
      if (!isMap(item)) {
        this.problem(
          loaded.src.pos(item as YamlNode),
          `a task must be a mapping, got ${kindOf(loaded.src.value(item))}`,
          "e.g. '- name: Say hello' then 'debug: { msg: hello }' on the next line",
        );
        continue;
      }
      const node = await this.task(loaded, item, handlers);
      if (node) nodes.push(node);
    }
    return nodes;
  }

  private async handlers(loaded: LoadedSource, node: unknown): Promise<TaskNode[]> {
    const nodes = await this.section(loaded, node, "'handlers'", true);
    const tasks: TaskNode[] = [];
    for (const n of nodes) {
      if (n.kind === 'task') tasks.push(n);
      else this.problem(n.pos, 'a handler must be a single module task (no block or include)');
    }
    return tasks;
  }

  private async task(loaded: LoadedSource, map: YAMLMap, handler: boolean): Promise<Node | undefined> {
    const { src } = loaded;
    const modules: { key: string; module: Module; pair: Pair }[] = [];
    const sections = new Map<string, Pair>();
    const includes: { key: string; pair: Pair }[] = [];
    const roleActions: { key: RoleAction; pair: Pair }[] = [];
    const keywords = new Map<string, Pair>();
    const unknown: { key: string; pair: Pair }[] = [];
    let localAction: Pair | undefined;
    let brokenLocalAction = false;
    for (const pair of map.items as Pair[]) {
      const key = pairKey(pair);
      if (key === undefined) {
        this.problem(src.pos(pair), 'a task key must be a plain name');
        continue;
      }
      if (key === 'local_action') {
        const local = this.localAction(src, pair);
        if (local) modules.push(local);
        else brokenLocalAction = true;
        localAction = pair;
        continue;
      }
      const module = this.registry.resolve(key);
      if (module) modules.push({ key, module, pair });
      else if ((BLOCK_SECTIONS as readonly string[]).includes(key)) sections.set(key, pair);
      else if ((INCLUDE_ACTIONS as readonly string[]).includes(key)) includes.push({ key, pair });
      else if (roleActionOf(key)) roleActions.push({ key: roleActionOf(key)!, pair });
      else if (ALL_TASK_KEYWORDS.has(key)) keywords.set(key, pair);
      else unknown.push({ key, pair });
    }
    this.unknownTaskKeys(
      src,
      unknown,
      modules.length > 0 ||
        sections.has('block') ||
        includes.length > 0 ||
        roleActions.length > 0 ||
        brokenLocalAction,
    );
    if (brokenLocalAction) return undefined;
    if (localAction && keywords.has('delegate_to'))
      this.problem(
        src.pos(keywords.get('delegate_to')!),
        "local_action already runs the task on this machine: 'delegate_to' cannot go with it",
        'remove one of them (local_action is delegate_to: localhost)',
      );

    const actions = [
      ...modules.map((m) => m.key),
      ...(sections.has('block') ? ['block'] : []),
      ...includes.map((i) => i.key),
      ...roleActions.map((i) => i.key),
    ];
    if (actions.length > 1) {
      const second = [
        ...modules.map((m) => m.pair),
        sections.get('block'),
        ...includes.map((i) => i.pair),
        ...roleActions.map((i) => i.pair),
      ]
        .filter((p): p is Pair => p !== undefined)
        .sort((a, b) => src.pos(a).line - src.pos(b).line || src.pos(a).col - src.pos(b).col)[1]!;
      const names = actions.map((a) => `'${a}'`);
      const message =
        modules.length === actions.length
          ? `a task has ${actions.length === 2 ? 'two' : 'several'} module keys: ${names.slice(0, -1).join(', ')} and ${names.at(-1)}`
          : `a task has more than one action: ${names.join(', ')}`;
      this.problem(
        src.pos(second),
        message,
        'split it into one task per module (each with its own "- name:")',
      );
      return undefined;
    }
    for (const key of ['rescue', 'always'])
      if (sections.has(key) && !sections.has('block'))
        this.problem(src.pos(sections.get(key)!), `'${key}' needs a 'block' in the same task`);
    if (actions.length === 0) {
      if (unknown.length === 0 && !sections.has('rescue') && !sections.has('always'))
        this.problem(
          src.pos(map),
          'this task names no module',
          "a task needs exactly one module key, e.g. 'debug:' or 'command:'",
        );
      return undefined;
    }

    const kind =
      modules.length > 0
        ? 'task'
        : sections.has('block')
          ? 'block'
          : roleActions.length > 0
            ? roleActions[0]!.key
            : (includes[0]!.key as 'include_tasks' | 'import_tasks');
    const allowed =
      kind === 'task'
        ? handler
          ? HANDLER_KEYWORDS
          : TASK_KEYWORDS
        : kind === 'block'
          ? BLOCK_KEYWORDS
          : kind === 'include_tasks' || kind === 'include_role'
            ? INCLUDE_KEYWORDS
            : IMPORT_KEYWORDS;
    const present = new Map<string, Pair>();
    for (const [key, pair] of keywords) {
      const keyword = allowed[key];
      if (!keyword) {
        const what =
          kind === 'task' ? 'a task (listen is for handlers)' : kind === 'block' ? 'a block' : kind;
        this.problem(src.pos(pair), `'${key}' is not allowed on ${what}`);
        continue;
      }
      if (pair.value === null || src.value(pair.value) === null) continue;
      if (EXPRESSION_KEYWORDS.has(key)) markExpressions(loaded, pair.value);
      present.set(key, pair);
    }
    const values = this.keywords(loaded, allowed, present);
    const common = commonOf(values, src.pos(map));

    if (kind === 'block') {
      const block: BlockNode = {
        kind: 'block',
        ...common,
        block: await this.section(loaded, sections.get('block')!.value, "'block'", false),
        rescue: await this.section(loaded, sections.get('rescue')?.value, "'rescue'", false),
        always: await this.section(loaded, sections.get('always')?.value, "'always'", false),
      };
      return block;
    }
    if (kind === 'import_role' || kind === 'include_role')
      return this.roleAction(loaded, roleActions[0]!.pair, kind, common, values, keywords);
    if (kind !== 'task') {
      return this.include(loaded, includes[0]!.pair, kind, common, values, keywords);
    }
    const { key, module, pair } = modules[0]!;
    const args = await this.moduleArgs(
      loaded,
      key,
      module,
      pair,
      keywords.get('args'),
      values.get('args') as Vars | undefined,
    );
    if (!args) return undefined;
    // async with poll > 0 waits for the task, as ewsplay always does: async is then its time limit.
    const asyncSec = values.get('async') as number | undefined;
    if (asyncSec !== undefined) {
      if (values.get('poll') === 0)
        this.problem(
          src.pos(keywords.get('poll')!),
          'poll: 0 (fire and forget) is not supported: nobody would collect the result of the task',
          'use poll > 0 (ewsplay waits up to async seconds), or a command that puts itself in the background (nohup ... &)',
        );
      common.timeout = Math.min(common.timeout ?? asyncSec, asyncSec);
    }
    const until = values.get('until');
    const loopControl = loopControlOf(values.get('loop_control'));
    const task: TaskNode = {
      kind: 'task',
      ...common,
      module: module.name,
      args,
      argsPos: src.pos(pair),
      loopVar: loopControl.loopVar,
      retries: (values.get('retries') as number | undefined) ?? (until !== undefined ? 3 : 0),
      delay: (values.get('delay') as number | undefined) ?? 5,
      notify: listOf(values.get('notify')),
    };
    assignDefined(task, {
      ...this.loopOf(src, keywords),
      loopLabel: loopControl.label,
      loopControl: loopControl.control,
      register: values.get('register') as string | undefined,
      runOnce: values.get('run_once') === true ? true : undefined,
      delegateTo: localAction ? 'localhost' : (values.get('delegate_to') as string | undefined),
      delegateFacts: values.get('delegate_facts') === true ? true : undefined,
      until: until === undefined ? undefined : String(until),
      changedWhen: values.has('changed_when') ? conditionsOf(values.get('changed_when')) : undefined,
      failedWhen: values.has('failed_when') ? conditionsOf(values.get('failed_when')) : undefined,
      listen: values.has('listen') ? listOf(values.get('listen')) : undefined,
    });
    const notifyPair = keywords.get('notify');
    if (notifyPair) this.notifyPositions.set(task, notifyItems(src, notifyPair));
    return task;
  }

  /**
   * Ansible's local_action: the module and its arguments under one key (`local_action: command ./x` or
   * `local_action: { module: command, cmd: ./x }`), run as delegate_to: localhost.
   */
  private localAction(src: YamlSource, pair: Pair): { key: string; module: Module; pair: Pair } | undefined {
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
    const module = name === undefined ? undefined : this.registry.resolve(name);
    if (module && name) return { key: name, module, pair: new Pair(pair.key, args) };
    const guess = name === undefined ? undefined : closest(name, this.moduleKeys);
    this.problem(
      src.pos((node as YamlNode | null) ?? pair),
      name === undefined ? 'local_action names no module' : `unknown module '${name}' in local_action`,
      guess
        ? `did you mean '${guess}'?`
        : "write 'local_action: MODULE ARGS' or a mapping with 'module:' (or use the module key with delegate_to: localhost)",
    );
    return undefined;
  }

  /** loop, or Ansible's older with_list / with_items (which flattens one level): one of them. */
  private loopOf(src: YamlSource, keywords: Map<string, Pair>): { loop?: unknown; loopFlatten?: boolean } {
    const given = LOOP_KEYWORDS.filter((k) => keywords.has(k));
    for (const extra of given.slice(1))
      this.problem(
        src.pos(keywords.get(extra)!),
        `'${extra}' and '${given[0]}' on one task: give only one loop`,
        'write it as \'loop:\' (with_items flattens lists inside the list: loop: "{{ x | flatten(levels=1) }}")',
      );
    const key = given[0];
    if (key === undefined) return {};
    const value = src.value(keywords.get(key)!.value);
    if (value === null || value === undefined) return {};
    return key === 'with_items' ? { loop: value, loopFlatten: true } : { loop: value };
  }

  private unknownTaskKeys(src: YamlSource, unknown: { key: string; pair: Pair }[], hasAction: boolean): void {
    let moduleGuessed = hasAction;
    for (const { key, pair } of unknown) {
      const pos = src.pos(pair);
      const foreign = foreignKeyHint(key);
      if (foreign) {
        this.problem(pos, `unknown task keyword '${key}'`, foreign);
        continue;
      }
      if (PLAY_KEYWORDS[key] && !ALL_TASK_KEYWORDS.has(key)) {
        this.problem(
          pos,
          `'${key}' is a play keyword, not a task keyword`,
          'check the indentation of this task and its play',
        );
        continue;
      }
      const keyword = closest(key, ALL_TASK_KEYWORDS);
      const foreignModule = foreignModuleHint(key);
      const module = foreignModule?.known ? undefined : closest(key, this.moduleKeys);
      if (keyword && (!module || hasAction) && !foreignModule?.known) {
        this.problem(pos, `unknown task keyword '${key}'`, `did you mean '${keyword}'?`);
      } else if (module || !moduleGuessed) {
        moduleGuessed = true;
        this.problem(
          pos,
          `unknown module '${key}'`,
          module
            ? `did you mean '${module}'?`
            : (foreignModule?.hint ?? '`ewsplay schema` lists the modules and their arguments'),
        );
      } else {
        this.problem(pos, `unknown task keyword '${key}'`);
      }
    }
  }

  /** The module's args: the mapping (or free-form string) under its key, merged with `args:`. */
  private async moduleArgs(
    loaded: LoadedSource,
    key: string,
    module: Module,
    pair: Pair,
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
      this.problem(
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
      this.problems.push(...explainErrors(errors, args, subject));
    }
    // Nested task lists (manual's verify:) become nodes, loaded and checked like any tasks.
    for (const name of module.taskListArgs ?? []) {
      if (!(name in args)) continue;
      const from = sourceOf(written(name));
      const listNode = from ? (mapPair(from as YAMLMap, written(name)!)?.value ?? null) : null;
      if (isSeq(listNode)) args[name] = await this.taskList(loaded, listNode, false);
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
      this.problem(
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
      this.problem(
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
          this.problem(
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

  private async include(
    loaded: LoadedSource,
    pair: Pair,
    kind: 'include_tasks' | 'import_tasks',
    common: NodeCommon,
    values: Map<string, unknown>,
    keywords: Map<string, Pair>,
  ): Promise<Node | undefined> {
    const { src } = loaded;
    const { ok, value } = this.keyword(loaded, kind, INCLUDE_VALUE, pair);
    if (!ok) return undefined;
    const file = typeof value === 'string' ? value : (value as { file: string }).file;
    const at = src.pos(pair.value as YamlNode);
    const templated = file.includes('{{');
    if (templated && kind === 'import_tasks') {
      this.problem(
        at,
        'import_tasks needs a fixed file name',
        'use include_tasks to choose the file at run time',
      );
      return undefined;
    }
    const tasks = templated ? undefined : await this.includedFile(src.file, file, at);
    if (kind === 'import_tasks') {
      if (!tasks) return undefined;
      return { kind: 'block', ...common, block: tasks, rescue: [], always: [] };
    }
    const loopControl = loopControlOf(values.get('loop_control'));
    const include: IncludeNode = { kind: 'include', ...common, file, loopVar: loopControl.loopVar };
    assignDefined(include, { tasks, ...this.loopOf(src, keywords), loopControl: loopControl.control });
    return templated || tasks ? include : undefined;
  }

  /** Finds and loads an included task file (beside the including file, then tasks/ and ../tasks/). */
  private async includedFile(fromFile: string, name: string, at: SourcePos): Promise<Node[] | undefined> {
    const role = this.roleStack.at(-1);
    const candidates = isAbsolute(name)
      ? [name]
      : [
          // Inside a role, its tasks/ comes first (Ansible's search in the current role).
          ...(role ? [join(role.path, 'tasks', name)] : []),
          join(dirname(fromFile), name),
          join(this.playbookDir, 'tasks', name),
          join(this.playbookDir, '..', 'tasks', name),
        ].map((c) => resolve(c));
    const found = candidates.find((c) => existsSync(c));
    if (!found) {
      const looked = [...new Set(candidates)].map(displayName);
      this.problem(at, `task file '${name}' not found`, `looked in: ${looked.join(', ')}`);
      return undefined;
    }
    const cycleStart = this.stack.indexOf(found);
    if (cycleStart >= 0) {
      const chain = [...this.stack.slice(cycleStart), found].map(displayName);
      this.problem(
        at,
        `include cycle: ${chain.join(' -> ')}`,
        'a task file must not include itself, directly or not',
      );
      return undefined;
    }
    return this.taskFile(found, at);
  }

  /** `roles:` of a play: each entry a role's block, in order; a role already run with the same parameters is left out. */
  private async playRolesSection(loaded: LoadedSource, pair: Pair): Promise<Node[]> {
    const { src } = loaded;
    const node = pair.value;
    if (node === null || node === undefined || (isScalar(node) && node.value === null)) return [];
    if (!isSeq(node)) {
      this.problem(
        src.pos(node as YamlNode),
        `'roles' must be a list of roles, got ${kindOf(src.value(node))}`,
        "start each role with '- ' (a list item): '- common' or '- role: common'",
      );
      return [];
    }
    const nodes: Node[] = [];
    for (const item of node.items) {
      const request = this.roleEntry(loaded, item as YamlNode, 'roles');
      if (!request) continue;
      const block = await this.role({ ...request, dedupe: true, expose: true });
      if (block) nodes.push(block);
    }
    return nodes;
  }

  /** One role of `roles:` or of meta dependencies: a name, or a mapping with role:/name:, keywords and parameters. */
  private roleEntry(loaded: LoadedSource, item: YamlNode, where: string): RoleRequest | undefined {
    const { src } = loaded;
    const value = src.value(item);
    const at = src.pos(item);
    if (typeof value === 'string' && value !== '')
      return { name: value, at, params: {}, common: { pos: at, when: [], tags: [], vars: {} } };
    if (!isMap(item)) {
      this.problem(
        at,
        `a role in '${where}' must be a role name or a mapping with 'role:', got ${kindOf(value)}`,
        "e.g. '- common' or '- role: common' with 'vars:' below it",
      );
      return undefined;
    }
    const present = new Map<string, Pair>();
    const params: Vars = {};
    for (const pair of item.items as Pair[]) {
      const key = pairKey(pair);
      if (key === undefined) {
        this.problem(src.pos(pair), 'a role key must be a plain name');
        continue;
      }
      // Any key that is not a keyword is a parameter of the role, as Ansible reads `- { role: x, port: 80 }`.
      if (!ROLE_KEYWORDS[key]) {
        params[key] = src.value(pair.value);
        continue;
      }
      if (pair.value === null || src.value(pair.value) === null) continue;
      if (EXPRESSION_KEYWORDS.has(key)) markExpressions(loaded, pair.value);
      present.set(key, pair);
    }
    if (present.has('role') && present.has('name'))
      this.problem(src.pos(present.get('name')!), "a role takes 'role:' or 'name:', not both");
    const values = this.keywords(loaded, ROLE_KEYWORDS, present);
    const name = (values.get('role') ?? values.get('name')) as string | undefined;
    if (name === undefined) {
      if (!present.has('role') && !present.has('name'))
        this.problem(at, `a role in '${where}' needs 'role:' (the role's name)`, "e.g. '- role: common'");
      return undefined;
    }
    values.delete('name');
    const common = commonOf(values, at);
    const namePair = present.get('role') ?? present.get('name')!;
    return {
      name,
      at: src.pos(namePair.value as YamlNode),
      params: { ...params, ...common.vars },
      common: { ...common, vars: {} },
    };
  }

  /** The directory of a role: roles/ beside the playbook, beside the depending role, roles_path, the playbook's directory. */
  private findRole(name: string, at: SourcePos): string | undefined {
    const parent = this.roleStack.at(-1);
    const candidates = isAbsolute(name)
      ? [name]
      : [
          join(this.playbookDir, 'roles', name),
          ...(parent ? [join(dirname(parent.path), name)] : []),
          ...this.rolesPath.map((dir) => resolve(this.playbookDir, dir, name)),
          join(this.playbookDir, name),
        ].map((c) => resolve(c));
    const found = candidates.find((c) => isDirectory(c));
    if (found) return found;
    const known = isDirectory(join(this.playbookDir, 'roles'))
      ? readdirSync(join(this.playbookDir, 'roles')).filter((d) =>
          isDirectory(join(this.playbookDir, 'roles', d)),
        )
      : [];
    const looked = `looked in: ${[...new Set(candidates)].map(displayName).join(', ')}`;
    this.problem(at, `role '${name}' not found`, didYouMean(name, known) ?? looked);
    return undefined;
  }

  /**
   * A role's block: its dependencies' blocks (meta/main.yml), then its tasks; its handlers join the play's.
   * undefined when it cannot be loaded, or when it already ran in this play with the same parameters.
   */
  private async role(
    request: RoleRequest & { dedupe: boolean; expose: boolean },
  ): Promise<BlockNode | undefined> {
    const path = this.findRole(request.name, request.at);
    if (!path) return undefined;
    const cycleStart = this.roleStack.findIndex((r) => r.path === path);
    if (cycleStart >= 0) {
      const chain = [...this.roleStack.slice(cycleStart).map((r) => r.name), request.name];
      this.problem(
        request.at,
        `role dependency cycle: ${chain.join(' -> ')}`,
        "a role must not depend on itself, directly or not: check the roles' meta/main.yml",
      );
      return undefined;
    }
    const meta = await this.roleMeta(path);
    const files = request.files ?? {};
    // Ansible runs a role of roles: (or a dependency) once per play unless its parameters differ or its
    // meta says allow_duplicates.
    const identity = JSON.stringify([path, request.params, files]);
    if (request.dedupe && !meta.allowDuplicates) {
      if (this.playRoles.seen.has(identity)) return undefined;
      this.playRoles.seen.add(identity);
    }
    this.roleStack.push({ name: request.name, path });
    try {
      const deps: BlockNode[] = [];
      for (const dep of meta.dependencies) {
        const block = await this.role({ ...dep, dedupe: true, expose: request.expose });
        if (block) deps.push(block);
      }
      const depDefaults = Object.assign({}, ...deps.map((d) => d.role!.defaults)) as Vars;
      const depVars = Object.assign({}, ...deps.map((d) => d.role!.vars)) as Vars;
      const defaults = await this.roleVarsFile(path, 'defaults', files.defaultsFrom, request.at);
      const vars = await this.roleVarsFile(path, 'vars', files.varsFrom, request.at);
      const info: RoleInfo = {
        name: request.name,
        path,
        defaults: { ...depDefaults, ...defaults },
        vars: { ...depVars, ...vars },
        params: request.params,
        parents: this.roleStack
          .slice(0, -1)
          .reverse()
          .map((r) => ({ ...r })),
      };
      const tasksFile = roleFile(path, 'tasks', files.tasksFrom);
      if (files.tasksFrom && !tasksFile) this.roleFileMissing(request, path, 'tasks', files.tasksFrom);
      const tasks = tasksFile ? ((await this.taskFile(tasksFile, request.at)) ?? []) : [];
      await this.roleHandlers(path, files.handlersFrom, info, request);
      if (request.expose) {
        Object.assign(this.playRoles.defaults, info.defaults);
        Object.assign(this.playRoles.vars, info.vars);
      }
      return {
        kind: 'block',
        ...request.common,
        role: info,
        block: [...deps, ...tasks],
        rescue: [],
        always: [],
      };
    } finally {
      this.roleStack.pop();
    }
  }

  private roleFileMissing(request: RoleRequest, path: string, dir: string, name: string): void {
    this.problem(
      request.at,
      `role '${request.name}' has no ${dir} file '${name}'`,
      `looked in ${displayName(join(path, dir))}/ for ${name}, ${name}.yml and ${name}.yaml`,
    );
  }

  /** defaults/ or vars/ of a role: a mapping of variables (main.yml unless *_from names another file). */
  private async roleVarsFile(
    path: string,
    dir: string,
    from: string | undefined,
    at: SourcePos,
  ): Promise<Vars> {
    const file = roleFile(path, dir, from);
    if (!file) {
      if (from)
        this.problem(at, `role has no ${dir} file '${from}'`, `looked in ${displayName(join(path, dir))}/`);
      return {};
    }
    let loading = this.roleFiles.get(file);
    if (!loading) {
      loading = this.mappingFile(file, at, `a role's ${dir} file`);
      this.roleFiles.set(file, loading);
    }
    return (await loading) ?? {};
  }

  /** A YAML file that must hold a mapping (role vars, defaults, meta); undefined when unreadable. */
  private async mappingFile(file: string, at: SourcePos, what: string): Promise<Vars | undefined> {
    const loaded = await this.read(file, at);
    if (!loaded) return undefined;
    const value = loaded.src.value(loaded.src.doc.contents);
    if (value === null || value === undefined) return {};
    if (typeof value !== 'object' || Array.isArray(value)) {
      this.problem(
        loaded.src.pos(loaded.src.doc.contents),
        `${what} must be a mapping, got ${kindOf(value)}`,
        "write one 'name: value' per line",
      );
      return undefined;
    }
    return value as Vars;
  }

  /** meta/main.yml: dependencies (run first) and allow_duplicates; galaxy_info and the rest are not read. */
  private async roleMeta(path: string): Promise<{ dependencies: RoleRequest[]; allowDuplicates: boolean }> {
    const file = roleFile(path, 'meta');
    const none = { dependencies: [], allowDuplicates: false };
    if (!file) return none;
    let loaded = this.sources.find((s) => s.src.file === displayName(file));
    if (!loaded) {
      loaded = await this.read(file);
      if (!loaded) return none;
    }
    const { src } = loaded;
    const root = src.doc.contents;
    if (root === null || (isScalar(root) && root.value === null)) return none;
    if (!isMap(root)) {
      this.problem(src.pos(root), `a role's meta/main.yml must be a mapping, got ${kindOf(src.value(root))}`);
      return none;
    }
    const allow = mapPair(root, 'allow_duplicates');
    const allowValue = allow ? src.value(allow.value) : false;
    if (allow && typeof allowValue !== 'boolean' && allowValue !== null)
      this.problem(src.pos(allow.value as YamlNode), "'allow_duplicates' must be true or false");
    const depsPair = mapPair(root, 'dependencies');
    const dependencies: RoleRequest[] = [];
    const deps = depsPair?.value;
    if (isSeq(deps)) {
      for (const item of deps.items) {
        const request = this.roleEntry(loaded, item as YamlNode, 'dependencies');
        if (request) dependencies.push(request);
      }
    } else if (deps !== undefined && deps !== null && !(isScalar(deps) && deps.value === null))
      this.problem(
        src.pos(deps as YamlNode),
        `'dependencies' must be a list of roles, got ${kindOf(src.value(deps))}`,
        "e.g. 'dependencies: [common]' or '- role: common' items",
      );
    return { dependencies, allowDuplicates: allowValue === true };
  }

  /** A role's handlers join the play's (once per handlers file), each knowing its role for its variables. */
  private async roleHandlers(
    path: string,
    from: string | undefined,
    info: RoleInfo,
    request: RoleRequest,
  ): Promise<void> {
    const file = roleFile(path, 'handlers', from);
    if (!file) {
      if (from) this.roleFileMissing(request, path, 'handlers', from);
      return;
    }
    if (this.playRoles.handlerFiles.has(file)) return;
    this.playRoles.handlerFiles.add(file);
    const loaded = await this.read(file, request.at);
    if (!loaded) return;
    const handlers = await this.handlers(loaded, loaded.src.doc.contents);
    this.playRoles.handlers.push(...handlers.map((h) => ({ ...h, role: info })));
  }

  /** import_role (the role's block, inlined at load) and include_role (run time; a fixed name is loaded now). */
  private async roleAction(
    loaded: LoadedSource,
    pair: Pair,
    kind: RoleAction,
    common: NodeCommon,
    values: Map<string, unknown>,
    keywords: Map<string, Pair>,
  ): Promise<Node | undefined> {
    const { src } = loaded;
    const { ok, value } = this.keyword(loaded, kind, ROLE_ACTION_VALUE, pair);
    if (!ok) return undefined;
    const spec = value as {
      name: string;
      tasks_from?: string;
      vars_from?: string;
      defaults_from?: string;
      handlers_from?: string;
      allow_duplicates?: boolean;
      public?: boolean;
    };
    const nameNode = isMap(pair.value) ? mapPair(pair.value, 'name')?.value : undefined;
    const at = src.pos((nameNode as YamlNode | undefined) ?? (pair.value as YamlNode));
    const files: RoleFiles = {};
    assignDefined(files, {
      tasksFrom: spec.tasks_from,
      varsFrom: spec.vars_from,
      defaultsFrom: spec.defaults_from,
      handlersFrom: spec.handlers_from,
    });
    const templated = /\{\{|\{%/.test(JSON.stringify([spec.name, files]));
    if (templated && kind === 'import_role') {
      this.problem(
        at,
        'import_role needs a fixed role name and file names',
        'use include_role to choose the role at run time',
      );
      return undefined;
    }
    // Keywords of import_role go to the role's tasks: the block carries them (its own vars are task vars).
    const request = {
      name: spec.name,
      at,
      params: {},
      files,
      common: { ...common, pos: src.pos(pair) },
      // import_role and include_role run the role each time unless allow_duplicates: false.
      dedupe: spec.allow_duplicates === false,
    };
    if (kind === 'import_role') {
      const block = await this.role({ ...request, expose: true });
      return block ?? undefined;
    }
    const loopControl = loopControlOf(values.get('loop_control'));
    const include: IncludeNode = {
      kind: 'include',
      ...common,
      file: spec.name,
      includeRole: { name: spec.name, ...files },
      loopVar: loopControl.loopVar,
    };
    let tasks: Node[] | undefined;
    if (!templated) {
      // The block goes inside the include: its when/tags/vars are the include's, applied once.
      const block = await this.role({
        ...request,
        common: { pos: request.common.pos, when: [], tags: [], vars: {} },
        expose: spec.public === true,
      });
      // No block: a problem was reported, or (allow_duplicates: false) the role already ran in this play.
      if (!block && spec.allow_duplicates !== false) return undefined;
      tasks = block ? [block] : [];
    }
    assignDefined(include, { tasks, ...this.loopOf(src, keywords), loopControl: loopControl.control });
    return include;
  }

  /** include_role with a templated name, at run time: the role's block and handlers. */
  async runtimeRole(
    spec: RoleFiles & { name: string },
    at: SourcePos,
  ): Promise<{ block?: BlockNode; handlers: TaskNode[] }> {
    this.playRoles = newPlayRoles();
    const block = await this.role({
      name: spec.name,
      at,
      params: {},
      files: spec,
      common: { pos: at, when: [], tags: [], vars: {} },
      dedupe: false,
      expose: false,
    });
    return { ...(block ? { block } : {}), handlers: this.playRoles.handlers };
  }

  private readonly notifyPositions = new WeakMap<TaskNode, SourcePos[]>();

  /** Every `notify:` of the play must name a handler (by name or listen topic). */
  private checkNotify(play: Play): void {
    const known = new Set<string>();
    for (const h of play.handlers) {
      if (h.name) known.add(h.name);
      for (const topic of h.listen ?? []) known.add(topic);
    }
    const visit = (nodes: Node[]) => {
      for (const n of nodes) {
        if (n.kind === 'block') {
          visit(n.block);
          visit(n.rescue);
          visit(n.always);
        } else if (n.kind === 'include') visit(n.tasks ?? []);
        else {
          const positions = this.notifyPositions.get(n) ?? [];
          n.notify.forEach((name, i) => {
            if (name.includes('{{') || known.has(name)) return;
            this.problem(
              positions[i] ?? n.pos,
              `notify names no handler: '${name}'`,
              didYouMean(name, known) ??
                (known.size
                  ? `handlers of this play: ${[...known].map((k) => `'${k}'`).join(', ')}`
                  : 'this play has no handlers'),
            );
          });
        }
      }
    };
    visit(play.tasks);
    visit(play.handlers);
  }
}

type RoleAction = (typeof ROLE_ACTIONS)[number];

/** include_role and import_role, by their short or ansible.builtin names. */
function roleActionOf(key: string): RoleAction | undefined {
  const short = key.startsWith('ansible.builtin.') ? key.slice('ansible.builtin.'.length) : key;
  return (ROLE_ACTIONS as readonly string[]).includes(short) ? (short as RoleAction) : undefined;
}

/** A role asked for by roles:, a dependency, import_role or include_role. */
interface RoleRequest {
  name: string;
  /** Where the role is named, for "not found" and cycles. */
  at: SourcePos;
  params: Vars;
  files?: RoleFiles;
  /** Keywords of the entry (when, tags, become ...) that the role's tasks inherit. */
  common: NodeCommon;
}

/** What the roles of one play add up to while it is loaded. */
interface PlayRoles {
  /** Roles of roles: and dependencies already in the play (path and parameters). */
  seen: Set<string>;
  handlers: TaskNode[];
  handlerFiles: Set<string>;
  defaults: Vars;
  vars: Vars;
}

function newPlayRoles(): PlayRoles {
  return { seen: new Set(), handlers: [], handlerFiles: new Set(), defaults: {}, vars: {} };
}

/** A role's file: <dir>/main.yml (or main.yaml, main), or the file *_from names (with .yml/.yaml added). */
function roleFile(path: string, dir: string, from?: string): string | undefined {
  const names = from ? [from, `${from}.yml`, `${from}.yaml`] : ['main.yml', 'main.yaml', 'main'];
  return names.map((n) => join(path, dir, n)).find((f) => existsSync(f) && !isDirectory(f));
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The args schema the loader validates: task-list args are checked as tasks separately, so only their shape here. */
/** One schema for a whole keyword table (one compile, not one per keyword). */
function tableSchema(table: Record<string, Keyword>): object {
  return {
    type: 'object',
    properties: Object.fromEntries(Object.entries(table).map(([name, k]) => [name, k.schema])),
  };
}

/** Every schema the loader validates against, for validators compiled at build time. */
export function loaderSchemas(registry: ModuleRegistry): object[] {
  const tables = [
    PLAY_KEYWORDS,
    IMPORT_PLAYBOOK_KEYWORDS,
    ROLE_KEYWORDS,
    TASK_KEYWORDS,
    HANDLER_KEYWORDS,
    BLOCK_KEYWORDS,
    INCLUDE_KEYWORDS,
    IMPORT_KEYWORDS,
  ];
  return [
    ...tables.map(tableSchema),
    INCLUDE_VALUE.schema,
    IMPORT_PLAYBOOK_VALUE.schema,
    ROLE_ACTION_VALUE.schema,
    ...[...registry.modules.values()].map(loaderArgsSchema),
  ];
}

export function loaderArgsSchema(module: Module): object {
  const lists = module.taskListArgs ?? [];
  if (lists.length === 0) return module.args;
  const properties = { ...((module.args.properties as Record<string, object> | undefined) ?? {}) };
  for (const name of lists) properties[name] = { type: 'array' };
  return { ...module.args, properties };
}

/** Paths in messages: relative to the working directory when below it, else absolute. */
function displayName(file: string): string {
  if (!isAbsolute(file)) return file;
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

/** Maps an offset into a key=value string to file:line:col when the string is written as is (one line). */
function wordLocator(src: YamlSource, at: YamlNode | Pair, text: string): (offset: number) => SourcePos {
  if (isScalar(at) && at.range) {
    const start = at.type === 'PLAIN' ? at.range[0] : at.range[0] + 1;
    if (src.text.slice(start, start + text.length) === text) return (offset) => src.pos(start + offset);
  }
  return () => src.pos(at);
}

function locateIn(src: YamlSource, from: unknown, path: YamlPath, key?: string): SourcePos {
  if (key === undefined) return src.posOf(path, from);
  const map = src.nodeAt(path, from);
  const pair = isMap(map) ? mapPair(map, key) : undefined;
  return pair ? src.pos(pair) : src.posOf(path, from);
}

function markExpressions(loaded: LoadedSource, node: unknown): void {
  if (isScalar(node)) loaded.expressions.add(node);
  else if (isSeq(node)) for (const item of node.items) if (isScalar(item)) loaded.expressions.add(item);
}

function notifyItems(src: YamlSource, pair: Pair): SourcePos[] {
  const node = pair.value;
  return isSeq(node) ? node.items.map((item) => src.pos(item as YamlNode)) : [src.pos(node as YamlNode)];
}

/**
 * pre_tasks, tasks and post_tasks as one list, with the handler flushes Ansible puts after pre_tasks and
 * after tasks (the play's end flushes the rest).
 */
function withHandlerFlushes(pre: Node[], tasks: Node[], post: Node[], pos: SourcePos): Node[] {
  const flush = (after: string): TaskNode => ({
    kind: 'task',
    name: `flush handlers (after ${after})`,
    pos,
    when: [],
    tags: [],
    vars: {},
    module: 'meta',
    args: { free_form: 'flush_handlers' },
    implicit: true,
    argsPos: pos,
    loopVar: 'item',
    retries: 0,
    delay: 5,
    notify: [],
  });
  return [
    ...pre,
    ...(pre.length > 0 ? [flush('pre_tasks')] : []),
    ...tasks,
    ...(post.length > 0 ? [flush('tasks'), ...post] : []),
  ];
}

function loopControlOf(value: unknown): { loopVar: string; label?: string; control?: LoopControl } {
  const given = (value ?? {}) as {
    label?: string;
    loop_var?: string;
    index_var?: string;
    extended?: boolean;
    extended_allitems?: boolean;
    pause?: number;
  };
  const control: LoopControl = {};
  assignDefined(control, {
    indexVar: given.index_var,
    extended: given.extended,
    allItems: given.extended_allitems,
    pause: given.pause,
  });
  return {
    loopVar: given.loop_var ?? 'item',
    ...(given.label !== undefined ? { label: given.label } : {}),
    ...(Object.keys(control).length > 0 ? { control } : {}),
  };
}

function listOf(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

/** Ansible splits a tag string on commas. */
function tagsOf(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value.map(String);
  return String(value)
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
}

function conditionsOf(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

function commonOf(values: Map<string, unknown>, pos: SourcePos): NodeCommon {
  const common: NodeCommon = {
    pos,
    when: conditionsOf(values.get('when')),
    tags: tagsOf(values.get('tags')),
    vars: (values.get('vars') as Vars | undefined) ?? {},
  };
  assignDefined(common, {
    name: values.get('name') as string | undefined,
    become: values.get('become') as boolean | undefined,
    becomeUser: values.get('become_user') as string | undefined,
    checkMode: values.get('check_mode') as boolean | undefined,
    ignoreErrors: values.get('ignore_errors') as boolean | undefined,
    noLog: values.get('no_log') as boolean | undefined,
    timeout: values.get('timeout') as number | undefined,
    environment: values.get('environment') as Vars | undefined,
    diff: values.get('diff') as boolean | undefined,
    throttle: values.get('throttle') as number | undefined,
    anyErrorsFatal: values.get('any_errors_fatal') as boolean | undefined,
  });
  return common;
}

/** Sets only the fields that have a value (the model's optional fields are absent, never undefined). */
function assignDefined<T extends object>(target: T, fields: Partial<T>): void {
  for (const [k, v] of Object.entries(fields))
    if (v !== undefined) (target as Record<string, unknown>)[k] = v;
}

/** Loads a playbook and everything it imports or includes by a fixed name; problems are returned, not thrown. */
export async function loadPlaybookDetailed(
  file: string,
  opts: LoadOptions = {},
): Promise<LoadResult<Playbook>> {
  const loader = new Loader(
    opts.registry ?? defaultRegistry,
    opts.playbookDir ?? dirname(resolve(file)),
    opts.rolesPath,
  );
  return loader.result(await loader.playbook(file));
}

/** Loads a task file (and its imports and fixed includes); problems are returned, not thrown. */
export async function loadTaskFileDetailed(
  file: string,
  opts: LoadOptions = {},
): Promise<LoadResult<Node[]>> {
  const loader = new Loader(
    opts.registry ?? defaultRegistry,
    opts.playbookDir ?? dirname(resolve(file)),
    opts.rolesPath,
  );
  return loader.result((await loader.taskFile(resolve(file))) ?? []);
}

/** include_role with a templated name, at run time: the role's block and handlers, or a UserError. */
export async function loadRuntimeRole(
  spec: RoleFiles & { name: string },
  at: SourcePos,
  playbookDir: string,
  opts: LoadOptions = {},
): Promise<{ block?: BlockNode; handlers: TaskNode[] }> {
  const loader = new Loader(opts.registry ?? defaultRegistry, playbookDir, opts.rolesPath);
  const { value, problems } = loader.result(await loader.runtimeRole(spec, at));
  if (problems.length > 0) throw new UserError(problems);
  return value;
}

/** The playbook, or a UserError listing every problem of every file it reads. */
export async function loadPlaybook(file: string, opts: LoadOptions = {}): Promise<Playbook> {
  const { value, problems } = await loadPlaybookDetailed(file, opts);
  if (problems.length > 0) throw new UserError(problems);
  return value;
}

/** A task file's tasks, or a UserError listing every problem. */
export async function loadTaskFile(file: string, opts: LoadOptions = {}): Promise<Node[]> {
  const { value, problems } = await loadTaskFileDetailed(file, opts);
  if (problems.length > 0) throw new UserError(problems);
  return value;
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
