// Ansible's YAML inventory format (the `yaml` inventory plugin): top-level keys are groups; a group holds
// `hosts`, `vars` and `children`. Where Ansible only warns and skips, we report the problem with its position.
// An inventory file that is INI goes to the INI reader (parseInventoryFile decides).
import { extname } from 'node:path';
import { isMap, isScalar, isSeq, type Node, type Pair } from 'yaml';
import type { Problem } from '../core/problems.js';
import { type GroupNode, type InventoryGraph, setVar } from './graph.js';
import { HostRangeError, parseHostKey } from './host-range.js';
import { parseIniInventory } from './ini-inventory.js';
import { parseYamlFile, type YamlFile } from './yaml-file.js';

const GROUP_KEYS = ['hosts', 'vars', 'children'];

/** INI inventories (`[group]` sections, `host key=value` lines) are told from YAML by their shape. */
export function looksLikeIni(text: string): boolean {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !/^\s*[#;]/.test(l));
  return lines.some((l) => /^\s*\[[^\]\s]+\]\s*$/.test(l) || /^\S+(\s+[A-Za-z_]\w*=\S*)+\s*$/.test(l));
}

export function parseInventoryFile(
  file: string,
  text: string,
  graph: InventoryGraph,
  problems: Problem[],
): void {
  if (extname(file) === '.ini' || extname(file) === '.cfg') {
    parseIniInventory(file, text, graph, problems);
    return;
  }
  const yamlProblems: Problem[] = [];
  const y = parseYamlFile(file, text, yamlProblems);
  const root = y.deref(y.doc.contents);
  // Like Ansible, which tries its yaml plugin and then its ini plugin: a file that is not a YAML mapping is
  // INI when it looks like one, or when its name says nothing (`hosts`).
  if ((y.broken || (root && !isMap(root))) && (looksLikeIni(text) || extname(file) === '')) {
    parseIniInventory(file, text, graph, problems);
    return;
  }
  problems.push(...yamlProblems);
  if (y.broken) return;
  if (!root || (isScalar(root) && (root.value === null || root.value === ''))) return;
  if (!isMap(root)) {
    problems.push({
      ...y.pos(root as Node),
      message: 'an inventory must be a mapping of group names',
      hint: 'start with `all:` and put `hosts:`, `vars:` and `children:` under it',
    });
    return;
  }
  if (root.items.some((p) => isScalar(p.key) && p.key.value === 'plugin')) {
    problems.push({
      ...y.pos(root.items[0]?.key as Node),
      message: 'inventory plugin configuration files are not supported',
      hint: 'list the hosts in a YAML inventory instead',
    });
    return;
  }
  new YamlInventoryReader(y, graph, problems).read(root.items as Pair[]);
}

class YamlInventoryReader {
  constructor(
    private readonly y: YamlFile,
    private readonly graph: InventoryGraph,
    private readonly problems: Problem[],
  ) {}

  read(topLevel: Pair[]): void {
    for (const pair of topLevel) {
      const name = this.name(pair, 'group');
      if (name === undefined) continue;
      if (GROUP_KEYS.includes(name)) {
        this.problem(pair.key, `top-level key '${name}' would be a group named '${name}'`, [
          `top-level keys are groups: put '${name}:' under a group, e.g. \`all:\``,
        ]);
        continue;
      }
      this.group(name, pair);
    }
  }

  /** Reads one group definition; returns the group (undefined when it is unusable). */
  private group(name: string, pair: Pair): GroupNode | undefined {
    const value = this.y.deref(pair.value);
    if (value !== null && value !== undefined && !isMap(value) && !isNull(value)) {
      this.problem(value, `group '${name}' must be a mapping with hosts, vars or children`, [
        isScalar(value)
          ? `to put host '${String(value.value)}' in it, write \`hosts: { ${String(value.value)}: }\``
          : '',
      ]);
      return undefined;
    }
    const group = this.graph.addGroup(name, this.y.pos(pair.key as Node));
    if (!isMap(value)) return group;
    for (const section of value.items as Pair[]) {
      const key = this.name(section, 'key');
      if (key === undefined) continue;
      if (key === 'hosts') this.hosts(group, section);
      else if (key === 'vars') this.vars(group, section);
      else if (key === 'children') this.children(group, section);
      else {
        const close = GROUP_KEYS.find((k) => editDistance(k, key) <= 2);
        this.problem(section.key, `unknown key '${key}' in group '${name}'`, [
          close
            ? `did you mean '${close}'?`
            : `a group holds only hosts, vars and children; to add host '${key}', put it under \`hosts:\``,
        ]);
      }
    }
    return group;
  }

  /** A section's entries: a mapping, a single name (Ansible accepts `hosts: web1`), or nothing. */
  private entries(group: GroupNode, section: Pair, what: string, hint: string): Pair[] | undefined {
    const value = this.y.deref(section.value);
    if (value === null || value === undefined || isNull(value)) return [];
    if (isMap(value)) return value.items as Pair[];
    if (isScalar(value) && typeof value.value === 'string')
      return [{ key: value, value: null } as unknown as Pair];
    this.problem(
      value,
      `'${what}' of group '${group.name}' must be a mapping${isSeq(value) ? ', not a list' : ''}`,
      [hint],
    );
    return undefined;
  }

  private hosts(group: GroupNode, section: Pair): void {
    const items = this.entries(
      group,
      section,
      'hosts',
      'write each host as a key on its own line: `web1:` (a value is optional)',
    );
    for (const pair of items ?? []) {
      const key = this.y.deref(pair.key);
      if (!isScalar(key) || typeof key.value !== 'string') {
        this.problem(key, 'host name must be a string', ['enclose numbers in quotes: "10.0.0.1"']);
        continue;
      }
      let parsed: { names: string[]; port?: number };
      try {
        parsed = parseHostKey(key.value);
      } catch (e) {
        if (!(e instanceof HostRangeError)) throw e;
        this.problem(key, `bad host range '${key.value}': ${e.message}`, [
          'e.g. web[01:10].example.com or db-[a:c]',
        ]);
        continue;
      }
      const value = this.y.deref(pair.value);
      const isVars = value === null || value === undefined || isNull(value) || isMap(value);
      if (!isVars) {
        this.problem(value, `variables of host '${key.value}' must be a mapping`, [
          'e.g. `ansible_host: 10.0.0.5`',
        ]);
        continue;
      }
      const pos = this.y.pos(key);
      for (const name of parsed.names) {
        const host = this.graph.addHost(name, pos, this.y.file, parsed.port);
        this.graph.addHostToGroup(host, group);
        if (isMap(value)) this.setVars(host.vars, value.items as Pair[]);
      }
    }
  }

  private vars(group: GroupNode, section: Pair): void {
    const value = this.y.deref(section.value);
    if (value === null || value === undefined || isNull(value)) return;
    if (!isMap(value)) {
      this.problem(value, `'vars' of group '${group.name}' must be a mapping of variable names to values`, [
        'e.g. `vars: { ntp_server: ntp.example.com }`',
      ]);
      return;
    }
    for (const pair of value.items as Pair[]) {
      const name = this.name(pair, 'variable');
      if (name !== 'ansible_group_priority') continue;
      const priority = Number(this.y.value(pair.value));
      if (Number.isInteger(priority)) group.priority = priority;
      else this.problem(pair.value, 'ansible_group_priority must be an integer');
    }
    this.setVars(
      group.vars,
      (value.items as Pair[]).filter((p) => !(isScalar(p.key) && p.key.value === 'ansible_group_priority')),
    );
  }

  private children(group: GroupNode, section: Pair): void {
    const items = this.entries(group, section, 'children', 'write each child group as a key: `web:`');
    for (const pair of items ?? []) {
      const name = this.name(pair, 'group');
      if (name === undefined) continue;
      const child = this.group(name, pair);
      if (!child) continue;
      const cycle = this.graph.addChild(group, child);
      if (cycle)
        this.problem(pair.key, `groups form a cycle: ${cycle.join(' -> ')}`, [
          'a group cannot contain itself',
        ]);
    }
  }

  private setVars(layer: GroupNode['vars'], pairs: Pair[]): void {
    for (const pair of pairs) {
      const name = this.name(pair, 'variable');
      if (name === undefined) continue;
      setVar(layer, name, this.y.value(pair.value) ?? null, this.y.pos(pair.key as Node));
    }
  }

  private name(pair: Pair, what: string): string | undefined {
    const key = this.y.deref(pair.key);
    if (isScalar(key) && (typeof key.value === 'string' || typeof key.value === 'number'))
      return String(key.value);
    this.problem(key, `${what} name must be a plain string`);
    return undefined;
  }

  private problem(at: unknown, message: string, hints: string[] = []): void {
    const hint = hints.filter(Boolean).join('; ');
    this.problems.push({ ...this.y.pos(at as Node), message, ...(hint ? { hint } : {}) });
  }
}

function isNull(node: unknown): boolean {
  return isScalar(node) && node.value === null;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}
