// The group/host graph, built the way Ansible's InventoryData builds it, so that group order, `ungrouped`,
// depths and host order come out the same as in ansible-inventory.
import { MAX_INVENTORY_HOSTS } from '../core/bounds.js';
import { type SourcePos, UserError } from '../core/problems.js';
import type { VarLayer } from './vars-files.js';

export interface GroupNode {
  name: string;
  /** Vars written inline in the inventory file(s). */
  vars: VarLayer;
  children: GroupNode[];
  parents: GroupNode[];
  /** Hosts placed directly in this group, in the order they were added. */
  hosts: HostNode[];
  /** ansible_group_priority: among groups of equal depth, higher priority merges later (wins). */
  priority: number;
  /** Longest path from `all` (0). Set by reconcile(). */
  depth: number;
  pos?: SourcePos;
}

export interface HostNode {
  name: string;
  vars: VarLayer;
  /** Groups the host was placed in directly. */
  groups: GroupNode[];
  pos: SourcePos;
  /** The inventory file that first defined the host (Ansible's inventory_file). */
  file: string | undefined;
}

function newLayer(): VarLayer {
  return { vars: {}, pos: {} };
}

export class InventoryGraph {
  readonly groups = new Map<string, GroupNode>();
  readonly hosts = new Map<string, HostNode>();
  readonly all: GroupNode;
  readonly ungrouped: GroupNode;

  constructor() {
    this.all = this.addGroup('all');
    this.ungrouped = this.addGroup('ungrouped');
    this.addChild(this.all, this.ungrouped);
  }

  addGroup(name: string, pos?: SourcePos): GroupNode {
    let group = this.groups.get(name);
    if (!group) {
      group = { name, vars: newLayer(), children: [], parents: [], hosts: [], priority: 1, depth: 0 };
      this.groups.set(name, group);
    }
    if (pos && !group.pos) group.pos = pos;
    return group;
  }

  /** Adds a host (first definition wins for position and file); `port` from `name:port` sets ansible_port. */
  addHost(name: string, pos: SourcePos, file: string | undefined, port?: number): HostNode {
    let host = this.hosts.get(name);
    if (!host) {
      if (this.hosts.size >= MAX_INVENTORY_HOSTS)
        throw UserError.at(
          pos,
          `the inventory holds more than ${MAX_INVENTORY_HOSTS.toLocaleString('en')} hosts, the most ewsplay works with`,
          'split the hosts into several inventories (a sites directory runs them one after another)',
        );
      host = { name, vars: newLayer(), groups: [], pos, file };
      if (port !== undefined) setVar(host.vars, 'ansible_port', port, pos);
      this.hosts.set(name, host);
    }
    return host;
  }

  addHostToGroup(host: HostNode, group: GroupNode): void {
    // Membership is kept on both sides: the host's few groups are searched, not the group's many hosts
    // (a range of 100,000 hosts would make this quadratic).
    if (host.groups.includes(group)) return;
    group.hosts.push(host);
    host.groups.push(group);
  }

  /** Links child under parent; returns the cycle (as names) instead when the link would close one. */
  addChild(parent: GroupNode, child: GroupNode): string[] | undefined {
    if (parent.children.includes(child)) return undefined;
    if (child === parent) return [child.name, child.name];
    const path = pathDown(child, parent);
    if (path) return [...path, child.name];
    parent.children.push(child);
    if (!child.parents.includes(parent)) child.parents.push(parent);
    return undefined;
  }

  /** Ansible's reconcile_inventory: every group under `all`, hosts of no group in `ungrouped`, depths. */
  reconcile(): void {
    for (const group of this.groups.values()) {
      if (group !== this.all && group.parents.length === 0) this.addChild(this.all, group);
    }
    for (const host of this.hosts.values()) {
      const others = host.groups.some((g) => g !== this.all && g !== this.ungrouped);
      if (others && host.groups.includes(this.ungrouped)) this.removeFromGroup(host, this.ungrouped);
      else if (!others && !host.groups.includes(this.ungrouped)) this.addHostToGroup(host, this.ungrouped);
    }
    const depth = new Map<GroupNode, number>([[this.all, 0]]);
    const depthOf = (g: GroupNode): number => {
      let d = depth.get(g);
      if (d === undefined) {
        d = 1 + Math.max(0, ...g.parents.map(depthOf));
        depth.set(g, d);
      }
      return d;
    };
    for (const g of this.groups.values()) g.depth = depthOf(g);
  }

  private removeFromGroup(host: HostNode, group: GroupNode): void {
    group.hosts.splice(group.hosts.indexOf(host), 1);
    host.groups.splice(host.groups.indexOf(group), 1);
  }
}

/** Names along a path from `from` down to `to` through children, if there is one. */
function pathDown(from: GroupNode, to: GroupNode, seen = new Set<GroupNode>()): string[] | undefined {
  if (from === to) return [from.name];
  if (seen.has(from)) return undefined;
  seen.add(from);
  for (const child of from.children) {
    const rest = pathDown(child, to, seen);
    if (rest) return [from.name, ...rest];
  }
  return undefined;
}

export function setVar(layer: VarLayer, name: string, value: unknown, pos: SourcePos): void {
  layer.vars[name] = value;
  layer.pos[name] = pos;
}
