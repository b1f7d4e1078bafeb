// The floors of src/ as a test: a wing imports only wings on floors below its own, and no file reaches
// itself through its imports. ARCHITECTURE.md explains the floors; change both together.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../../src');

/** Floor of each wing (a folder under src/); a wing may import only wings on lower floors. */
const FLOORS: Record<string, number> = {
  core: 0,
  types: 0,
  util: 1,
  connection: 2,
  template: 2,
  vault: 2,
  ews: 2,
  lab: 2,
  inventory: 3,
  modules: 4,
  load: 5,
  engine: 6,
  output: 7,
  rollout: 8,
  cli: 9,
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

/** Every relative module a file imports, statically, by `export ... from`, or dynamically. */
function importsOf(file: string, text: string): string[] {
  const specs = [
    ...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+['"](\.{1,2}\/[^'"]+)['"]/gms),
    ...text.matchAll(/^\s*import\s+['"](\.{1,2}\/[^'"]+)['"]/gm),
    ...text.matchAll(/\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g),
  ].map((m) => m[1]!);
  return specs.map((s) => resolve(dirname(file), s.replace(/\.js$/, '.ts')));
}

const wingOf = (file: string) => relative(SRC, file).split('/')[0]!;

const files = sourceFiles(SRC);
const graph = new Map(files.map((f) => [f, importsOf(f, readFileSync(f, 'utf8'))]));

describe('floors of src/', () => {
  it('finds the imports it checks (the parser sees every kind of import)', () => {
    expect(files.length).toBeGreaterThan(100);
    const sample = importsOf(
      '/x/src/a/b.ts',
      "import type { T } from '../c/d.js';\nexport { e } from './e.js';\nconst m = await import('../f/g.js');\nimport './side.js';",
    );
    expect(sample.sort()).toEqual(['/x/src/a/e.ts', '/x/src/a/side.ts', '/x/src/c/d.ts', '/x/src/f/g.ts']);
  });

  it('gives every wing a floor', () => {
    const wings = new Set(files.filter((f) => dirname(f) !== SRC).map(wingOf));
    expect([...wings].filter((w) => !(w in FLOORS))).toEqual([]);
    expect(files.filter((f) => dirname(f) === SRC)).toEqual([]);
  });

  it('has no arrow from a wing to a wing on its own floor or above', () => {
    const upward: string[] = [];
    for (const [file, targets] of graph) {
      for (const target of targets) {
        const from = wingOf(file);
        const to = wingOf(target);
        if (from !== to && FLOORS[to]! >= FLOORS[from]!)
          upward.push(
            `${relative(SRC, file)} -> ${relative(SRC, target)} (${from} ${FLOORS[from]} -> ${to} ${FLOORS[to]})`,
          );
      }
    }
    expect(upward).toEqual([]);
  });

  it('has no import cycle between files', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const path: string[] = [];
    const visit = (f: string) => {
      state.set(f, 'open');
      path.push(f);
      for (const t of graph.get(f) ?? []) {
        if (state.get(t) === 'open')
          cycles.push([...path.slice(path.indexOf(t)), t].map((p) => relative(SRC, p)).join(' -> '));
        else if (!state.has(t) && graph.has(t)) visit(t);
      }
      path.pop();
      state.set(f, 'done');
    };
    for (const f of files) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });
});
