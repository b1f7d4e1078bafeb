// Property-based fuzzing of the loader and the inventory parsers through the command line: whatever text a
// playbook or an inventory holds, ewsplay answers 0 or 2 with a sentence (never 1, an internal error or a
// stack trace) within the time bound. Runs are bounded and seeded (FUZZ_SEED picks another seed locally).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { LOCAL_INVENTORY } from './cases.js';
import { crashSigns, runCli } from './in-process-cli.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_206);
const RUNS = Number(process.env.FUZZ_RUNS ?? 200);
const root = mkdtempSync(join(tmpdir(), 'ewsplay-fuzz-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const word = fc.constantFrom(
  'hosts',
  'all',
  'tasks',
  'vars',
  'vars_files',
  'name',
  'debug',
  'msg',
  'command',
  'loop',
  'when',
  'block',
  'rescue',
  'include_tasks',
  'import_playbook',
  'roles',
  'handlers',
  'notify',
  'register',
  'template',
  'src',
  'children',
  'ansible_host',
  'ansible_port',
  'web',
  'x',
  '<<',
  'true',
  'null',
  '0644',
  '1e3',
  '~',
);
const fragment = fc.oneof(
  word,
  fc.constantFrom(
    '&a',
    '&b',
    '*a',
    '*b',
    '*nope',
    '<<: *a',
    '{{ x }}',
    '{{ x |',
    '{%',
    '{% for i in range(3) %}',
    '{% endfor %}',
    "{{ 'a' * 3 }}",
    '{{ range(5) | list }}',
    '[',
    ']',
    '{',
    '}',
    ',',
    ': ',
    '- ',
    '"',
    "'",
    '#',
    '\t',
    '!vault',
    '!!str',
    '? ',
    '|',
    '>',
    '---',
    '\uFEFF',
    'web[1:3]',
    'web[1:100000000]',
    'h[a:c]',
    '[web]',
    '[web:vars]',
    '[web:children]',
    'k=v',
  ),
  fc.string({ maxLength: 8 }),
);
const line = fc
  .tuple(fc.integer({ min: 0, max: 8 }), fc.array(fragment, { maxLength: 6 }))
  .map(([indent, parts]) => ' '.repeat(indent) + parts.join(' '));
const text = fc.array(line, { maxLength: 25 }).map((lines) => lines.join('\n'));
// Mostly well-formed plays with one damaged spot, so the fuzzing reaches past the YAML parser.
const playbook = fc.oneof(
  text,
  fc
    .tuple(text, fc.array(line, { maxLength: 4 }))
    .map(
      ([vars, task]) =>
        `- hosts: all\n  vars:\n${indent(vars, 4)}\n  tasks:\n    - ${task.join('\n      ')}\n`,
    ),
);
const inventory = fc.oneof(
  text,
  text.map((t) => `all:\n  hosts:\n${indent(t, 4)}\n`),
  fc.array(line, { maxLength: 20 }).map((lines) => `[web]\n${lines.join('\n')}\n`),
);

function indent(t: string, n: number): string {
  return t
    .split('\n')
    .map((l) => ' '.repeat(n) + l)
    .join('\n');
}

let n = 0;
async function answer(files: Record<string, string>, args: (dir: string) => string[]) {
  const dir = join(root, String(n++));
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return runCli(args(dir), dir);
}

function holds(outcome: { code: number; stdout: string; stderr: string; ms: number }): void {
  const output = `${outcome.stdout}\n${outcome.stderr}`;
  expect([0, 2], output).toContain(outcome.code);
  expect(crashSigns(output), output).toBeUndefined();
  expect(outcome.ms, output).toBeLessThan(5_000);
}

describe('fuzzing', () => {
  it(`the playbook loader answers 0 or 2, with no stack, in time (${RUNS} runs, seed ${SEED})`, async () => {
    await fc.assert(
      fc.asyncProperty(playbook, async (p) => {
        holds(
          await answer({ 'p.yml': p, 'inv.yml': LOCAL_INVENTORY }, (d) => [
            'validate',
            join(d, 'p.yml'),
            '-i',
            join(d, 'inv.yml'),
          ]),
        );
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it(`the inventory parsers (YAML and INI) answer 0 or 2, with no stack, in time (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(inventory, fc.constantFrom('hosts.yml', 'hosts.ini', 'hosts'), async (inv, name) => {
        holds(await answer({ [name]: inv }, (d) => ['inventory', '-i', join(d, name), '--list']));
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });
});
