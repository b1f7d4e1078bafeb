// What `ansible-inventory --list | --host H | --graph` print for the same inventory (ansible/cli/inventory.py),
// so users can compare the two tools: keys sorted (json.dumps sort_keys), lists in inventory order, empty
// `hosts`/`children` left out, empty groups left out but still named in their parent's `children`.
// The JSON is to be written by pythonJson (python-json.ts): numbers written as Python floats in the
// inventory stay marked in these copies, so `sci=1e3` prints as 1000.0, as Ansible prints it.
import { UsageError } from '../core/problems.js';
import { compareNames, type Inventory } from './inventory.js';
import { isPythonFloat, isPythonFloatVar, markPythonFloat, pythonFloatText } from './python-floats.js';

/** Names Ansible strips from the variables it prints (InventoryCLI._remove_internal). */
const INTERNAL_VARS = new Set([
  'ansible_diff_mode',
  'ansible_config_file',
  'ansible_facts',
  'ansible_forks',
  'ansible_inventory_sources',
  'ansible_limit',
  'ansible_playbook_python',
  'ansible_run_tags',
  'ansible_skip_tags',
  'ansible_verbosity',
  'ansible_version',
  'inventory_dir',
  'inventory_file',
  'inventory_hostname',
  'inventory_hostname_short',
  'groups',
  'group_names',
  'omit',
  'playbook_dir',
]);

type Json = Record<string, unknown>;

export function inventoryList(inv: Inventory): Json {
  const out: Json = {};
  const seen = new Set<string>();
  const format = (name: string) => {
    const group = inv.group(name)!;
    const entry: Json = {};
    if (name !== 'all' && group.hosts.length > 0) entry.hosts = group.hosts;
    if (group.children.length > 0) entry.children = group.children;
    if (Object.keys(entry).length > 0) out[name] = entry;
    for (const child of group.children) {
      if (!seen.has(child)) {
        seen.add(child);
        format(child);
      }
    }
  };
  format('all');
  const hostvars: Json = {};
  for (const host of inv.hosts()) {
    const vars = printableVars(inv, host);
    if (Object.keys(vars).length > 0) hostvars[host] = vars;
  }
  out._meta = { hostvars };
  return sortKeys(out) as Json;
}

export function inventoryHost(inv: Inventory, host: string): Json {
  return sortKeys(printableVars(inv, host)) as Json;
}

/**
 * `--graph [GROUP] [--vars]`: the group tree with hosts under each group; `all` lists no hosts of its own.
 * With `vars`, each host's variables under it and each group's own variables after its members, sorted by
 * name, as `{name = value}` with the value as Python's str() prints it.
 */
export function inventoryGraph(inv: Inventory, group = 'all', vars = false): string {
  if (!inv.hasGroup(group))
    throw new UsageError(
      `'${group}' is not a group of the inventory`,
      'with --graph, name a group (default: all)',
    );
  const lines: string[] = [];
  const line = (text: string, depth: number) => lines.push(depth ? `${'  |'.repeat(depth)}--${text}` : text);
  const showVars = (v: Json, depth: number) => {
    for (const k of Object.keys(v).sort(compareNames)) line(`{${k} = ${pyStrOf(v, k)}}`, depth);
  };
  const walk = (name: string, depth: number) => {
    const entry = inv.group(name)!;
    line(`@${name}:`, depth);
    for (const child of entry.children) walk(child, depth + 1);
    if (name !== 'all')
      for (const host of entry.hosts) {
        line(host, depth + 1);
        if (vars) showVars(printableVars(inv, host), depth + 2);
      }
    if (vars) {
      const layer = inv.groupVars(name);
      const own: Json = {};
      for (const [k, v] of Object.entries(layer.vars)) {
        if (INTERNAL_VARS.has(k)) continue;
        own[k] = v;
        if (typeof v === 'number' && isPythonFloatVar(layer.pos[k])) markPythonFloat(own, k);
      }
      showVars(own, depth + 1);
    }
  };
  walk(group, 0);
  return lines.join('\n');
}

/** Python's str() of `container[key]`: strings bare, None/True/False, lists and dicts in repr form. */
function pyStrOf(container: object, key: string | number): string {
  const v = (container as Record<string | number, unknown>)[key];
  if (typeof v === 'string') return v;
  return pyReprOf(container, key);
}

function pyReprOf(container: object, key: string | number): string {
  const v = (container as Record<string | number, unknown>)[key];
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') {
    if (Number.isInteger(v) && !isPythonFloat(container, key)) return String(v);
    if (Number.isNaN(v)) return 'nan';
    if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
    return pythonFloatText(v);
  }
  if (typeof v === 'string') return pyStringRepr(v);
  if (Array.isArray(v)) return `[${v.map((_, i) => pyReprOf(v, i)).join(', ')}]`;
  if (typeof v === 'object')
    return `{${Object.keys(v)
      .map((k) => `${pyStringRepr(k)}: ${pyReprOf(v, k)}`)
      .join(', ')}}`;
  return String(v);
}

/** Python's repr of a str: single quotes unless the text has ' and no ". */
function pyStringRepr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  const body = s
    .replace(/\\/g, '\\\\')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t')
    .replaceAll(q, `\\${q}`);
  return `${q}${body}${q}`;
}

function printableVars(inv: Inventory, host: string): Json {
  const vars: Json = {};
  for (const [k, v] of Object.entries(inv.hostVars(host))) {
    if (INTERNAL_VARS.has(k)) continue;
    vars[k] = v;
    if (typeof v === 'number' && isPythonFloatVar(inv.varSource(host, k))) markPythonFloat(vars, k);
  }
  return vars;
}

/**
 * A copy with every mapping's keys in Python's sorted order, as json.dumps(sort_keys=True) writes them;
 * numbers marked as Python floats stay marked in the copy.
 */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) {
    const out = value.map(sortKeys);
    value.forEach((_, i) => {
      if (isPythonFloat(value, i)) markPythonFloat(out, i);
    });
    return out;
  }
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Json = {};
    for (const key of Object.keys(value).sort(compareNames)) {
      out[key] = sortKeys((value as Json)[key]);
      if (isPythonFloat(value, key)) markPythonFloat(out, key);
    }
    return out;
  }
  return value;
}
