// Roles through the engine: order (pre_tasks, roles with dependencies first, tasks), variable precedence
// (role defaults lowest, role vars above the play's vars and vars_files), role handlers, copy and template
// finding their src in the role first, include_role at run time, and a second run with nothing to change.
import { cpSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Scratch } from './harness.js';

const fixture = resolve(import.meta.dirname, '../../fixtures/load/roles');

function project(inventoryExtra = ''): Scratch {
  const s = new Scratch(['alpha', 'beta'], inventoryExtra);
  for (const dir of ['roles', 'templates', 'files'])
    cpSync(join(fixture, dir), join(s.dir, 'playbooks', dir), { recursive: true });
  s.write('playbooks/vars.yml', readFileSync(join(fixture, 'vars.yml'), 'utf8'));
  return s;
}

const playbook = readFileSync(join(fixture, 'site.yml'), 'utf8');
const changedTasks = (events: { task: string; host: string; result: { status: string } }[], host: string) =>
  events.filter((e) => e.host === host && e.result.status === 'changed').map((e) => e.task);

describe('roles in a run', () => {
  it('runs pre_tasks, the roles (dependencies first), tasks, then handlers; precedence and src lookup as Ansible', async () => {
    // beta sets web_port in the inventory: above the role's default. -e is not given.
    const s = project('  children:\n    special:\n      hosts:\n        beta:\n          web_port: 8080\n');
    const { report, events } = await s.run(playbook);
    expect(events.events.filter((e) => e.result.status === 'failed')).toEqual([]);
    const order = events.events.filter((e) => e.host === 'alpha').map((e) => e.task);
    expect(order).toEqual([
      'pre',
      'common dir',
      'common marker',
      'web root',
      'web config',
      'web extra',
      'common dir',
      'common marker',
      'after roles',
      'common other',
      // The handlers flush after the tasks (roles included), before post_tasks.
      'common changed',
      'restart web',
      'common dir',
      'common marker',
    ]);
    const alpha = s.hostDir('alpha');
    const beta = s.hostDir('beta');
    // The role's templates/ and files/ win over the playbook's own.
    expect(readFileSync(join(alpha, 'srv/www/site.conf'), 'utf8')).toBe(
      'port=80 motd=web default role=web parents=\n',
    );
    expect(readFileSync(join(beta, 'srv/www/site.conf'), 'utf8')).toBe(
      'port=8080 motd=web default role=web parents=\n',
    );
    expect(readFileSync(join(alpha, 'common/marker.txt'), 'utf8')).toBe("common's file\n");
    // The role's include_tasks found the role's tasks/extra.yml; role vars beat play vars and vars_files.
    expect(readFileSync(join(alpha, 'srv/www/port'), 'utf8')).toBe('80\n');
    // Handlers run with their own role's variables.
    expect(readFileSync(join(alpha, 'srv/www/restarted'), 'utf8')).toBe('restarted 80\n');
    expect(readFileSync(join(alpha, 'common/handler.txt'), 'utf8')).toBe(
      'handled common default in common\n',
    );
    // After the roles, the play sees the roles' vars and defaults (role vars over play vars and vars_files).
    expect(events.resultOf('after roles', 'alpha')?.msg).toBe('srv/www 80 common default');
    expect(events.resultOf('after roles', 'beta')?.msg).toBe('srv/www 8080 common default');
    // A roles: entry's parameters win over the role's defaults for that role's tasks only.
    expect(events.resultOf('common other', 'alpha')?.msg).toBe('other common default');
    // Each role is one step.
    expect(report.steps?.map((st) => [st.name, st.status])).toContainEqual(['role: web', 'done']);

    const again = await s.run(playbook);
    expect(again.report.stats.alpha).toMatchObject({ changed: 0, failed: 0 });
    expect(again.report.stats.beta).toMatchObject({ changed: 0, failed: 0 });
    expect(changedTasks(again.events.events, 'alpha')).toEqual([]);
  });

  it('role parameters and -e: parameters over role vars for the role, extra vars over everything', async () => {
    const s = project();
    s.write(
      'playbooks/roles/show/tasks/main.yml',
      '- name: show\n  debug: { msg: "{{ web_root | default(\'none\') }} {{ motd_text }} {{ role_name }}" }\n',
    );
    s.write('playbooks/roles/show/defaults/main.yml', 'motd_text: show default\n');
    const text = [
      '- hosts: alpha',
      '  gather_facts: false',
      '  vars: { motd_text: play var }',
      '  roles:',
      '    - role: show',
      '      vars: { web_root: from params }',
      '  tasks:',
      '    - name: dynamic',
      '      include_role: { name: "{{ which }}" }',
      '      vars: { which: show }',
    ].join('\n');
    const { events } = await s.run(text);
    // Role defaults lose to play vars; parameters apply.
    expect(events.resultOf('show', 'alpha')?.msg).toBe('from params play var show');
    const withExtra = await s.run(text, { extraVars: { motd_text: 'extra' } });
    expect(withExtra.events.events.filter((e) => e.task === 'show').map((e) => e.result.msg)).toEqual([
      'from params extra show',
      // include_role with a templated name: loaded at run time, without the parameters of the roles: entry.
      'none extra show',
    ]);
  });

  it('include_role with a templated name loads the role at run time; its handlers run when notified', async () => {
    const s = new Scratch(['alpha']);
    s.write(
      'playbooks/roles/svc/tasks/main.yml',
      '- name: svc file\n  copy: { content: "{{ svc_text }}\\n", dest: svc.txt }\n  notify: svc handler\n',
    );
    s.write('playbooks/roles/svc/defaults/main.yml', 'svc_text: from svc defaults\n');
    s.write(
      'playbooks/roles/svc/handlers/main.yml',
      '- name: svc handler\n  copy: { content: "{{ role_name }}\\n", dest: handled.txt }\n',
    );
    const text = [
      '- hosts: all',
      '  gather_facts: false',
      '  tasks:',
      '    - include_role: { name: "{{ which }}" }',
      '      vars: { which: svc }',
      '      when: which is defined',
    ].join('\n');
    const { report, events } = await s.run(text);
    expect(events.events.filter((e) => e.result.status === 'failed')).toEqual([]);
    expect(readFileSync(join(s.hostDir('alpha'), 'svc.txt'), 'utf8')).toBe('from svc defaults\n');
    expect(readFileSync(join(s.hostDir('alpha'), 'handled.txt'), 'utf8')).toBe('svc\n');
    expect(report.steps?.map((st) => st.name)).toEqual(['include_role: {{ which }}']);
    const again = await s.run(text);
    expect(again.report.stats.alpha).toMatchObject({ changed: 0, failed: 0 });
  });
});
