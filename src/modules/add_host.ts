// add_host: adds a host (and its groups) to the run's in-memory inventory, so that later plays of the same
// playbook can target it by name or group in `hosts:`. Every other argument becomes a variable of the host
// (ansible_host, ansible_port, ansible_user ... reach it like an inventory host). As in Ansible it bypasses
// the host loop (runs once for the batch; a loop adds one host per item), the engine applies the change,
// and it reports changed only when the inventory changed; check mode changes the in-memory inventory too.
import { parseAddress } from '../inventory/host-range.js';
import type { Module } from './module.js';

/** `groups` as a list, or a comma-separated string, as Ansible's add_host takes it. */
export function groupList(groups: unknown): string[] {
  const list = Array.isArray(groups)
    ? groups.map(String)
    : typeof groups === 'string'
      ? groups.split(',')
      : [];
  const out: string[] = [];
  for (const g of list.map((g) => g.trim())) if (g !== '' && !out.includes(g)) out.push(g);
  return out;
}

export const addHostModule: Module = {
  name: 'add_host',
  summary: "Add a host (and its groups and variables) to the run's in-memory inventory for later plays",
  aliases: { host: 'name', hostname: 'name', group: 'groups', groupname: 'groups' },
  args: {
    type: 'object',
    required: ['name'],
    properties: {
      name: {
        type: 'string',
        minLength: 1,
        description: 'The host name or address to add; name:port also sets ansible_port',
      },
      groups: {
        description: 'Groups to put the host in (a list, or names separated by commas); created when new',
        anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
      },
    },
    // Any other argument is a variable of the host.
    additionalProperties: true,
  },
  runOnce: true,
  check: 'full',
  async run(_ctx, args) {
    const { name: given, groups, ...vars } = args;
    const text = String(given).trim();
    // Not a parsable host[:port]: Ansible still takes the name as it is.
    const address = parseAddress(text);
    const host = address?.host ?? text;
    if (address?.port !== undefined && vars.ansible_port === undefined) vars.ansible_port = address.port;
    const groupNames = groupList(groups);
    return {
      changed: false,
      data: { add_host: { host_name: host, groups: groupNames, host_vars: vars } },
      inventory: { host, groups: groupNames, vars },
    };
  },
};
