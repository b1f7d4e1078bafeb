// Checked keyword values -> the model's fields: the keywords every task, block, include and role entry
// shares (commonOf), loops, tags, conditions and lists as Ansible reads them.
import type { Pair } from 'yaml';
import type { LoopControl, NodeCommon, Vars } from '../core/model.js';
import type { SourcePos } from '../core/problems.js';
import type { LoadContext } from './loader-context.js';
import type { YamlSource } from './yaml.js';

const LOOP_KEYWORDS = ['loop', 'with_list', 'with_items'] as const;

/** when, tags, vars, name, become ... of a task, block, include or role entry. */
export function commonOf(values: Map<string, unknown>, pos: SourcePos): NodeCommon {
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

/** loop, or Ansible's older with_list / with_items (which flattens one level): one of them. */
export function loopOf(
  ctx: LoadContext,
  src: YamlSource,
  keywords: Map<string, Pair>,
): { loop?: unknown; loopFlatten?: boolean } {
  const given = LOOP_KEYWORDS.filter((k) => keywords.has(k));
  for (const extra of given.slice(1))
    ctx.problem(
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

export function loopControlOf(value: unknown): { loopVar: string; label?: string; control?: LoopControl } {
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

export function listOf(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

/** Ansible splits a tag string on commas. */
export function tagsOf(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value.map(String);
  return String(value)
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
}

export function conditionsOf(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

/** Sets only the fields that have a value (the model's optional fields are absent, never undefined). */
export function assignDefined<T extends object>(target: T, fields: Partial<T>): void {
  for (const [k, v] of Object.entries(fields))
    if (v !== undefined) (target as Record<string, unknown>)[k] = v;
}
