// Tasks: a task file, a tasks:/block:/handlers: section, and one task mapping -> a node of the model. The
// task's shape (which key is its action, which are keywords) is checked here by hand so messages are
// precise; its action is then a module (module-args.ts), a block, an include or import (includes.ts), or a
// role (roles.ts).
import { isMap, isSeq, type Pair, type YAMLMap, type Node as YamlNode } from 'yaml';
import type { BlockNode, Node, TaskNode, Vars } from '../core/model.js';
import type { SourcePos } from '../core/problems.js';
import { closest } from '../core/suggest.js';
import { kindOf } from './check.js';
import { type IncludeAction, Includes } from './includes.js';
import {
  BLOCK_KEYWORDS,
  BLOCK_SECTIONS,
  HANDLER_KEYWORDS,
  IMPORT_KEYWORDS,
  INCLUDE_KEYWORDS,
  includeActionOf,
  PLAY_KEYWORDS,
  shortActionName,
  TASK_KEYWORDS,
} from './keywords.js';
import {
  EXPRESSION_KEYWORDS,
  isEmptyNode,
  type LoadContext,
  type LoadedSource,
  markExpressions,
  type TaskLoading,
} from './loader-context.js';
import { ModuleArgs, type ModuleUse } from './module-args.js';
import { assignDefined, commonOf, conditionsOf, listOf, loopControlOf, loopOf } from './node-values.js';
import { type RoleAction, Roles, roleActionOf } from './roles.js';
import { mapPair, pairKey, type YamlSource } from './yaml.js';

export const ALL_TASK_KEYWORDS = new Set([
  ...Object.keys(HANDLER_KEYWORDS),
  ...Object.keys(BLOCK_KEYWORDS),
  ...Object.keys(INCLUDE_KEYWORDS),
]);

/** Hints for keys people bring from Ansible features ewsplay does not have, or put at the wrong level. */
export function foreignKeyHint(key: string): string | undefined {
  if (key.startsWith('with_'))
    return "write the loop as 'loop:' (with_items and with_list are understood; other with_* lookups are not)";
  if (key === 'include') return "use 'include_tasks:' or 'import_tasks:'";
  if (shortActionName(key) === 'import_playbook')
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

/** A task mapping's keys, sorted by what they are. */
interface TaskKeys {
  modules: ModuleUse[];
  sections: Map<string, Pair>;
  includes: { key: IncludeAction; pair: Pair }[];
  roleActions: { key: RoleAction; pair: Pair }[];
  keywords: Map<string, Pair>;
  unknown: { key: string; pair: Pair }[];
  localAction?: Pair;
  brokenLocalAction: boolean;
}

export class Tasks implements TaskLoading {
  readonly roles: Roles;
  readonly includes: Includes;
  private readonly args: ModuleArgs;

  constructor(private readonly ctx: LoadContext) {
    this.roles = new Roles(ctx, this);
    this.includes = new Includes(ctx, this, this.roles);
    this.args = new ModuleArgs(ctx, this);
  }

  async taskFile(file: string, from?: SourcePos): Promise<Node[] | undefined> {
    const { taskFiles, taskFileStack } = this.ctx;
    const cached = taskFiles.get(file);
    if (cached) return cached;
    taskFileStack.push(file);
    try {
      const loaded = await this.ctx.read(file, from);
      if (!loaded) return undefined;
      const { src } = loaded;
      const root = src.doc.contents;
      let nodes: Node[] = [];
      if (!isEmptyNode(root)) {
        if (isSeq(root)) nodes = await this.taskList(loaded, root, false);
        else
          this.ctx.problem(
            src.pos(root),
            `a task file must be a list of tasks, got ${kindOf(src.value(root))}`,
            isMap(root) && mapPair(root, 'hosts')
              ? 'this looks like a playbook: run it with `ewsplay run`, or list only its tasks here'
              : "start each task with '- name: ...'",
          );
      }
      taskFiles.set(file, nodes);
      return nodes;
    } finally {
      taskFileStack.pop();
    }
  }

  /** A `tasks:`/`block:` style section: a list of tasks, or nothing. */
  async section(loaded: LoadedSource, node: unknown, label: string, handlers: boolean): Promise<Node[]> {
    const { src } = loaded;
    if (isEmptyNode(node)) return [];
    if (!isSeq(node)) {
      this.ctx.problem(
        src.pos(node as YamlNode),
        `${label} must be a list of tasks, got ${kindOf(src.value(node))}`,
        "start each task with '- ' (a list item)",
      );
      return [];
    }
    return this.taskList(loaded, node, handlers);
  }

  async taskList(loaded: LoadedSource, seq: { items: unknown[] }, handlers: boolean): Promise<Node[]> {
    const nodes: Node[] = [];
    for (const item of seq.items) {
      if (!isMap(item)) {
        this.ctx.problem(
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

  async handlers(loaded: LoadedSource, node: unknown): Promise<TaskNode[]> {
    const nodes = await this.section(loaded, node, "'handlers'", true);
    const tasks: TaskNode[] = [];
    for (const n of nodes) {
      if (n.kind === 'task') tasks.push(n);
      else this.ctx.problem(n.pos, 'a handler must be a single module task (no block or include)');
    }
    return tasks;
  }

  /** Sorts a task mapping's keys: module keys, block sections, includes, role actions, keywords, unknown. */
  private taskKeys(src: YamlSource, map: YAMLMap): TaskKeys {
    const keys: TaskKeys = {
      modules: [],
      sections: new Map(),
      includes: [],
      roleActions: [],
      keywords: new Map(),
      unknown: [],
      brokenLocalAction: false,
    };
    for (const pair of map.items as Pair[]) {
      const key = pairKey(pair);
      if (key === undefined) {
        this.ctx.problem(src.pos(pair), 'a task key must be a plain name');
        continue;
      }
      if (key === 'local_action') {
        const local = this.args.localAction(src, pair);
        if (local) keys.modules.push(local);
        else keys.brokenLocalAction = true;
        keys.localAction = pair;
        continue;
      }
      const module = this.ctx.registry.resolve(key);
      const include = includeActionOf(key);
      const roleAction = roleActionOf(key);
      if (module) keys.modules.push({ key, module, pair });
      else if ((BLOCK_SECTIONS as readonly string[]).includes(key)) keys.sections.set(key, pair);
      else if (include) keys.includes.push({ key: include, pair });
      else if (roleAction) keys.roleActions.push({ key: roleAction, pair });
      else if (ALL_TASK_KEYWORDS.has(key)) keys.keywords.set(key, pair);
      else keys.unknown.push({ key, pair });
    }
    return keys;
  }

  private async task(loaded: LoadedSource, map: YAMLMap, handler: boolean): Promise<Node | undefined> {
    const { src } = loaded;
    const { modules, sections, includes, roleActions, keywords, unknown, localAction, brokenLocalAction } =
      this.taskKeys(src, map);
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
      this.ctx.problem(
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
      this.ctx.problem(
        src.pos(second),
        message,
        'split it into one task per module (each with its own "- name:")',
      );
      return undefined;
    }
    for (const key of ['rescue', 'always'])
      if (sections.has(key) && !sections.has('block'))
        this.ctx.problem(src.pos(sections.get(key)!), `'${key}' needs a 'block' in the same task`);
    if (actions.length === 0) {
      if (unknown.length === 0 && !sections.has('rescue') && !sections.has('always'))
        this.ctx.problem(
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
            : includes[0]!.key;
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
        this.ctx.problem(src.pos(pair), `'${key}' is not allowed on ${what}`);
        continue;
      }
      if (pair.value === null || src.value(pair.value) === null) continue;
      if (EXPRESSION_KEYWORDS.has(key)) markExpressions(loaded, pair.value);
      present.set(key, pair);
    }
    const values = this.ctx.keywords(loaded, allowed, present);
    const common = commonOf(values, src.pos(map));

    if (kind === 'block') {
      const block: BlockNode = { kind: 'block', ...common, block: [], rescue: [], always: [] };
      for (const section of BLOCK_SECTIONS)
        block[section] = await this.section(loaded, sections.get(section)?.value, `'${section}'`, false);
      return block;
    }
    if (kind === 'import_role' || kind === 'include_role')
      return this.roles.roleAction(loaded, roleActions[0]!.pair, kind, common, values, keywords);
    if (kind !== 'task')
      return this.includes.include(loaded, includes[0]!.pair, kind, common, values, keywords);
    const use = modules[0]!;
    const args = await this.args.moduleArgs(
      loaded,
      use,
      keywords.get('args'),
      values.get('args') as Vars | undefined,
    );
    if (!args) return undefined;
    // async with poll > 0 waits for the task, as ewsplay always does: async is then its time limit.
    const asyncSec = values.get('async') as number | undefined;
    if (asyncSec !== undefined) {
      if (values.get('poll') === 0)
        this.ctx.problem(
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
      module: use.module.name,
      args,
      argsPos: src.pos(use.pair),
      loopVar: loopControl.loopVar,
      retries: (values.get('retries') as number | undefined) ?? (until !== undefined ? 3 : 0),
      delay: (values.get('delay') as number | undefined) ?? 5,
      notify: listOf(values.get('notify')),
    };
    assignDefined(task, {
      ...loopOf(this.ctx, src, keywords),
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
    if (notifyPair) this.ctx.notifyPositions.set(task, notifyItems(src, notifyPair));
    return task;
  }

  private unknownTaskKeys(src: YamlSource, unknown: { key: string; pair: Pair }[], hasAction: boolean): void {
    let moduleGuessed = hasAction;
    for (const { key, pair } of unknown) {
      const pos = src.pos(pair);
      const foreign = foreignKeyHint(key);
      if (foreign) {
        this.ctx.problem(pos, `unknown task keyword '${key}'`, foreign);
        continue;
      }
      if (PLAY_KEYWORDS[key] && !ALL_TASK_KEYWORDS.has(key)) {
        this.ctx.problem(
          pos,
          `'${key}' is a play keyword, not a task keyword`,
          'check the indentation of this task and its play',
        );
        continue;
      }
      const keyword = closest(key, ALL_TASK_KEYWORDS);
      const foreignModule = foreignModuleHint(key);
      const module = foreignModule?.known ? undefined : closest(key, this.ctx.moduleKeys);
      if (keyword && (!module || hasAction) && !foreignModule?.known) {
        this.ctx.problem(pos, `unknown task keyword '${key}'`, `did you mean '${keyword}'?`);
      } else if (module || !moduleGuessed) {
        moduleGuessed = true;
        this.ctx.problem(
          pos,
          `unknown module '${key}'`,
          module
            ? `did you mean '${module}'?`
            : (foreignModule?.hint ?? '`ewsplay schema` lists the modules and their arguments'),
        );
      } else {
        this.ctx.problem(pos, `unknown task keyword '${key}'`);
      }
    }
  }
}

function notifyItems(src: YamlSource, pair: Pair): SourcePos[] {
  const node = pair.value;
  return isSeq(node) ? node.items.map((item) => src.pos(item as YamlNode)) : [src.pos(node as YamlNode)];
}
