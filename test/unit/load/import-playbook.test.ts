// import_playbook: the imported plays inlined in order, with the import's vars, tags and when.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import type { TaskNode } from '../../../src/core/model.js';
import { loadPlaybook, loadPlaybookDetailed } from '../../../src/load/playbook.js';

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ewsplay-import-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

describe('import_playbook', () => {
  it("inlines the plays in order, with the import's vars, tags and when; paths from the imported playbook", async () => {
    const dir = project({
      'site.yml': [
        '- name: first',
        '  hosts: all',
        '  tasks: [{ debug: { msg: one } }]',
        '- import_playbook: sub/web.yml',
        '  vars: { port: 8080 }',
        '  tags: web',
        '  when: deploy_web | bool',
        '- name: last',
        '  hosts: all',
        '  tasks: [{ debug: { msg: three } }]',
      ].join('\n'),
      'sub/web.yml': [
        '- name: web',
        '  hosts: web',
        '  vars: { port: 80, other: 1 }',
        '  vars_files: web-vars.yml',
        '  tags: [app]',
        '  pre_tasks: [{ name: pre, debug: { msg: pre } }]',
        '  tasks:',
        '    - import_tasks: steps.yml',
        '  handlers: [{ name: h, debug: { msg: h } }]',
      ].join('\n'),
      'sub/tasks/steps.yml': '- name: step\n  debug: { msg: step }\n',
      // vars_files are checked while loading, beside the playbook that names them.
      'sub/web-vars.yml': 'answer: 42\n',
    });
    const { plays } = await loadPlaybook(join(dir, 'site.yml'));
    expect(plays.map((p) => p.name)).toEqual(['first', 'web', 'last']);
    const web = plays[1]!;
    expect(web.vars).toEqual({ port: 8080, other: 1 });
    expect(web.tags.sort()).toEqual(['app', 'web']);
    expect(web.varsFiles).toEqual([join(dir, 'sub', 'web-vars.yml')]);
    // when goes on each task of the play (not on the implicit handler flush, nor on handlers).
    const [pre, flush, steps] = web.tasks;
    expect(pre!.when).toEqual(['deploy_web | bool']);
    expect((flush as TaskNode).implicit).toBe(true);
    expect(flush!.when).toEqual([]);
    expect(steps!.when).toEqual(['deploy_web | bool']);
    expect(web.handlers[0]!.when).toEqual([]);
    expect(plays[0]!.vars).toEqual({});
  });

  it('reports a missing playbook at the import and a cycle with the chain', async () => {
    const dir = project({
      'a.yml': '- import_playbook: b.yml\n- import_playbook: gone.yml\n',
      'b.yml': '- hosts: all\n  tasks: []\n- import_playbook: a.yml\n',
    });
    const { problems } = await loadPlaybookDetailed(join(dir, 'a.yml'));
    expect(problems.map((p) => [p.line, p.col, p.message.split(':')[0]])).toEqual([
      [2, 20, "playbook 'gone.yml' not found"],
      [3, 20, 'import_playbook cycle'],
    ]);
    expect(problems[1]!.file).toMatch(/b\.yml$/);
  });
});
