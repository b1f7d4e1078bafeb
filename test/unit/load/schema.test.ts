// The generated JSON Schemas are valid draft 2020-12, accept what the loader accepts, and reject a task with
// two modules, an unknown argument, or a rescue without a block, as an editor would show.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { buildSchemas } from '../../../src/load/schema.js';

const fixtures = resolve(import.meta.dirname, '../../fixtures');
const read = (rel: string): unknown =>
  parse(readFileSync(resolve(fixtures, rel), 'utf8'), { version: '1.1' });

describe('generated schemas', () => {
  const schemas = buildSchemas();
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false });
  const playbook = ajv.compile(schemas.playbook);
  const tasks = ajv.compile(schemas.tasks);
  const inventory = ajv.compile(schemas.inventory);

  it('accept a valid playbook, task file and inventory (yaml-language-server comment included)', () => {
    expect(playbook(read('load/playbooks/site.yml')), JSON.stringify(playbook.errors)).toBe(true);
    expect(tasks(read('load/tasks/common.yml')), JSON.stringify(tasks.errors)).toBe(true);
    expect(inventory(read('load/inventory.yml')), JSON.stringify(inventory.errors)).toBe(true);
  });

  it.each([
    'malformed/task-two-modules.yml',
    'malformed/args-typo.yml',
    'malformed/rescue-without-block.yml',
    'malformed/task-unknown-module.yml',
    'malformed/play-missing-hosts.yml',
    'malformed/args-enum.yml',
    'malformed/task-types-1.yml',
  ])('reject %s', (file) => {
    expect(playbook(read(file))).toBe(false);
  });

  it('reject an inventory group with an unknown key', () => {
    expect(inventory({ all: { hosts: { a: null }, host: { b: null } } })).toBe(false);
  });
});
