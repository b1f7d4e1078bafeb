// Playbooks and task files -> the model the engine runs. Every problem of every file read is collected, then
// reported at once. The loader's pieces, each a file:
//   loader-context.ts  the problems and sources of one load, reading a file, checking keyword values
//   plays.ts           a playbook's plays: keywords, sections, handlers, notify checked against them
//   tasks.ts           task files, sections and one task: which key is its action, its keywords
//   module-args.ts     a task's module arguments (mapping, key=value, args:, aliases) and local_action
//   includes.ts        include_tasks, import_tasks and import_playbook
//   roles.ts           roles:, import_role, include_role and meta dependencies
//   node-values.ts     checked keyword values -> the model's fields;  walk.ts  one walk over a task tree
import { dirname, resolve } from 'node:path';
import type { BlockNode, Node, Play, Playbook, RoleFiles, TaskNode } from '../core/model.js';
import { type SourcePos, UserError } from '../core/problems.js';
import {
  BLOCK_KEYWORDS,
  HANDLER_KEYWORDS,
  IMPORT_KEYWORDS,
  IMPORT_PLAYBOOK_KEYWORDS,
  IMPORT_PLAYBOOK_VALUE,
  INCLUDE_KEYWORDS,
  INCLUDE_VALUE,
  PLAY_KEYWORDS,
  ROLE_ACTION_VALUE,
  ROLE_KEYWORDS,
  TASK_KEYWORDS,
} from './keywords.js';
import { LoadContext, type LoadResult, tableSchema } from './loader-context.js';
import { loaderArgsSchema } from './module-args.js';
import { Plays } from './plays.js';
import { defaultRegistry, type ModuleRegistry } from './registry.js';
import { Tasks } from './tasks.js';

export type { LoadedSource, LoadResult } from './loader-context.js';
export { loaderArgsSchema, renderedArgsProblem } from './module-args.js';

export interface LoadOptions {
  registry?: ModuleRegistry;
  /** Directory whose tasks/ and ../tasks/ hold included task files (default: the loaded file's directory). */
  playbookDir?: string;
  /** Ansible's roles_path: directories searched for roles after roles/ beside the playbook. */
  rolesPath?: string[];
  /**
   * Told each play's hosts and connection keywords as soon as they are read, before its tasks load (the
   * run connects to the hosts meanwhile: engine/early-connections.ts).
   */
  onPlay?: (play: Pick<Play, 'hosts' | 'connection' | 'remoteUser' | 'port'>) => void;
}

/** One load: its context and the pieces over it. */
function loader(playbookDir: string, opts: LoadOptions): { ctx: LoadContext; tasks: Tasks; plays: Plays } {
  const ctx = new LoadContext(opts.registry ?? defaultRegistry, playbookDir, opts.rolesPath);
  const tasks = new Tasks(ctx);
  return { ctx, tasks, plays: new Plays(ctx, tasks, opts.onPlay) };
}

/** Loads a playbook and everything it imports or includes by a fixed name; problems are returned, not thrown. */
export async function loadPlaybookDetailed(
  file: string,
  opts: LoadOptions = {},
): Promise<LoadResult<Playbook>> {
  const { ctx, plays } = loader(opts.playbookDir ?? dirname(resolve(file)), opts);
  return ctx.result({ file, plays: (await plays.plays(file)) ?? [] });
}

/** Loads a task file (and its imports and fixed includes); problems are returned, not thrown. */
export async function loadTaskFileDetailed(
  file: string,
  opts: LoadOptions = {},
): Promise<LoadResult<Node[]>> {
  const { ctx, tasks } = loader(opts.playbookDir ?? dirname(resolve(file)), opts);
  return ctx.result((await tasks.taskFile(resolve(file))) ?? []);
}

/** include_role with a templated name, at run time: the role's block and handlers, or a UserError. */
export async function loadRuntimeRole(
  spec: RoleFiles & { name: string },
  at: SourcePos,
  playbookDir: string,
  opts: LoadOptions = {},
): Promise<{ block?: BlockNode; handlers: TaskNode[] }> {
  const { ctx, tasks } = loader(playbookDir, opts);
  const { value, problems } = ctx.result(await tasks.roles.runtimeRole(spec, at));
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
