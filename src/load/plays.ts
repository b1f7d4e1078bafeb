// Plays: a playbook file's list of plays (import_playbook entries inlined, see includes.ts), each play's
// keywords, its sections in Ansible's order (pre_tasks, roles, tasks, post_tasks, with the handler flushes
// between them) and handlers, and the checks that need the whole play (every notify names a handler).
import { dirname, resolve } from 'node:path';
import { isMap, isScalar, isSeq, type Pair, type YAMLMap, type Node as YamlNode } from 'yaml';
import type { Node, Play, TaskNode, Vars, VarsPrompt } from '../core/model.js';
import type { SourcePos } from '../core/problems.js';
import { didYouMean } from '../core/suggest.js';
import { kindOf } from './check.js';
import { PLAY_KEYWORDS, shortActionName } from './keywords.js';
import type { LoadContext, LoadedSource } from './loader-context.js';
import { assignDefined, listOf, tagsOf } from './node-values.js';
import { ALL_TASK_KEYWORDS, foreignKeyHint, type Tasks } from './tasks.js';
import { checkVarsFiles } from './vars-files-check.js';
import { walkNodes } from './walk.js';
import { mapPair, pairKey, type YamlSource } from './yaml.js';

const TASK_SECTIONS = ['pre_tasks', 'tasks', 'post_tasks'];

/** Told each play's hosts and connection keywords as soon as they are read (LoadOptions.onPlay). */
export type OnPlay = (play: Pick<Play, 'hosts' | 'connection' | 'remoteUser' | 'port'>) => void;

export class Plays {
  constructor(
    private readonly ctx: LoadContext,
    private readonly tasks: Tasks,
    private readonly onPlay?: OnPlay,
  ) {}

  /** The plays of a playbook file, its import_playbook entries inlined in order; undefined when unreadable. */
  async plays(file: string, from?: SourcePos): Promise<Play[] | undefined> {
    const { ctx } = this;
    const loaded = await ctx.read(file, from);
    if (!loaded) return undefined;
    const plays: Play[] = [];
    const { src } = loaded;
    const root = src.doc.contents;
    if (root === null || (isScalar(root) && root.value === null)) {
      ctx.problem(
        src.pos(0),
        'the playbook is empty',
        "a playbook is a list of plays: start with '- hosts: all'",
      );
      return plays;
    }
    if (!isSeq(root)) {
      const looksLikePlay = isMap(root) && mapPair(root, 'hosts') !== undefined;
      ctx.problem(
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
    const outerDir = ctx.playbookDir;
    const path = resolve(file);
    if (ctx.playbookStack.length > 0) ctx.playbookDir = dirname(path);
    ctx.playbookStack.push(path);
    try {
      for (const item of root.items) {
        if (!isMap(item)) {
          ctx.problem(src.pos(item as YamlNode), `a play must be a mapping, got ${kindOf(src.value(item))}`);
          continue;
        }
        const importPair = (item.items as Pair[]).find((p) => {
          const key = pairKey(p);
          return key !== undefined && shortActionName(key) === 'import_playbook';
        });
        if (importPair) {
          plays.push(
            ...(await this.tasks.includes.importPlaybook(loaded, item, importPair, (f, at) =>
              this.plays(f, at),
            )),
          );
          continue;
        }
        const play = await this.play(loaded, item);
        if (play) plays.push(play);
      }
    } finally {
      ctx.playbookStack.pop();
      ctx.playbookDir = outerDir;
    }
    return plays;
  }

  private async play(loaded: LoadedSource, map: YAMLMap): Promise<Play | undefined> {
    const { ctx } = this;
    const { src } = loaded;
    const pos = src.pos(map);
    const present = new Map<string, Pair>();
    const taskSections = new Map<string, Pair>();
    let handlersNode: unknown;
    let handlersPair: Pair | undefined;
    for (const pair of map.items as Pair[]) {
      const key = pairKey(pair);
      if (key === undefined) {
        ctx.problem(src.pos(pair), 'a play keyword must be a plain name');
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
    const values = ctx.keywords(loaded, PLAY_KEYWORDS, present);
    const hostsValue = values.get('hosts');
    if (hostsValue === undefined && !mapPair(map, 'hosts'))
      ctx.problem(pos, "a play needs 'hosts:' (the hosts or groups it runs on)", "e.g. 'hosts: all'");
    const hosts = Array.isArray(hostsValue)
      ? hostsValue.join(',')
      : ((hostsValue as string | undefined) ?? '');
    if (this.onPlay && hosts) {
      const connection: Pick<Play, 'connection' | 'remoteUser' | 'port'> = {};
      assignDefined(connection, {
        connection: values.get('connection') as string | undefined,
        remoteUser: values.get('remote_user') as string | undefined,
        port: values.get('port') as number | undefined,
      });
      this.onPlay({ hosts, ...connection });
    }
    const sections: Record<string, Node[]> = {};
    const playRoles = this.tasks.roles.startPlay();
    // Ansible's order: pre_tasks, roles, tasks, post_tasks (roles: and their dependencies once per play).
    for (const key of ['pre_tasks', 'roles', 'tasks', 'post_tasks']) {
      const pair = taskSections.get(key);
      if (key === 'roles') sections[key] = pair ? await this.tasks.roles.playRolesSection(loaded, pair) : [];
      else sections[key] = pair ? await this.tasks.section(loaded, pair.value, `'${key}'`, false) : [];
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
      ...(handlersPair ? await this.tasks.handlers(loaded, handlersNode) : []),
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
    await checkVarsFiles(entries, dirname(this.ctx.playbookStack.at(-1)!), this.ctx.problems);
  }

  private unknownPlayKeyword(src: YamlSource, pair: Pair, key: string): void {
    const pos = src.pos(pair);
    if (this.ctx.registry.resolve(key) || ALL_TASK_KEYWORDS.has(key))
      this.ctx.problem(
        pos,
        `unknown play keyword '${key}'`,
        `'${key}' belongs to a task: put the task under 'tasks:' (a list)`,
      );
    else
      this.ctx.problem(
        pos,
        `unknown play keyword '${key}'`,
        foreignKeyHint(key) ?? didYouMean(key, Object.keys(PLAY_KEYWORDS)),
      );
  }

  /** Every `notify:` of the play must name a handler (by name or listen topic). */
  private checkNotify(play: Play): void {
    const known = new Set<string>();
    for (const h of play.handlers) {
      if (h.name) known.add(h.name);
      for (const topic of h.listen ?? []) known.add(topic);
    }
    walkNodes([...play.tasks, ...play.handlers], (n) => {
      if (n.kind !== 'task') return;
      const positions = this.ctx.notifyPositions.get(n) ?? [];
      n.notify.forEach((name, i) => {
        if (name.includes('{{') || known.has(name)) return;
        this.ctx.problem(
          positions[i] ?? n.pos,
          `notify names no handler: '${name}'`,
          didYouMean(name, known) ??
            (known.size
              ? `handlers of this play: ${[...known].map((k) => `'${k}'`).join(', ')}`
              : 'this play has no handlers'),
        );
      });
    });
  }
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
