// The bad-input corpus (cases.ts) run through the real command line, in process: every user mistake is an
// exit code with a sentence, at file:line where a file is at fault, never a stack trace or "internal error",
// and each answer comes within the time bound.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BAD_INPUTS, LOCAL_INVENTORY } from './cases.js';
import { crashSigns, runCli } from './in-process-cli.js';

/** file:line[:col] of a case, as the CLI prints it: absolute, or relative to the working directory. */
function where(dir: string, at: string): RegExp {
  const quote = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const tail = at.split(':').length === 3 ? '' : ':';
  return new RegExp(`(^|[\\s(]|${quote(dir)}/)${quote(at)}${tail}`, 'm');
}

const root = mkdtempSync(join(tmpdir(), 'ewsplay-bad-input-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('bad-input corpus', () => {
  it('holds at least 150 cases, each with a distinct name', () => {
    expect(BAD_INPUTS.length).toBeGreaterThanOrEqual(150);
    expect(new Set(BAD_INPUTS.map((c) => c.name)).size).toBe(BAD_INPUTS.length);
  });

  BAD_INPUTS.forEach((c, i) => {
    it(c.name, async () => {
      const dir = join(root, String(i));
      const fill = (s: string) => s.replaceAll('{d}', dir);
      for (const [name, content] of Object.entries({ 'inv.yml': LOCAL_INVENTORY, ...c.files })) {
        mkdirSync(dirname(join(dir, name)), { recursive: true });
        writeFileSync(join(dir, name), typeof content === 'string' ? fill(content) : content);
      }
      for (const command of c.commands) {
        const outcome = await runCli(command.map(fill), dir);
        const output = `${outcome.stdout}\n${outcome.stderr}`;
        const shown = `ewsplay ${command.join(' ')}\n${output.slice(0, 3000)}`;
        expect(outcome.code, shown).toBe(c.exit);
        expect(crashSigns(output), shown).toBeUndefined();
        expect(output, shown).toMatch(c.message);
        if (c.at) expect(output, shown).toMatch(where(dir, c.at));
        expect(outcome.ms, shown).toBeLessThan(10_000);
      }
    });
  });
});
