// delegate_to and local_action: the task runs through another host's connection with this host's variables.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/core/problems.js';
import { loadPlaybook } from '../../../src/load/playbook.js';
import { Scratch } from './harness.js';

describe('delegate_to', () => {
  it("runs on the delegated host's connection with the original host's variables", async () => {
    const s = new Scratch(['alpha', 'beta']);
    const { report, events } = await s.run(`
- hosts: alpha
  vars: { who: alpha-var }
  tasks:
    - name: delegated
      shell: echo "{{ inventory_hostname }} {{ who }}" > seen.txt
      delegate_to: beta
`);
    expect(report.exitCode ?? 0).toBe(0);
    // beta's connection: its HOME and working directory are beta's root.
    expect(readFileSync(join(s.hostDir('beta'), 'seen.txt'), 'utf8')).toBe('alpha alpha-var\n');
    expect(events.resultOf('delegated', 'alpha')).toMatchObject({ status: 'changed', delegatedTo: 'beta' });
  });

  it('delegates to the implicit localhost, per item when delegate_to is templated', async () => {
    const s = new Scratch(['alpha', 'beta']);
    const out = join(s.dir, 'local.log');
    const { report } = await s.run(`
- hosts: all
  tasks:
    - name: on the control node
      shell: echo "{{ inventory_hostname }}" >> ${out}
      delegate_to: localhost
    - name: to each item
      shell: echo "{{ inventory_hostname }} -> {{ item }}" >> items.log
      loop: [alpha, beta]
      delegate_to: "{{ item }}"
      when: inventory_hostname == 'alpha'
`);
    expect(report.exitCode ?? 0).toBe(0);
    expect(readFileSync(out, 'utf8').trim().split('\n').sort()).toEqual(['alpha', 'beta']);
    expect(readFileSync(join(s.hostDir('alpha'), 'items.log'), 'utf8')).toBe('alpha -> alpha\n');
    expect(readFileSync(join(s.hostDir('beta'), 'items.log'), 'utf8')).toBe('alpha -> beta\n');
  });

  it('delegate_facts puts set_fact on the delegated host', async () => {
    const s = new Scratch(['alpha', 'beta']);
    const { events } = await s.run(`
- hosts: alpha
  tasks:
    - set_fact: { given: from-alpha }
      delegate_to: beta
      delegate_facts: true
- hosts: beta
  tasks:
    - name: show
      debug: { msg: "{{ given }}" }
`);
    expect(events.resultOf('show', 'beta')?.msg).toBe('from-alpha');
  });
});

describe('local_action', () => {
  it('takes the module and its arguments under one key, as a string or a mapping', async () => {
    const s = new Scratch(['alpha']);
    const out = join(s.dir, 'local-action.log');
    const { report } = await s.run(`
- hosts: all
  tasks:
    - local_action: shell echo "string {{ inventory_hostname }}" >> ${out}
    - local_action:
        module: shell
        cmd: echo "mapping {{ inventory_hostname }}" >> ${out}
`);
    expect(report.exitCode ?? 0).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe('string alpha\nmapping alpha\n');
  });

  it('reports an unknown module and a delegate_to beside it at their lines', async () => {
    const s = new Scratch(['alpha']);
    const file = s.write(
      'playbooks/bad.yml',
      `- hosts: all
  tasks:
    - local_action: shel echo hi
    - local_action: command true
      delegate_to: alpha
`,
    );
    const error = await loadPlaybook(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    const problems = (error as UserError).problems.map((p) => `${p.line}:${p.col} ${p.message} | ${p.hint}`);
    expect(problems).toEqual([
      "3:21 unknown module 'shel' in local_action | did you mean 'shell'?",
      "5:7 local_action already runs the task on this machine: 'delegate_to' cannot go with it | remove one of them (local_action is delegate_to: localhost)",
    ]);
  });
});
