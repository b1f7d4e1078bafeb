// The recap counts as ansible-playbook's (issue 15, parity playbooks): each file include_tasks includes is
// ok once per host and item, an include whose every item is skipped is one skipped task, and a loop over no
// items is skipped ('No items in the list'), not ok; an ignored failure is ok too.
import { describe, expect, it } from 'vitest';
import { Scratch } from './harness.js';

describe('recap counts as Ansible', () => {
  it('include_tasks: ok per included file and item, skipped when no item is included', async () => {
    const s = new Scratch(['a', 'b']);
    s.write('playbooks/step.yml', '- debug: { msg: "{{ step }}" }\n');
    const { report } = await s.run(`
- hosts: all
  gather_facts: false
  tasks:
    - include_tasks: step.yml
      loop: [one, two, three]
      loop_control: { loop_var: step }
      when: step != 'two' and (step != 'three' or inventory_hostname == 'a')
    - include_tasks: step.yml
      loop: [x]
      loop_control: { loop_var: step }
      when: false
    - include_tasks: step.yml
      loop: []
      loop_control: { loop_var: step }
`);
    expect(report.exitCode ?? 0).toBe(0);
    // a: two files included (one, three), each with one debug: 2 + 2 ok; two includes skipped.
    expect(report.stats.a).toMatchObject({ ok: 4, changed: 0, skipped: 2, failed: 0 });
    expect(report.stats.b).toMatchObject({ ok: 2, changed: 0, skipped: 2, failed: 0 });
  });

  it('a loop over no items is a skipped task, registered with skipped_reason', async () => {
    const s = new Scratch(['a']);
    const { report, events } = await s.run(`
- hosts: all
  gather_facts: false
  tasks:
    - name: nothing to do
      debug: { msg: "{{ item }}" }
      loop: []
      register: nothing
    - name: every item skipped
      debug: { msg: "{{ item }}" }
      loop: [1, 2]
      when: item > 5
      register: all_skipped
    - name: show
      debug:
        msg: "{{ nothing.skipped }} {{ nothing.skipped_reason }} {{ nothing.results | length }} / {{ all_skipped.skipped }} {{ all_skipped.msg }}"
`);
    expect(report.stats.a).toMatchObject({ ok: 1, skipped: 2, ignored: 0 });
    expect(events.resultOf('nothing to do', 'a')?.status).toBe('skipped');
    expect(events.resultOf('show', 'a')?.msg).toBe('True No items in the list 0 / True All items skipped');
  });

  it('an ignored failure is ok and ignored, and changed when it changed something', async () => {
    const s = new Scratch(['a']);
    const { report } = await s.run(`
- hosts: all
  gather_facts: false
  tasks:
    - command: /bin/false
      ignore_errors: true
    - command: /bin/false
      changed_when: false
      ignore_errors: true
    - command: /bin/true
      changed_when: true
      failed_when: true
      ignore_errors: true
`);
    expect(report.exitCode ?? 0).toBe(0);
    // As ansible-playbook 2.14 counts them: a command that ran is changed, even when it failed.
    expect(report.stats.a).toMatchObject({ ok: 3, changed: 2, failed: 0, ignored: 3 });
  });
});
