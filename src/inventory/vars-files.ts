// group_vars/ and host_vars/ beside an inventory, found as Ansible's host_group_vars plugin finds them:
// for a name, the first of `name` (a directory: all its files, recursively, sorted), `name.yml`, `name.yaml`,
// `name.json`; hidden files and backups (`~`) are skipped; files merge in order, later keys win.
import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { isMap, isScalar } from 'yaml';
import { readInputText } from '../core/input-file.js';
import type { Problem, SourcePos } from '../core/problems.js';
import { allInOrder } from '../util/all-in-order.js';
import { parseYamlFile } from './yaml-file.js';

/** Variables with the position each one was set at. */
export interface VarLayer {
  vars: Record<string, unknown>;
  pos: Record<string, SourcePos>;
}

const EXTENSIONS = ['.yml', '.yaml', '.json'];

async function listDir(dir: string): Promise<Dirent[] | undefined> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch {
    return undefined;
  }
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = ((await listDir(dir)) ?? []).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  const out: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.') || e.name.endsWith('~')) continue;
    const ext = extname(e.name);
    const full = join(dir, e.name);
    if (e.isDirectory() && !ext) out.push(...(await filesUnder(full)));
    else if (e.isFile() && (!ext || EXTENSIONS.includes(ext))) out.push(full);
  }
  return out;
}

/** Maps each entity name to its vars files inside `dir` (group_vars or host_vars). */
export async function varsFilesIn(dir: string): Promise<Map<string, string[]>> {
  const entries = await listDir(dir);
  const found = new Map<string, string[]>();
  if (!entries) return found;
  const byName = new Map(entries.map((e) => [e.name, e]));
  const names = new Set<string>();
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const ext = extname(e.name);
    names.add(EXTENSIONS.includes(ext) ? e.name.slice(0, -ext.length) : e.name);
  }
  for (const name of names) {
    for (const candidate of [name, ...EXTENSIONS.map((ext) => name + ext)]) {
      const entry = byName.get(candidate);
      if (!entry) continue;
      const full = join(dir, candidate);
      if (entry.isDirectory()) found.set(name, await filesUnder(full));
      else if (entry.isFile()) found.set(name, [full]);
      else continue;
      break;
    }
  }
  return found;
}

/**
 * Loads and merges vars files; an empty file is no vars, anything but a mapping is a problem. `read` gives a
 * file's text (the vault's reader decrypts age files).
 */
export async function loadVarsFiles(
  files: string[],
  problems: Problem[],
  read: (file: string) => Promise<string> = readInputText,
): Promise<VarLayer> {
  const layer: VarLayer = { vars: {}, pos: {} };
  const texts = await allInOrder(files.map(read));
  for (const [i, file] of files.entries()) {
    const one = parseVarsText(file, texts[i]!, problems);
    if (!one) continue;
    Object.assign(layer.vars, one.vars);
    Object.assign(layer.pos, one.pos);
  }
  return layer;
}

/** One vars file's variables; undefined (and problems) when it is not YAML or not a mapping. */
export function parseVarsText(file: string, text: string, problems: Problem[]): VarLayer | undefined {
  const y = parseYamlFile(file, text, problems);
  if (y.broken) return undefined;
  const root = y.deref(y.doc.contents);
  if (root === null || (isScalar(root) && (root.value === null || root.value === '')))
    return { vars: {}, pos: {} };
  if (!isMap(root)) {
    problems.push({
      ...y.pos(root as never),
      message: 'a vars file must be a mapping of variable names to values',
      hint: 'write one `name: value` per line',
    });
    return undefined;
  }
  const layer: VarLayer = { vars: y.value(root) as Record<string, unknown>, pos: {} };
  for (const pair of root.items) layer.pos[String(y.value(pair.key))] = y.pos(pair.key as never);
  return layer;
}
