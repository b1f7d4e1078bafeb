// group_by: puts the task's host in the group its rendered `key` names (created when new, under `parents`),
// in the run's in-memory inventory, so that later plays can target the group. Runs per host, as in Ansible;
// the engine applies the change and reports changed only when the host newly joined or a group was made.
import { fail } from './kit.js';
import type { Module } from './module.js';

/** Ansible's group_by turns spaces in group names into dashes. */
const groupName = (name: string) => name.replace(/ /g, '-');

export const groupByModule: Module = {
  name: 'group_by',
  summary: "Put the host in a group named by a template (created when new) for later plays' hosts: patterns",
  args: {
    type: 'object',
    additionalProperties: false,
    required: ['key'],
    properties: {
      key: {
        type: 'string',
        minLength: 1,
        description: "The group's name, usually a template such as os_{{ ansible_facts.distribution }}",
      },
      parents: {
        description: "Parent groups of the group (created when new); default 'all'",
        anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
        default: ['all'],
      },
    },
  },
  check: 'full',
  async run(ctx, args) {
    const key = String(args.key).trim();
    if (key === '') return fail('key rendered to an empty group name');
    const parents = (
      args.parents === undefined ? ['all'] : Array.isArray(args.parents) ? args.parents : [args.parents]
    ).map((p) => groupName(String(p)));
    const group = groupName(key);
    return {
      changed: false,
      data: { add_group: group, parent_groups: parents },
      inventory: { host: ctx.host, groups: [group], parents },
    };
  },
};
