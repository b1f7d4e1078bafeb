// Roles in the loader: roles:, meta dependencies (once per play), import_role and include_role, handlers,
// defaults and vars, and every problem inside a role's files pointing into them.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BlockNode, IncludeNode, Node } from '../../../src/core/model.js';
import { playbookSteps } from '../../../src/engine/steps.js';
import { loadPlaybook, loadPlaybookDetailed } from '../../../src/load/playbook.js';
import { validatePlaybook } from '../../../src/load/validate.js';

const fixture = resolve(import.meta.dirname, '../../fixtures/load/roles');
const roleDir = (name: string) => join(fixture, 'roles', name);

function names(nodes: Node[]): unknown[] {
  return nodes.map((n) =>
    n.kind === 'task'
      ? n.name
      : n.kind === 'block'
        ? { [n.role ? `role ${n.role.name}` : 'block']: names(n.block) }
        : { [`include ${n.file}`]: n.tasks ? names(n.tasks) : '(run time)' },
  );
}

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ewsplay-roles-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

describe('roles in the loader', () => {
  it('puts roles after pre_tasks and their flush, dependencies first, each role once per play', async () => {
    const { plays } = await loadPlaybook(join(fixture, 'site.yml'));
    const play = plays[0]!;
    expect(names(play.tasks)).toEqual([
      'pre',
      'flush handlers (after pre_tasks)',
      {
        'role web': [
          { 'role common': ['common dir', 'common marker'] },
          'web root',
          'web config',
          { 'include extra.yml': ['web extra'] },
        ],
      },
      // The second `- role: web` is the same role with the same parameters: left out, as Ansible does.
      { 'role common': ['common dir', 'common marker'] },
      'after roles',
      { 'role common': ['common other'] },
      'flush handlers (after tasks)',
      { "include {{ dynamic_role | default('common') }}": '(run time)' },
    ]);
    const [web, common] = play.tasks.slice(2) as BlockNode[];
    expect(web!.role).toMatchObject({
      name: 'web',
      path: roleDir('web'),
      defaults: { motd_text: 'web default', web_port: 80, common_dir: 'common' },
      vars: { web_root: 'srv/www' },
      params: {},
      parents: [],
    });
    const dep = web!.block[0] as BlockNode;
    expect(dep.role).toMatchObject({ name: 'common', parents: [{ name: 'web', path: roleDir('web') }] });
    // A roles: entry's vars are the role's parameters; its when and tags go to every task of the role.
    expect(common!.role!.params).toEqual({ motd_text: 'from params' });
    expect(common!.when).toEqual(['run_common_again | default(true)']);
    expect(common!.tags).toEqual(['again']);
    // Role defaults and vars are exposed to the whole play (roles: and import_role), merged in load order
    // (common, loaded again after web, has the last word on motd_text).
    expect(play.roleDefaults).toEqual({ motd_text: 'common default', web_port: 80, common_dir: 'common' });
    expect(play.roleVars).toEqual({ web_root: 'srv/www' });
    // Roles' handlers come first, each once, knowing its role.
    expect(play.handlers.map((h) => [h.name, h.role?.name])).toEqual([
      ['common changed', 'common'],
      ['restart web', 'web'],
    ]);
    const dynamic = play.tasks.at(-1) as IncludeNode;
    expect(dynamic).toMatchObject({
      kind: 'include',
      includeRole: { name: "{{ dynamic_role | default('common') }}" },
    });
    expect(dynamic.tasks).toBeUndefined();
    // Each role is one step of the rollout state.
    expect(playbookSteps({ file: 'site.yml', plays }).map((s) => s.name)).toEqual([
      'pre',
      'flush handlers (after pre_tasks)',
      'role: web',
      'role: common',
      'after roles',
      'common once more',
      'flush handlers (after tasks)',
      'dynamic role',
    ]);
  });

  it('ewsplay validate reads the role files: their templates are checked too', async () => {
    const { problems } = await validatePlaybook(join(fixture, 'site.yml'));
    expect(problems).toEqual([]);
  });

  it('runs a dependency again with allow_duplicates, and include_role with a fixed name loads it now', async () => {
    const dir = project({
      'play.yml': [
        '- hosts: all',
        '  roles: [a, b]',
        '  tasks:',
        '    - include_role: { name: a, tasks_from: more }',
        '      loop: [1, 2]',
      ].join('\n'),
      'roles/a/meta/main.yml': 'allow_duplicates: true\n',
      'roles/a/tasks/main.yml': '- name: a\n  debug: { msg: a }\n',
      'roles/a/tasks/more.yml': '- name: a more\n  debug: { msg: more }\n',
      'roles/b/meta/main.yml': 'dependencies: [{ role: a }]\n',
      'roles/b/tasks/main.yml': '- name: b\n  debug: { msg: b }\n',
    });
    const { plays } = await loadPlaybook(join(dir, 'play.yml'));
    expect(names(plays[0]!.tasks)).toEqual([
      { 'role a': ['a'] },
      { 'role b': [{ 'role a': ['a'] }, 'b'] },
      { 'include a': [{ 'role a': ['a more'] }] },
    ]);
    expect((plays[0]!.tasks[2] as IncludeNode).loop).toEqual([1, 2]);
    // include_role is private by default: its variables are not the play's.
    expect(plays[0]!.roleDefaults).toBeUndefined();
  });

  it('reports problems inside role files at their own file:line:col', async () => {
    const dir = project({
      'play.yml': [
        '- hosts: all',
        '  roles:',
        '    - role: nope',
        '    - broken',
        '    - { role: loop1 }',
        '  tasks:',
        '    - import_role: { name: broken, tasks_from: missing }',
        '    - import_role: { name: "{{ x }}" }',
      ].join('\n'),
      'roles/broken/tasks/main.yml':
        '- name: typo\n  comand: ls\n- name: notify\n  debug: {}\n  notify: nobody\n',
      'roles/broken/defaults/main.yml': '- not a mapping\n',
      'roles/loop1/meta/main.yml': 'dependencies: [loop2]\n',
      'roles/loop2/meta/main.yml': 'dependencies:\n  - role: loop1\n',
    });
    const { problems } = await loadPlaybookDetailed(join(dir, 'play.yml'));
    const shown = problems.map((p) => `${p.file.slice(dir.length + 1)}:${p.line}:${p.col} ${p.message}`);
    expect(shown).toEqual([
      "play.yml:3:13 role 'nope' not found",
      "play.yml:7:28 role 'broken' has no tasks file 'missing'",
      'play.yml:8:28 import_role needs a fixed role name and file names',
      "roles/broken/defaults/main.yml:1:1 a role's defaults file must be a mapping, got a list",
      "roles/broken/tasks/main.yml:2:3 unknown module 'comand'",
      "roles/broken/tasks/main.yml:5:11 notify names no handler: 'nobody'",
      'roles/loop2/meta/main.yml:2:11 role dependency cycle: loop1 -> loop2 -> loop1',
    ]);
  });
});
