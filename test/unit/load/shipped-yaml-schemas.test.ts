// Every shipped YAML file (playbooks, task files, the example and local inventories) names a schema in its
// yaml-language-server modeline and passes it, checked by a validator that is not ewsplay's (PyYAML and
// python-jsonschema), as an editor would check it.
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');
const PYTHON = '/usr/bin/python3';

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return yamlFiles(p);
    return /\.ya?ml$/.test(name) ? [p] : [];
  });
}

function validatorAvailable(): boolean {
  try {
    execFileSync(PYTHON, ['-c', 'import jsonschema, yaml'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!validatorAvailable())('shipped YAML files against their modeline schemas', () => {
  it('every file names a schema and is valid against it', () => {
    const files = [
      ...yamlFiles(join(root, 'playbooks')),
      ...yamlFiles(join(root, 'tasks')),
      ...yamlFiles(join(root, 'inventory/example')),
      join(root, 'inventory/local.yml'),
    ];
    expect(files.length).toBeGreaterThanOrEqual(19);
    const out = execFileSync(PYTHON, [join(root, 'test/fixtures/schema/validate_modelines.py'), ...files], {
      timeout: 60_000,
    }).toString();
    const results = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { file: string; schema: string | null; errors: string[] });
    expect(results).toHaveLength(files.length);
    const bad = results
      .filter((r) => r.errors.length > 0)
      .map((r) => `${relative(root, r.file)}: ${r.errors.join('; ')}`);
    expect(bad).toEqual([]);
    // group_vars are variables files, not inventories.
    for (const r of results.filter((x) => x.file.includes('/group_vars/')))
      expect(r.schema).toMatch(/vars\.schema\.json$/);
  });

  it('a wrong argument fails, a templated integer passes (so a pass means something)', () => {
    const head = '# yaml-language-server: $schema=../schemas/playbook.schema.json\n- hosts: all\n  tasks:\n';
    const probes = {
      bogus: `${head}    - copy: { dest: /x, content: y, bogus: 1 }\n`,
      word: `${head}    - wait_for: { port: eighty }\n`,
      templated: `${head}    - wait_for: { port: "{{ p }}", timeout: "{{ t | int }}" }\n      retries: "{{ n }}"\n`,
    };
    const files = Object.entries(probes).map(([name, text]) => {
      const file = join(root, 'playbooks', `.schema-probe-${process.pid}-${name}.yml`);
      writeFileSync(file, text);
      return file;
    });
    try {
      const out = execFileSync(PYTHON, [join(root, 'test/fixtures/schema/validate_modelines.py'), ...files]);
      const errors = out
        .toString()
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { errors: string[] }).errors.length);
      expect(errors.map((n) => n > 0)).toEqual([true, true, false]);
    } finally {
      for (const f of files) rmSync(f, { force: true });
    }
  });
});
