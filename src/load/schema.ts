// JSON Schemas (draft 2020-12) of playbooks, task files, inventories and variables files, generated from the module registry so
// an editor with yaml-language-server flags a typo in a module argument as you type. `ewsplay schema` writes
// them; the committed copies in schemas/ are checked against this code by a test.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Module } from '../modules/module.js';
import {
  BLOCK_SECTIONS,
  HANDLER_KEYWORDS,
  IMPORT_PLAYBOOK_KEYWORDS,
  IMPORT_PLAYBOOK_VALUE,
  type INCLUDE_ACTIONS,
  INCLUDE_VALUE,
  type JsonSchema,
  type Keyword,
  PLAY_KEYWORDS,
  ROLE_ACTION_VALUE,
  type ROLE_ACTIONS,
  TASK_KEYWORDS,
} from './keywords.js';
import { defaultRegistry, type ModuleRegistry } from './registry.js';

const DRAFT = 'https://json-schema.org/draft/2020-12/schema';

export interface Schemas {
  playbook: JsonSchema;
  tasks: JsonSchema;
  inventory: JsonSchema;
  vars: JsonSchema;
}

export const SCHEMA_FILES: Record<keyof Schemas, string> = {
  playbook: 'playbook.schema.json',
  tasks: 'tasks.schema.json',
  inventory: 'inventory.schema.json',
  vars: 'vars.schema.json',
};

const defName = (module: Module) => `module_${module.name}`;

/** A string holding a Jinja template: Ansible accepts one wherever a value is expected (`port: "{{ p }}"`). */
const TEMPLATE_STRING: JsonSchema = {
  type: 'string',
  pattern: '\\{\\{|\\{%',
  description: 'A template whose value is used at run time',
};

/** Whether a schema already takes any string (no enum, pattern or format narrowing it). */
function takesAnyString(s: JsonSchema): boolean {
  const types = Array.isArray(s.type) ? s.type : [s.type];
  return types.includes('string') && !s.enum && !s.pattern && !s.format && s.const === undefined;
}

/**
 * The editor's view of an argument or keyword: also a template string wherever the value is not already
 * any string, down through mappings and lists (the loader checks templated values once they are rendered).
 */
function acceptTemplates(s: JsonSchema): JsonSchema {
  if (typeof s !== 'object' || s === null || s.$ref !== undefined) return s;
  const inner: JsonSchema = { ...s };
  if (inner.properties)
    inner.properties = Object.fromEntries(
      Object.entries(inner.properties as Record<string, JsonSchema>).map(([k, v]) => [k, acceptTemplates(v)]),
    );
  if (inner.items && typeof inner.items === 'object')
    inner.items = acceptTemplates(inner.items as JsonSchema);
  if (inner.additionalProperties && typeof inner.additionalProperties === 'object')
    inner.additionalProperties = acceptTemplates(inner.additionalProperties as JsonSchema);
  for (const k of ['anyOf', 'oneOf'] as const)
    if (Array.isArray(inner[k])) inner[k] = (inner[k] as JsonSchema[]).map(acceptTemplates);
  if (takesAnyString(inner) || (inner.type === undefined && !inner.enum && !inner.anyOf && !inner.oneOf))
    return inner;
  const { description, ...rest } = inner;
  return { ...(description ? { description } : {}), anyOf: [rest, TEMPLATE_STRING] };
}

/** A module's args as the editor sees them: each argument may be a template. */
function argsForEditor(args: JsonSchema): JsonSchema {
  if (!args.properties) return args;
  return {
    ...args,
    properties: Object.fromEntries(
      Object.entries(args.properties as Record<string, JsonSchema>).map(([k, v]) => [k, acceptTemplates(v)]),
    ),
  };
}

/** A module's args with its task-list args (manual's verify:) typed as task lists. */
function argsWithTaskLists(module: Module): JsonSchema {
  const lists = module.taskListArgs ?? [];
  if (lists.length === 0) return module.args;
  const properties = { ...((module.args.properties as Record<string, JsonSchema> | undefined) ?? {}) };
  for (const name of lists) {
    const description = properties[name]?.description;
    properties[name] = { ...(description ? { description } : {}), $ref: '#/$defs/tasks' };
  }
  return { ...module.args, properties };
}

/** Ansible's aliases of arguments (file's dest for path) as properties of their own; a required argument
 * may be given by any of its names. */
function argsWithAliases(module: Module, args: JsonSchema): JsonSchema {
  const aliases = Object.entries(module.aliases ?? {});
  if (aliases.length === 0) return args;
  const properties = { ...((args.properties as Record<string, JsonSchema> | undefined) ?? {}) };
  for (const [alias, name] of aliases)
    properties[alias] = { ...properties[name], description: `Alias of ${name}` };
  const namesOf = (name: string) => [name, ...aliases.filter(([, n]) => n === name).map(([a]) => a)];
  const required = (args.required as string[] | undefined) ?? [];
  const aliased = required.filter((r) => namesOf(r).length > 1);
  const { required: _required, ...rest } = args;
  const plain = required.filter((r) => !aliased.includes(r));
  return {
    ...rest,
    properties,
    ...(plain.length > 0 ? { required: plain } : {}),
    ...(aliased.length > 0
      ? {
          allOf: [
            ...((args.allOf as JsonSchema[] | undefined) ?? []),
            ...aliased.map((r) => ({
              anyOf: namesOf(r).map((k) => ({ properties: { [k]: true }, required: [k] })),
            })),
          ],
        }
      : {}),
  };
}

/** What a task may write under a module key: the args mapping, a string (the free form of command and
 * shell, key=value words for the others), or nothing when no arg is required. */
function moduleValueSchema(module: Module): JsonSchema {
  const forms: JsonSchema[] = [argsWithAliases(module, argsForEditor(argsWithTaskLists(module)))];
  forms.push(
    module.freeForm
      ? { type: 'string', description: `Free form: the ${module.freeForm}, then key=value options` }
      : { type: 'string', description: 'Arguments as key=value words (Ansible short form)' },
  );
  const required = (module.args.required as string[] | undefined) ?? [];
  if (required.length === 0) forms.push({ type: 'null' });
  return { description: module.summary, anyOf: forms };
}

const keywordSchemas = (keywords: Record<string, Keyword>): Record<string, JsonSchema> =>
  Object.fromEntries(Object.entries(keywords).map(([name, k]) => [name, acceptTemplates(k.schema)]));

/** Each action under its short name and its ansible.builtin. and ansible.legacy. names, as the loader takes them. */
function withFqcnForms(actions: Record<string, JsonSchema>): Record<string, JsonSchema> {
  const forms = (name: string) => [name, `ansible.builtin.${name}`, `ansible.legacy.${name}`];
  return Object.fromEntries(
    Object.entries(actions).flatMap(([name, schema]) => forms(name).map((n) => [n, schema])),
  );
}

function taskSchema(registry: ModuleRegistry, keywords: Record<string, Keyword>): JsonSchema {
  const moduleProps: Record<string, JsonSchema> = {};
  for (const key of registry.keys()) {
    const module = registry.resolve(key);
    if (module) moduleProps[key] = { $ref: `#/$defs/${defName(module)}` };
  }
  const actionProps = withFqcnForms({
    include_tasks: { ...INCLUDE_VALUE.schema, description: 'Task file loaded at run time' },
    import_tasks: { ...INCLUDE_VALUE.schema, description: 'Task file inlined at load time' },
    include_role: { ...ROLE_ACTION_VALUE.schema, description: 'Role run here, chosen at run time' },
    import_role: { ...ROLE_ACTION_VALUE.schema, description: 'Role inlined here at load time' },
  } satisfies Record<(typeof INCLUDE_ACTIONS)[number] | (typeof ROLE_ACTIONS)[number], JsonSchema>);
  const actions = [...registry.keys(), BLOCK_SECTIONS[0], ...Object.keys(actionProps)];
  return {
    type: 'object',
    properties: {
      ...keywordSchemas(keywords),
      ...moduleProps,
      block: { $ref: '#/$defs/tasks', description: 'Tasks run together' },
      rescue: { $ref: '#/$defs/tasks', description: 'Run when a task of the block fails' },
      always: { $ref: '#/$defs/tasks', description: 'Run after the block, failed or not' },
      ...actionProps,
    },
    additionalProperties: false,
    // Exactly one action per task: one module, or a block, or an include.
    oneOf: actions.map((a) => ({ properties: { [a]: true }, required: [a] })),
    dependentRequired: { rescue: ['block'], always: ['block'] },
  };
}

function commonDefs(registry: ModuleRegistry): Record<string, JsonSchema> {
  const defs: Record<string, JsonSchema> = {
    tasks: { type: 'array', items: { $ref: '#/$defs/task' } },
    task: taskSchema(registry, TASK_KEYWORDS),
  };
  for (const module of registry.modules.values()) defs[defName(module)] = moduleValueSchema(module);
  return defs;
}

function playbookSchema(registry: ModuleRegistry): JsonSchema {
  const play: JsonSchema = {
    type: 'object',
    properties: {
      ...keywordSchemas(PLAY_KEYWORDS),
      pre_tasks: { $ref: '#/$defs/tasks', description: PLAY_KEYWORDS.pre_tasks!.schema.description },
      tasks: { $ref: '#/$defs/tasks', description: PLAY_KEYWORDS.tasks!.schema.description },
      post_tasks: { $ref: '#/$defs/tasks', description: PLAY_KEYWORDS.post_tasks!.schema.description },
      handlers: {
        type: 'array',
        items: { $ref: '#/$defs/handler' },
        description: PLAY_KEYWORDS.handlers!.schema.description,
      },
    },
    required: ['hosts'],
    additionalProperties: false,
  };
  const importForms = withFqcnForms({ import_playbook: IMPORT_PLAYBOOK_VALUE.schema });
  const importPlaybook: JsonSchema = {
    type: 'object',
    properties: { ...importForms, ...keywordSchemas(IMPORT_PLAYBOOK_KEYWORDS) },
    oneOf: Object.keys(importForms).map((form) => ({ properties: { [form]: true }, required: [form] })),
    additionalProperties: false,
  };
  return {
    $schema: DRAFT,
    title: 'ewsplay playbook',
    description: 'A list of plays and import_playbook entries (Ansible playbook format)',
    type: 'array',
    items: { anyOf: [{ $ref: '#/$defs/play' }, { $ref: '#/$defs/import_playbook' }] },
    $defs: {
      play,
      import_playbook: importPlaybook,
      handler: taskSchema(registry, HANDLER_KEYWORDS),
      ...commonDefs(registry),
    },
  };
}

function tasksSchema(registry: ModuleRegistry): JsonSchema {
  return {
    $schema: DRAFT,
    title: 'ewsplay task file',
    description: 'A list of tasks, included with include_tasks or import_tasks',
    $ref: '#/$defs/tasks',
    $defs: commonDefs(registry),
  };
}

function inventorySchema(): JsonSchema {
  const mapping = { type: ['object', 'null'] };
  return {
    $schema: DRAFT,
    title: 'ewsplay inventory',
    description: "Ansible YAML inventory: groups (usually 'all') with hosts, vars and children",
    type: 'object',
    additionalProperties: { $ref: '#/$defs/group' },
    $defs: {
      group: {
        type: ['object', 'null'],
        properties: {
          hosts: {
            ...mapping,
            description: 'Host names, each with its variables (or nothing)',
            additionalProperties: {
              ...mapping,
              description: 'Host variables (ansible_host, ansible_port, ...)',
            },
          },
          vars: { ...mapping, description: 'Variables of every host of the group' },
          children: {
            ...mapping,
            description: 'Groups inside this group',
            additionalProperties: { $ref: '#/$defs/group' },
          },
        },
        additionalProperties: false,
      },
    },
  };
}

/** group_vars/, host_vars/ and vars files: a mapping of variable names to any values. */
function varsSchema(): JsonSchema {
  return {
    $schema: DRAFT,
    title: 'ewsplay variables file',
    description: 'Variables (group_vars/, host_vars/, vars_files, include_vars): names to values',
    type: ['object', 'null'],
    propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
  };
}

export function buildSchemas(registry: ModuleRegistry = defaultRegistry): Schemas {
  return {
    playbook: playbookSchema(registry),
    tasks: tasksSchema(registry),
    inventory: inventorySchema(),
    vars: varsSchema(),
  };
}

/** The text of a schema file, as committed. */
export function schemaText(schema: JsonSchema): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}

export async function writeSchemas(dir: string, registry: ModuleRegistry = defaultRegistry): Promise<void> {
  await mkdir(dir, { recursive: true });
  const schemas = buildSchemas(registry);
  for (const [kind, file] of Object.entries(SCHEMA_FILES))
    await writeFile(join(dir, file), schemaText(schemas[kind as keyof Schemas]));
}
