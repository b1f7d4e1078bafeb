// Roles: a play's `roles:`, import_role and include_role, and meta dependencies, each loaded into a block
// of the role's tasks (its dependencies' first) that carries the role's defaults, vars and parameters; the
// role's handlers join the play's. Found as Ansible finds them (roles/ beside the playbook, roles_path ...).
import { existsSync, readdirSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { isMap, isSeq, type Pair, type Node as YamlNode } from 'yaml';
import type {
  BlockNode,
  IncludeNode,
  Node,
  NodeCommon,
  RoleFiles,
  RoleInfo,
  TaskNode,
  Vars,
} from '../core/model.js';
import type { SourcePos } from '../core/problems.js';
import { didYouMean } from '../core/suggest.js';
import { kindOf } from './check.js';
import { ROLE_ACTION_VALUE, ROLE_ACTIONS, ROLE_KEYWORDS, shortActionName } from './keywords.js';
import {
  displayName,
  EXPRESSION_KEYWORDS,
  isDirectory,
  isEmptyNode,
  type LoadContext,
  type LoadedSource,
  markExpressions,
  type TaskLoading,
} from './loader-context.js';
import { assignDefined, commonOf, loopControlOf, loopOf } from './node-values.js';
import { mapPair, pairKey } from './yaml.js';

export type RoleAction = (typeof ROLE_ACTIONS)[number];

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
export interface PlayRoles {
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

export class Roles {
  /** The roles of the play being loaded (or of one include_role loaded at run time). */
  private playRoles: PlayRoles = newPlayRoles();
  /** Roles being loaded, outermost first: their dependency chain, and a dependency cycle. */
  private readonly roleStack: { name: string; path: string }[] = [];
  /** A role's files read once (vars, defaults, meta), by path. */
  private readonly roleFiles = new Map<string, Promise<Vars | undefined>>();

  constructor(
    private readonly ctx: LoadContext,
    private readonly tasks: TaskLoading,
  ) {}

  /** A new play starts: what its roles add up to (handlers, exposed defaults and vars) collects here. */
  startPlay(): PlayRoles {
    this.playRoles = newPlayRoles();
    return this.playRoles;
  }

  /** The directory of the role whose files are being loaded, if any. */
  currentRolePath(): string | undefined {
    return this.roleStack.at(-1)?.path;
  }

  /** `roles:` of a play: each entry a role's block, in order; a role already run with the same parameters is left out. */
  async playRolesSection(loaded: LoadedSource, pair: Pair): Promise<Node[]> {
    const { src } = loaded;
    const node = pair.value;
    if (isEmptyNode(node)) return [];
    if (!isSeq(node)) {
      this.ctx.problem(
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

  /** import_role (the role's block, inlined at load) and include_role (run time; a fixed name is loaded now). */
  async roleAction(
    loaded: LoadedSource,
    pair: Pair,
    kind: RoleAction,
    common: NodeCommon,
    values: Map<string, unknown>,
    keywords: Map<string, Pair>,
  ): Promise<Node | undefined> {
    const { src } = loaded;
    const { ok, value } = this.ctx.keyword(loaded, kind, ROLE_ACTION_VALUE, pair);
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
      this.ctx.problem(
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
    assignDefined(include, { tasks, ...loopOf(this.ctx, src, keywords), loopControl: loopControl.control });
    return include;
  }

  /** include_role with a templated name, at run time: the role's block and handlers. */
  async runtimeRole(
    spec: RoleFiles & { name: string },
    at: SourcePos,
  ): Promise<{ block?: BlockNode; handlers: TaskNode[] }> {
    this.startPlay();
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

  /** One role of `roles:` or of meta dependencies: a name, or a mapping with role:/name:, keywords and parameters. */
  private roleEntry(loaded: LoadedSource, item: YamlNode, where: string): RoleRequest | undefined {
    const { src } = loaded;
    const value = src.value(item);
    const at = src.pos(item);
    if (typeof value === 'string' && value !== '')
      return { name: value, at, params: {}, common: { pos: at, when: [], tags: [], vars: {} } };
    if (!isMap(item)) {
      this.ctx.problem(
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
        this.ctx.problem(src.pos(pair), 'a role key must be a plain name');
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
      this.ctx.problem(src.pos(present.get('name')!), "a role takes 'role:' or 'name:', not both");
    const values = this.ctx.keywords(loaded, ROLE_KEYWORDS, present);
    const name = (values.get('role') ?? values.get('name')) as string | undefined;
    if (name === undefined) {
      if (!present.has('role') && !present.has('name'))
        this.ctx.problem(at, `a role in '${where}' needs 'role:' (the role's name)`, "e.g. '- role: common'");
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
    const { playbookDir } = this.ctx;
    const parent = this.roleStack.at(-1);
    const candidates = isAbsolute(name)
      ? [name]
      : [
          join(playbookDir, 'roles', name),
          ...(parent ? [join(dirname(parent.path), name)] : []),
          ...this.ctx.rolesPath.map((dir) => resolve(playbookDir, dir, name)),
          join(playbookDir, name),
        ].map((c) => resolve(c));
    const found = candidates.find((c) => isDirectory(c));
    if (found) return found;
    const known = isDirectory(join(playbookDir, 'roles'))
      ? readdirSync(join(playbookDir, 'roles')).filter((d) => isDirectory(join(playbookDir, 'roles', d)))
      : [];
    const looked = `looked in: ${[...new Set(candidates)].map(displayName).join(', ')}`;
    this.ctx.problem(at, `role '${name}' not found`, didYouMean(name, known) ?? looked);
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
      this.ctx.problem(
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
      const tasks = tasksFile ? ((await this.tasks.taskFile(tasksFile, request.at)) ?? []) : [];
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
    this.ctx.problem(
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
        this.ctx.problem(
          at,
          `role has no ${dir} file '${from}'`,
          `looked in ${displayName(join(path, dir))}/`,
        );
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
    const loaded = await this.ctx.read(file, at);
    if (!loaded) return undefined;
    const value = loaded.src.value(loaded.src.doc.contents);
    if (value === null || value === undefined) return {};
    if (typeof value !== 'object' || Array.isArray(value)) {
      this.ctx.problem(
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
    let loaded = this.ctx.sources.find((s) => s.src.file === displayName(file));
    if (!loaded) {
      loaded = await this.ctx.read(file);
      if (!loaded) return none;
    }
    const { src } = loaded;
    const root = src.doc.contents;
    if (isEmptyNode(root)) return none;
    if (!isMap(root)) {
      this.ctx.problem(
        src.pos(root),
        `a role's meta/main.yml must be a mapping, got ${kindOf(src.value(root))}`,
      );
      return none;
    }
    const allow = mapPair(root, 'allow_duplicates');
    const allowValue = allow ? src.value(allow.value) : false;
    if (allow && typeof allowValue !== 'boolean' && allowValue !== null)
      this.ctx.problem(src.pos(allow.value as YamlNode), "'allow_duplicates' must be true or false");
    const depsPair = mapPair(root, 'dependencies');
    const dependencies: RoleRequest[] = [];
    const deps = depsPair?.value;
    if (isSeq(deps)) {
      for (const item of deps.items) {
        const request = this.roleEntry(loaded, item as YamlNode, 'dependencies');
        if (request) dependencies.push(request);
      }
    } else if (!isEmptyNode(deps))
      this.ctx.problem(
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
    const loaded = await this.ctx.read(file, request.at);
    if (!loaded) return;
    const handlers = await this.tasks.handlers(loaded, loaded.src.doc.contents);
    this.playRoles.handlers.push(...handlers.map((h) => ({ ...h, role: info })));
  }
}

/** include_role and import_role, by their short or ansible.builtin / ansible.legacy names. */
export function roleActionOf(key: string): RoleAction | undefined {
  const short = shortActionName(key);
  return (ROLE_ACTIONS as readonly string[]).includes(short) ? (short as RoleAction) : undefined;
}

/** A role's file: <dir>/main.yml (or main.yaml, main), or the file *_from names (with .yml/.yaml added). */
function roleFile(path: string, dir: string, from?: string): string | undefined {
  const names = from ? [from, `${from}.yml`, `${from}.yaml`] : ['main.yml', 'main.yaml', 'main'];
  return names.map((n) => join(path, dir, n)).find((f) => existsSync(f) && !isDirectory(f));
}
