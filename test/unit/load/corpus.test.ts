// Every malformed file of the corpus yields exactly the problems recorded in its expected.yml, at the
// recorded line:col, all at once.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Problem } from '../../../src/core/problems.js';
import { loadInventory } from '../../../src/inventory/inventory.js';
import { validatePlaybook, validateTaskFile } from '../../../src/load/validate.js';

const dir = resolve(import.meta.dirname, '../../fixtures/malformed');
const expected = parse(readFileSync(join(dir, 'expected.yml'), 'utf8')) as Record<string, string[]>;

function render(entry: string, p: Problem): string {
  const file = relative(dir, resolve(p.file));
  return `${file === entry ? '' : `${file}:`}${p.line}:${p.col} ${p.message}${p.hint ? `|${p.hint}` : ''}`;
}

/** '[file:]line:col message[|hint]' matches a rendered problem when location is equal and fragments occur. */
function matches(expectation: string, actual: string): boolean {
  const [where, ...rest] = expectation.split(' ');
  const [message, hint] = rest.join(' ').toLowerCase().split('|');
  const [actualWhere, ...actualRest] = actual.split(' ');
  const [actualMessage, actualHint = ''] = actualRest.join(' ').toLowerCase().split('|');
  return (
    where === actualWhere &&
    actualMessage!.includes(message!) &&
    (hint === undefined || actualHint.includes(hint))
  );
}

describe('malformed corpus', async () => {
  const inventory = await loadInventory([resolve(import.meta.dirname, '../../fixtures/load/inventory.yml')]);

  it('has an expectation for every file and at least 45 files', () => {
    const files = [
      ...readdirSync(dir).filter((f) => f.endsWith('.yml') && f !== 'expected.yml'),
      ...readdirSync(join(dir, 'tasks')).map((f) => `tasks/${f}`),
    ];
    const entries = Object.keys(expected);
    expect(entries.length).toBeGreaterThanOrEqual(45);
    for (const e of entries) expect(files).toContain(e);
    for (const f of files.filter((f) => !f.startsWith('tasks/'))) expect(entries).toContain(f);
  });

  for (const [entry, wanted] of Object.entries(expected)) {
    it(entry, async () => {
      const file = join(dir, entry);
      const { problems } = entry.startsWith('tasks/')
        ? await validateTaskFile(file)
        : await validatePlaybook(file, { inventory });
      const actual = problems.map((p) => render(entry, p));
      expect(actual.length, actual.join('\n')).toBe(wanted.length);
      wanted.forEach((w, i) => {
        expect(matches(w, actual[i]!), `expected ${w}\n     got ${actual[i]}`).toBe(true);
      });
    });
  }
});
