// --tags/--skip-tags values that name no tag of the playbook are refused with the tags it has, instead of
// silently running (or skipping) nothing.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { playbookTags, unknownTagProblem } from '../../../src/engine/tags.js';
import { loadPlaybook } from '../../../src/load/playbook.js';

async function load(text: string) {
  const dir = mkdtempSync(join(tmpdir(), 'ewsplay-tags-'));
  writeFileSync(join(dir, 'step.yml'), '- name: inner\n  debug: { msg: x }\n  tags: [deep]\n');
  writeFileSync(join(dir, 'play.yml'), text);
  return loadPlaybook(join(dir, 'play.yml'));
}

describe('tags a playbook can select', () => {
  it('come from plays, blocks, tasks and imported files', async () => {
    const pb = await load(`
- hosts: all
  tags: [site]
  tasks:
    - block:
        - { name: a, debug: { msg: a }, tags: [tls] }
      tags: [forwarder]
    - import_tasks: step.yml
      tags: [imported]
`);
    expect([...(playbookTags(pb) ?? [])].sort()).toEqual(['deep', 'forwarder', 'imported', 'site', 'tls']);
  });

  it('are unknown when a templated include may hold more', async () => {
    const pb = await load(`
- hosts: all
  vars: { f: step }
  tasks:
    - include_tasks: "{{ f }}.yml"
`);
    expect(playbookTags(pb)).toBeUndefined();
  });

  it('a typo in --tags or --skip-tags is a usage error with a suggestion; special tags are fine', () => {
    const known = new Set(['tls', 'sync']);
    expect(unknownTagProblem({ only: ['tls', 'always', 'tagged'], skip: ['never'] }, known)).toBeUndefined();
    const typo = unknownTagProblem({ only: ['tsl'], skip: [] }, known);
    expect(typo?.message).toBe("--tags tsl: the playbook has no task tagged 'tsl'");
    expect(typo?.hint).toBe("did you mean 'tls'? The playbook's tags: sync, tls");
    expect(unknownTagProblem({ only: [], skip: ['snyc'] }, known)?.message).toMatch(/^--skip-tags snyc/);
  });
});
