// Includes and imports: include_tasks (run time; a fixed file is loaded now), import_tasks (inlined as a
// block at load), and import_playbook (the other playbook's plays, inlined in order). Each found where
// Ansible looks, each refused on a cycle.
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { Pair, YAMLMap, Node as YamlNode } from 'yaml';
import type { IncludeNode, Node, NodeCommon, Play, Vars } from '../core/model.js';
import type { SourcePos } from '../core/problems.js';
import {
  IMPORT_PLAYBOOK_KEYWORDS,
  IMPORT_PLAYBOOK_VALUE,
  type INCLUDE_ACTIONS,
  INCLUDE_VALUE,
  PLAY_KEYWORDS,
} from './keywords.js';
import {
  displayName,
  type LoadContext,
  type LoadedSource,
  markExpressions,
  type TaskLoading,
} from './loader-context.js';
import { assignDefined, conditionsOf, loopControlOf, loopOf, tagsOf } from './node-values.js';
import type { Roles } from './roles.js';
import { pairKey } from './yaml.js';

export type IncludeAction = (typeof INCLUDE_ACTIONS)[number];

export class Includes {
  constructor(
    private readonly ctx: LoadContext,
    private readonly tasks: TaskLoading,
    /** Inside a role, its tasks/ is searched first. */
    private readonly roles: Roles,
  ) {}

  /** include_tasks (an include node; its file loaded now when the name is fixed) or import_tasks (a block). */
  async include(
    loaded: LoadedSource,
    pair: Pair,
    kind: IncludeAction,
    common: NodeCommon,
    values: Map<string, unknown>,
    keywords: Map<string, Pair>,
  ): Promise<Node | undefined> {
    const { src } = loaded;
    const { ok, value } = this.ctx.keyword(loaded, kind, INCLUDE_VALUE, pair);
    if (!ok) return undefined;
    const file = typeof value === 'string' ? value : (value as { file: string }).file;
    const at = src.pos(pair.value as YamlNode);
    const templated = file.includes('{{');
    if (templated && kind === 'import_tasks') {
      this.ctx.problem(
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
    assignDefined(include, { tasks, ...loopOf(this.ctx, src, keywords), loopControl: loopControl.control });
    return templated || tasks ? include : undefined;
  }

  /** Finds and loads an included task file (beside the including file, then tasks/ and ../tasks/). */
  private async includedFile(fromFile: string, name: string, at: SourcePos): Promise<Node[] | undefined> {
    const { playbookDir, taskFileStack } = this.ctx;
    const rolePath = this.roles.currentRolePath();
    const candidates = isAbsolute(name)
      ? [name]
      : [
          // Inside a role, its tasks/ comes first (Ansible's search in the current role).
          ...(rolePath ? [join(rolePath, 'tasks', name)] : []),
          join(dirname(fromFile), name),
          join(playbookDir, 'tasks', name),
          join(playbookDir, '..', 'tasks', name),
        ].map((c) => resolve(c));
    const found = candidates.find((c) => existsSync(c));
    if (!found) {
      const looked = [...new Set(candidates)].map(displayName);
      this.ctx.problem(at, `task file '${name}' not found`, `looked in: ${looked.join(', ')}`);
      return undefined;
    }
    const cycleStart = taskFileStack.indexOf(found);
    if (cycleStart >= 0) {
      const chain = [...taskFileStack.slice(cycleStart), found].map(displayName);
      this.ctx.problem(
        at,
        `include cycle: ${chain.join(' -> ')}`,
        'a task file must not include itself, directly or not',
      );
      return undefined;
    }
    return this.tasks.taskFile(found, at);
  }

  /**
   * `- import_playbook: other.yml`: the other playbook's plays, in order, with the import's vars (winning over
   * each play's own), tags (added) and when (put before the conditions of each play's tasks, as Ansible does).
   * `loadPlays` reads a playbook file's plays (plays.ts).
   */
  async importPlaybook(
    loaded: LoadedSource,
    map: YAMLMap,
    pair: Pair,
    loadPlays: (file: string, from: SourcePos) => Promise<Play[] | undefined>,
  ): Promise<Play[]> {
    const { src } = loaded;
    const present = new Map<string, Pair>();
    for (const p of map.items as Pair[]) {
      const key = pairKey(p);
      if (p === pair) continue;
      if (key === undefined || !IMPORT_PLAYBOOK_KEYWORDS[key]) {
        this.ctx.problem(
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
    const values = this.ctx.keywords(loaded, IMPORT_PLAYBOOK_KEYWORDS, present);
    const { ok, value } = this.ctx.keyword(loaded, 'import_playbook', IMPORT_PLAYBOOK_VALUE, pair);
    if (!ok) return [];
    const name = value as string;
    const at = src.pos((pair.value as YamlNode | null) ?? pair);
    if (name.includes('{{')) {
      this.ctx.problem(
        at,
        'import_playbook needs a fixed file name',
        'name the playbook as written on disk; ewsplay imports playbooks while loading, before any variable exists',
      );
      return [];
    }
    const { playbookStack } = this.ctx;
    const found = isAbsolute(name) ? name : resolve(dirname(playbookStack.at(-1)!), name);
    if (!existsSync(found)) {
      this.ctx.problem(at, `playbook '${name}' not found`, `looked in: ${displayName(found)}`);
      return [];
    }
    const cycleStart = playbookStack.indexOf(found);
    if (cycleStart >= 0) {
      const chain = [...playbookStack.slice(cycleStart), found].map(displayName);
      this.ctx.problem(
        at,
        `import_playbook cycle: ${chain.join(' -> ')}`,
        'a playbook must not import itself, directly or not',
      );
      return [];
    }
    const plays = (await loadPlays(found, at)) ?? [];
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
          isAbsolute(f) || f.includes('{{') || importedDir === this.ctx.playbookDir
            ? f
            : join(importedDir, f),
        ),
      };
      if (when.length > 0)
        out.tasks = play.tasks.map((n) =>
          n.kind === 'task' && n.implicit ? n : { ...n, when: [...when, ...n.when] },
        );
      return out;
    });
  }
}
