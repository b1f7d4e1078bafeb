// YAML anchors, aliases and merge keys, resolved once right after parsing, for every YAML file ewsplay reads:
// an alias with no anchor before it, an alias inside the value it names, a merge key of anything but a
// mapping, an alias bomb (a few lines that expand to billions of values) and absurd nesting all become
// problems at file:line:col. What is left is a tree without aliases or merge keys: each alias replaced by the
// node it names (shared, not copied) and each `<<` by the pairs it brings, so every loader reads merge keys
// as Ansible does and no later step can expand a bomb.
import {
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type Node,
  type Pair,
  type YAMLMap,
} from 'yaml';
import { MAX_ALIAS_EXPANSION, MAX_YAML_DEPTH } from './bounds.js';
import type { Problem, SourcePos } from './problems.js';

/** True for the `<<` key of YAML 1.1 (a quoted '<<' is an ordinary key). */
export function isMergeKey(key: unknown): boolean {
  return isScalar(key) && typeof key.value === 'symbol' && key.value.description === '<<';
}

/**
 * Replaces aliases and merge keys in `doc` (see above); returns false when a problem was found, as the tree
 * then cannot be trusted.
 */
export function resolveAliases(
  doc: Document.Parsed,
  pos: (at: Node | number) => SourcePos,
  problems: Problem[],
): boolean {
  const anchors = new Map<string, Node>();
  const mergeSources = new Map<Pair<unknown, unknown>, unknown[]>();
  const inProgress = new Set<Node>();
  /** Anchors whose value is being walked: an alias to one of them is inside it. */
  const openAnchors = new Set<string>();
  const sizes = new Map<Node, number>();
  let expanded = 0;
  let ok = true;
  let tooDeep = false;
  const problem = (at: Node | number, message: string, hint: string) => {
    ok = false;
    problems.push({ ...pos(at), message, hint });
  };
  const expand = (at: Node, by: number) => {
    if (expanded > MAX_ALIAS_EXPANSION) return;
    expanded += by;
    if (expanded > MAX_ALIAS_EXPANSION)
      problem(
        at,
        `YAML aliases here expand to more than ${MAX_ALIAS_EXPANSION.toLocaleString('en')} values`,
        'aliases (*name) that repeat aliases multiply: use fewer, or write the values out',
      );
  };

  /** Walks a node in document order; returns the node that takes its place and its expanded size. */
  const walk = (node: unknown, depth: number): [unknown, number] => {
    if (!node || typeof node !== 'object') return [node, 0];
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      if (!target && openAnchors.has(node.source)) {
        problem(
          node,
          `alias '*${node.source}' is inside the value its anchor names: it would contain itself`,
          'an alias may only name a value that ends before it',
        );
        return [node, 1];
      }
      if (!target) {
        problem(
          node,
          `unknown alias '*${node.source}': no anchor '&${node.source}' is set before it`,
          `set the anchor on a value above (key: &${node.source} value), or quote the value if '*' is meant as text`,
        );
        return [node, 1];
      }
      if (inProgress.has(target)) {
        problem(
          node,
          `alias '*${node.source}' is inside the value its anchor names: it would contain itself`,
          'an alias may only name a value that ends before it',
        );
        return [node, 1];
      }
      const size = sizes.get(target) ?? 1;
      expand(node, size);
      return [target, size];
    }
    if (depth > MAX_YAML_DEPTH) {
      if (!tooDeep) {
        tooDeep = true;
        problem(
          node as Node,
          `YAML is nested more than ${MAX_YAML_DEPTH} levels deep here`,
          'flatten the structure; no playbook or inventory needs this depth',
        );
      }
      return [node, 1];
    }
    const anchored = (node as Node).anchor;
    if (anchored) {
      inProgress.add(node as Node);
      openAnchors.add(anchored);
    }
    let size = 1;
    if (isMap(node) || isSeq(node)) {
      const items = node.items as unknown[];
      for (let i = 0; i < items.length && ok; i++) {
        const item = items[i];
        if (isPair(item)) {
          // A merge key's problems point at what was written after '<<:', not at what an alias names.
          if (isMergeKey(item.key)) mergeSources.set(item, writtenSources(item.value));
          const [key, keySize] = walk(item.key, depth + 1);
          const [value, valueSize] = walk(item.value, depth + 1);
          item.key = key;
          item.value = value;
          size += keySize + valueSize;
        } else {
          const [value, valueSize] = walk(item, depth + 1);
          items[i] = value;
          size += valueSize;
        }
      }
      if (ok && isMap(node)) size += mergeKeys(node);
    }
    if (anchored) {
      inProgress.delete(node as Node);
      openAnchors.delete(anchored);
      anchors.set(anchored, node as Node);
      sizes.set(node as Node, size);
    }
    return [node, size];
  };

  /** Replaces each `<<` pair of a mapping by the pairs it merges; returns the values it added. */
  const mergeKeys = (map: YAMLMap<unknown, unknown>): number => {
    if (!map.items.some((p) => isMergeKey(p.key))) return 0;
    const explicit = new Set(map.items.filter((p) => !isMergeKey(p.key)).map((p) => keyOf(p)));
    const merged = new Set<unknown>();
    const items: Pair<unknown, unknown>[] = [];
    let added = 0;
    for (const pair of map.items) {
      if (!isMergeKey(pair.key)) {
        items.push(pair);
        continue;
      }
      const value = pair.value as Node | null;
      const sources = isSeq(value) ? value.items : [value];
      const written = mergeSources.get(pair) ?? sources;
      for (const [i, source] of sources.entries()) {
        if (!isMap(source)) {
          problem(
            (written[i] ?? pair.key) as Node,
            `a merge key '<<' takes a mapping (or a list of mappings), got ${describe(source)}`,
            "name a mapping's anchor, e.g. '<<: *defaults' where 'defaults: &defaults { key: value }'",
          );
          return added;
        }
        // Keys written in the mapping win, then earlier merged mappings over later ones (YAML 1.1, Ansible).
        for (const p of source.items) {
          const key = keyOf(p);
          if (explicit.has(key) || merged.has(key)) continue;
          merged.add(key);
          items.push(p);
        }
        const size = sizes.get(source) ?? source.items.length * 2 + 1;
        added += size;
        expand(pair.key as Node, size);
      }
    }
    map.items = items;
    return added;
  };

  const [root] = walk(doc.contents, 0);
  if (ok) doc.contents = root as typeof doc.contents;
  return ok;
}

/** The nodes a merge key's value was written as (aliases not yet followed). */
function writtenSources(value: unknown): unknown[] {
  return isSeq(value) ? [...value.items] : [value];
}

function keyOf(pair: Pair<unknown, unknown>): unknown {
  return isScalar(pair.key) ? pair.key.value : pair.key;
}

function describe(node: unknown): string {
  if (node === null || node === undefined) return 'nothing';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null) return 'null';
    return typeof v === 'string'
      ? `the string '${v.length > 40 ? `${v.slice(0, 40)}…` : v}'`
      : `${typeof v} ${String(v)}`;
  }
  return 'a value that is not a mapping';
}
