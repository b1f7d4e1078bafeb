// The inventory: hosts, groups and their variables, loaded from one or more Ansible YAML inventories
// (files or directories) with group_vars/ and host_vars/ beside them, and Ansible's host patterns over them.
//
// A host's inventory variables merge in Ansible's documented order (later wins, keys replace, no deep merge):
//   1. inline `vars` of group all
//   2. inline `vars` of the host's other groups, sorted by depth, then ansible_group_priority, then name
//   3. group_vars/all files            (for each -i source, in order)
//   4. group_vars/<group> files         (for each -i source; groups sorted as in 2)
//   5. the host's inline variables
//   6. host_vars/<host> files           (for each -i source, in order)
// So group_vars/all beats an inline child-group var: that is Ansible's order, kept for compatibility.
// ansible-playbook also reads group_vars/ and host_vars/ beside the playbook (InventoryOptions.playbookDir):
// in 3, 4 and 6 they come after every -i source's, as its vars plugins' "play" stage after "inventory".
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { readInputText } from '../core/input-file.js';
import { type Problem, type SourcePos, UsageError, UserError } from '../core/problems.js';
import { allInOrder } from '../util/all-in-order.js';
import { type GroupNode, type HostNode, InventoryGraph, setVar } from './graph.js';
import { ipv4, ipv6, parseAddress } from './host-range.js';
import { PatternMatcher } from './patterns.js';
import { loadVarsFiles, type VarLayer, varsFilesIn } from './vars-files.js';
import { parseInventoryFile } from './yaml-inventory.js';

/** Host names that mean this machine: a pattern naming one gets an implicit `localhost` (connection local). */
export const LOCALHOST_NAMES = ['localhost', '127.0.0.1', '::1'];

/** Directory entries Ansible skips when it reads an inventory directory. */
const IGNORED_NAMES = /^\.|^host_vars$|^group_vars$|^vars_plugins$/;
const IGNORED_EXTENSIONS = [
  '.pyc',
  '.pyo',
  '.swp',
  '.bak',
  '~',
  '.rpm',
  '.md',
  '.txt',
  '.rst',
  '.orig',
  '.ini',
  '.cfg',
  '.retry',
];
const INVENTORY_EXTENSIONS = ['.yml', '.yaml', '.json', ''];

/** The vars files of one -i source (group_vars/ and host_vars/ beside it). */
interface SourceVars {
  groups: Map<string, VarLayer>;
  hosts: Map<string, VarLayer>;
}

export interface GroupEntry {
  /** Hosts placed directly in the group. */
  hosts: string[];
  /** Direct child groups, in definition order. */
  children: string[];
}

/** What add_host and group_by change in the run's inventory (Ansible's add_host / add_group results). */
export interface DynamicChange {
  /** The host: created when new (add_host), or the task's own host (group_by). */
  host: string;
  /** Groups the host joins, created when new. */
  groups: string[];
  /** group_by's parents: each of `groups` becomes their child (parents created when new). */
  parents?: string[];
  /** add_host: variables merged into the host's own inline variables (later keys replace, no deep merge). */
  vars?: Record<string, unknown>;
}

export interface InventoryOptions {
  /**
   * Reads an inventory or group_vars/host_vars file's text (the vault's reader decrypts vault files and
   * `!vault` values).
   */
  readVarsFile?: (file: string) => Promise<string>;
  /**
   * The playbook's directory (of the playbook given on the command line, not of imported ones): its
   * group_vars/ and host_vars/ count too, each above the same kind of file of the inventory, as with
   * ansible-playbook. Not given for `ewsplay inventory`, as ansible-inventory reads none.
   */
  playbookDir?: string;
}

export async function loadInventory(sources: string[], options: InventoryOptions = {}): Promise<Inventory> {
  const graph = new InventoryGraph();
  const problems: Problem[] = [];
  const baseDirs: string[] = [];
  for (const source of sources) {
    const path = resolve(source);
    const info = await stat(path).catch(() => undefined);
    if (!info) {
      if (source.includes(',')) {
        addHostList(graph, source);
        continue;
      }
      throw new UsageError(
        `inventory source not found: ${source}`,
        'pass -i with an inventory file (YAML or INI) or a directory holding one',
      );
    }
    const files = info.isDirectory() ? await inventoryFilesIn(path, problems) : [path];
    const read = options.readVarsFile ?? readInputText;
    const texts = await allInOrder(files.map((f) => read(f)));
    for (const [i, file] of files.entries()) parseInventoryFile(file, texts[i]!, graph, problems);
    baseDirs.push(info.isDirectory() ? path : dirname(path));
  }
  graph.reconcile();
  for (const host of graph.hosts.values()) {
    const group = graph.groups.get(host.name);
    if (group)
      problems.push({
        ...host.pos,
        message: `'${host.name}' is both a host and a group`,
        hint: `rename the host or the group${group.pos ? ` (the group is defined at ${group.pos.file}:${group.pos.line})` : ''}`,
      });
  }
  const vars = await allInOrder(
    baseDirs.map((dir) => loadSourceVars(dir, graph, problems, options.readVarsFile)),
  );
  if (options.playbookDir !== undefined) {
    // Beside the inventory too: read once, applied again after the other sources, as Ansible does.
    const dir = resolve(options.playbookDir);
    const same = baseDirs.indexOf(dir);
    vars.push(same >= 0 ? vars[same]! : await loadSourceVars(dir, graph, problems, options.readVarsFile));
  }
  if (problems.length > 0) throw new UserError(problems);
  return new Inventory(graph, vars);
}

/** Ansible's `-i host1,host2` form: hosts of no group. */
function addHostList(graph: InventoryGraph, source: string): void {
  let col = 1;
  for (const part of source.split(',')) {
    const name = part.trim();
    if (name) {
      const address = parseAddress(name);
      const host = graph.addHost(
        address?.host ?? name,
        { file: source, line: 1, col },
        undefined,
        address?.port,
      );
      graph.addHostToGroup(host, graph.ungrouped);
    }
    col += part.length + 1;
  }
}

async function inventoryFilesIn(dir: string, problems: Problem[]): Promise<string[]> {
  const entries: Dirent[] = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const files: string[] = [];
  for (const entry of entries) {
    if (IGNORED_NAMES.test(entry.name) || IGNORED_EXTENSIONS.some((ext) => entry.name.endsWith(ext)))
      continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await inventoryFilesIn(full, problems)));
    else if (INVENTORY_EXTENSIONS.includes(extname(entry.name))) files.push(full);
    else
      problems.push({
        file: full,
        line: 1,
        col: 1,
        message: 'not an inventory file ewsplay can read',
        hint: 'inventories are YAML (.yml, .yaml) or INI (.ini, or no extension); dynamic inventory scripts and plugins are not supported',
      });
  }
  return files;
}

async function loadSourceVars(
  dir: string,
  graph: InventoryGraph,
  problems: Problem[],
  read: InventoryOptions['readVarsFile'],
): Promise<SourceVars> {
  const [groupFiles, hostFiles] = await Promise.all([
    varsFilesIn(join(dir, 'group_vars')),
    varsFilesIn(join(dir, 'host_vars')),
  ]);
  const load = async (found: Map<string, string[]>, wanted: (name: string) => boolean) => {
    const names = [...found.keys()].filter(wanted);
    const layers = await allInOrder(names.map((n) => loadVarsFiles(found.get(n)!, problems, read)));
    return new Map(names.map((n, i) => [n, layers[i]!]));
  };
  // group_vars before host_vars: when both fail, the group_vars error is the one reported.
  const [groups, hosts] = await allInOrder([
    load(groupFiles, (n) => graph.groups.has(n)),
    load(hostFiles, (n) => graph.hosts.has(n) || LOCALHOST_NAMES.includes(n)),
  ]);
  return { groups, hosts };
}

function mergeInto(target: VarLayer, layer: VarLayer | undefined): void {
  if (!layer) return;
  Object.assign(target.vars, layer.vars);
  Object.assign(target.pos, layer.pos);
}

export class Inventory {
  private matcher: PatternMatcher;
  private readonly groupHosts = new Map<string, string[]>();
  private readonly hostGroups = new Map<string, GroupNode[]>();
  private readonly groupLevelVars = new Map<string, VarLayer>();
  private readonly merged = new Map<string, VarLayer>();
  private implicitLocalhost: string | undefined;
  private groupsMagic: Record<string, string[]> | undefined;

  constructor(
    private readonly graph: InventoryGraph,
    private readonly sourceVars: SourceVars[],
  ) {
    this.matcher = this.newMatcher();
  }

  private newMatcher(): PatternMatcher {
    return new PatternMatcher({
      groupNames: () => this.groups(),
      hostNames: () => this.hostNamesInOrder(),
      hasHost: (name) => this.graph.hosts.has(name),
      hostsOfGroup: (name) => this.hostsOfGroup(name),
      implicitHost: (name) => this.implicitHost(name),
    });
  }

  /**
   * add_host and group_by: changes this run's in-memory inventory, as Ansible's add_dynamic_host and
   * add_group do (later plays' `hosts:` patterns see the change). Returns whether anything changed: then
   * every cache goes, since memberships, pattern matches and merged variables may all differ.
   */
  addDynamic(change: DynamicChange, pos: SourcePos): boolean {
    const graph = this.graph;
    let changed = false;
    const groupNamed = (name: string): GroupNode => {
      let group = graph.groups.get(name);
      if (!group) {
        if (graph.hosts.has(name))
          throw new Error(`'${name}' is a host of the inventory: it cannot be made a group too`);
        group = graph.addGroup(name, pos);
        changed = true;
      }
      return group;
    };
    let host = graph.hosts.get(change.host);
    if (!host) {
      if (graph.groups.has(change.host))
        throw new Error(`'${change.host}' is a group of the inventory: it cannot be added as a host too`);
      // The implicit localhost keeps its local connection once it becomes a real host.
      const implicit = this.implicitLocalhost === change.host;
      host = graph.addHost(change.host, pos, undefined);
      if (implicit) setVar(host.vars, 'ansible_connection', 'local', pos);
      changed = true;
    }
    for (const [name, value] of Object.entries(change.vars ?? {})) {
      if (name in host.vars.vars && isDeepStrictEqual(host.vars.vars[name], value)) continue;
      setVar(host.vars, name, value, pos);
      changed = true;
    }
    for (const name of change.groups) {
      const group = groupNamed(name);
      for (const parentName of change.parents ?? []) {
        const parent = groupNamed(parentName);
        if (parent.children.includes(group)) continue;
        const cycle = graph.addChild(parent, group);
        if (cycle)
          throw new Error(
            `making '${name}' a child of '${parentName}' would close a cycle: ${cycle.join(' -> ')}`,
          );
        changed = true;
      }
      if (!group.hosts.includes(host)) {
        graph.addHostToGroup(host, group);
        changed = true;
      }
    }
    if (changed) {
      graph.reconcile();
      this.groupHosts.clear();
      this.hostGroups.clear();
      this.groupLevelVars.clear();
      this.merged.clear();
      this.groupsMagic = undefined;
      this.matcher = this.newMatcher();
    }
    return changed;
  }

  /** Every host, in Ansible's order for the pattern `all`. */
  hosts(): string[] {
    return [...this.hostsOfGroup('all')];
  }

  /** Every group, `all` and `ungrouped` first, then in order of definition. */
  groups(): string[] {
    return [...this.graph.groups.keys()];
  }

  hasHost(name: string): boolean {
    return this.graph.hosts.has(name);
  }

  hasGroup(name: string): boolean {
    return this.graph.groups.has(name);
  }

  /** Direct hosts and child groups of a group (what ansible-inventory prints); undefined for no such group. */
  group(name: string): GroupEntry | undefined {
    const g = this.graph.groups.get(name);
    return g && { hosts: g.hosts.map((h) => h.name), children: g.children.map((c) => c.name) };
  }

  /**
   * A group's own variables as ansible-inventory --graph --vars shows them: its inline `vars`, then its
   * group_vars files; ansible_group_priority only when it is not 1.
   */
  groupVars(name: string): VarLayer {
    const layer: VarLayer = { vars: {}, pos: {} };
    const g = this.graph.groups.get(name);
    if (!g) return layer;
    mergeInto(layer, g.vars);
    for (const source of this.sourceVars) mergeInto(layer, source.groups.get(name));
    delete layer.vars.ansible_group_priority;
    if (g.priority !== 1) layer.vars.ansible_group_priority = g.priority;
    return layer;
  }

  /** Hosts matching an Ansible host pattern (also what --limit takes); [] when none match. */
  match(pattern: string): string[] {
    return [...this.matcher.match(pattern)];
  }

  /**
   * The host's merged inventory variables (see the order at the top of this file). The object is cached
   * and shared: read it, never modify it.
   */
  hostVars(host: string): Record<string, unknown> {
    return this.mergedLayer(host).vars;
  }

  /** Where the variable's winning value was written, if it came from a file. */
  varSource(host: string, name: string): SourcePos | undefined {
    return this.mergedLayer(host).pos[name];
  }

  /** The host's groups (with their ancestors), sorted, without `all`: Ansible's group_names. */
  groupsOf(host: string): string[] {
    return this.allGroupsOf(host)
      .map((g) => g.name)
      .sort(compareNames);
  }

  /** Where the host was first defined; undefined for the implicit localhost. */
  source(host: string): SourcePos | undefined {
    return this.graph.hosts.get(host)?.pos;
  }

  /** inventory_hostname, inventory_hostname_short, group_names, groups, inventory_file, inventory_dir. */
  magicVars(host: string): Record<string, unknown> {
    const node = this.graph.hosts.get(host);
    // An IPv6 address has a colon: most names never run the (large, slow to compile) IPv6 expression.
    const short = ipv4.test(host) || (host.includes(':') && ipv6.test(host)) ? host : host.split('.')[0];
    this.groupsMagic ??= Object.fromEntries(this.groups().map((g) => [g, [...this.hostsOfGroup(g)]]));
    return {
      inventory_hostname: host,
      inventory_hostname_short: short,
      group_names: this.groupsOf(host),
      groups: this.groupsMagic,
      ...(node?.file ? { inventory_file: node.file, inventory_dir: dirname(node.file) } : {}),
    };
  }

  /** Hosts of a group and of all its descendants, breadth-first, as Ansible's Group.get_hosts() lists them. */
  hostsOfGroup(name: string): readonly string[] {
    const cached = this.groupHosts.get(name);
    if (cached) return cached;
    const group = this.graph.groups.get(name);
    const hosts = new Set<string>();
    if (group) {
      const ordered: GroupNode[] = [group];
      const seen = new Set(ordered);
      for (let i = 0; i < ordered.length; i++) {
        for (const h of ordered[i]!.hosts) hosts.add(h.name);
        for (const c of ordered[i]!.children) {
          if (!seen.has(c)) {
            seen.add(c);
            ordered.push(c);
          }
        }
      }
    }
    const list = [...hosts];
    this.groupHosts.set(name, list);
    return list;
  }

  private hostNamesInOrder(): readonly string[] {
    return [...this.graph.hosts.keys()];
  }

  /** Ansible answers a pattern naming localhost with an implicit host when the inventory has none. */
  private implicitHost(name: string): string | undefined {
    if (!LOCALHOST_NAMES.includes(name)) return undefined;
    const defined = [...this.graph.hosts.keys()].find((h) => LOCALHOST_NAMES.includes(h));
    if (defined) return defined;
    this.implicitLocalhost ??= name;
    return this.implicitLocalhost;
  }

  private node(host: string): HostNode | undefined {
    const node = this.graph.hosts.get(host);
    if (!node && this.implicitHost(host) !== host) throw new Error(`unknown host '${host}'`);
    return node;
  }

  /** The host's groups and their ancestors, without `all`, in merge order (depth, priority, name). */
  private allGroupsOf(host: string): GroupNode[] {
    let groups = this.hostGroups.get(host);
    if (groups) return groups;
    const found = new Set<GroupNode>();
    const visit = (g: GroupNode) => {
      if (found.has(g)) return;
      found.add(g);
      for (const p of g.parents) visit(p);
    };
    for (const g of this.node(host)?.groups ?? []) visit(g);
    found.delete(this.graph.all);
    groups = [...found].sort(
      (a, b) => a.depth - b.depth || a.priority - b.priority || compareNames(a.name, b.name),
    );
    this.hostGroups.set(host, groups);
    return groups;
  }

  /** Layers 1-4, shared by every host with the same set of groups. */
  private groupLevel(groups: GroupNode[]): VarLayer {
    const key = groups.map((g) => g.name).join('\0');
    let layer = this.groupLevelVars.get(key);
    if (layer) return layer;
    layer = { vars: {}, pos: {} };
    mergeInto(layer, this.graph.all.vars);
    for (const g of groups) mergeInto(layer, g.vars);
    for (const source of this.sourceVars) mergeInto(layer, source.groups.get('all'));
    for (const source of this.sourceVars) for (const g of groups) mergeInto(layer, source.groups.get(g.name));
    this.groupLevelVars.set(key, layer);
    return layer;
  }

  private mergedLayer(host: string): VarLayer {
    let layer = this.merged.get(host);
    if (layer) return layer;
    const node = this.node(host);
    const groupLevel = this.groupLevel(this.allGroupsOf(host));
    layer = { vars: { ...groupLevel.vars }, pos: { ...groupLevel.pos } };
    if (node) mergeInto(layer, node.vars);
    else layer.vars.ansible_connection = 'local';
    for (const source of this.sourceVars) mergeInto(layer, source.hosts.get(host));
    this.merged.set(host, layer);
    return layer;
  }
}

/** Python's string order (by code point), which Ansible sorts names and keys by. */
export function compareNames(a: string, b: string): number {
  if (a === b) return 0;
  // UTF-16 order differs from code point order only when a surrogate pair meets U+E000..U+FFFF.
  const ac = [...a];
  const bc = [...b];
  for (let i = 0; i < Math.min(ac.length, bc.length); i++) {
    const d = ac[i]!.codePointAt(0)! - bc[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return ac.length - bc.length;
}
