// Playbooks written the usual Ansible way: each case is the minimal reproduction of a difference an Ansible
// user met (handlers on a listen topic, hostvars under --limit, omit, magic variables, rescue's
// ansible_failed_*, a check-mode command loop).
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Scratch } from './harness.js';

describe('Ansible compatibility', () => {
  it('every handler listening on a notified topic runs, in definition order, once', async () => {
    const s = new Scratch(['a']);
    const log = join(s.dir, 'handlers.log');
    await s.run(`
- hosts: all
  gather_facts: false
  tasks:
    - command: echo change
      notify: restart web stack
    - command: echo again
      notify: [restart web stack, named]
  handlers:
    - name: first listener
      shell: echo first >> ${log}
      listen: restart web stack
    - name: named
      shell: echo named >> ${log}
    - name: second listener
      shell: echo second >> ${log}
      listen: restart web stack
`);
    expect(readFileSync(log, 'utf8')).toBe('first\nnamed\nsecond\n');
  });

  it('hostvars has the inventory variables of hosts outside --limit, and groups lists them', async () => {
    const s = new Scratch(['a', 'b']);
    s.write('host_vars/b.yml', 'port: 8080\n');
    const { events } = await s.run(
      `
- hosts: all
  gather_facts: false
  tasks:
    - name: peers
      debug: { msg: "{{ groups['all'] | map('extract', hostvars, 'inventory_hostname') | join(',') }} {{ hostvars['b'].port }}" }
`,
      { limit: 'a' },
    );
    expect(events.events.map((e) => e.host)).toEqual(['a']);
    expect(events.resultOf('peers', 'a')?.msg).toBe('a,b 8080');
  });

  it('include_tasks with a loop evaluates when and the file name per item', async () => {
    const s = new Scratch(['a']);
    const log = join(s.dir, 'include.log');
    s.write('playbooks/one.yml', `- shell: echo "one {{ item }}" >> ${log}\n`);
    s.write('playbooks/two.yml', `- shell: echo "two {{ item }}" >> ${log}\n`);
    const { report } = await s.run(`
- hosts: all
  gather_facts: false
  tasks:
    - include_tasks: "{{ item }}.yml"
      loop: [one, skip, two]
      when: item != 'skip'
`);
    expect(report.exitCode ?? 0).toBe(0);
    expect(readFileSync(log, 'utf8')).toBe('one one\ntwo two\n');
  });

  it('--diff shows the diffs of a loop, in check mode and for real', async () => {
    const s = new Scratch(['a']);
    const dir = s.hostDir('a');
    const play = `
- hosts: all
  gather_facts: false
  tasks:
    - name: files
      copy: { content: "{{ item }}\\n", dest: "${dir}/{{ item }}.txt" }
      loop: [one, two]
`;
    for (const check of [true, false]) {
      const { events } = await s.run(play, { check, diff: true });
      const diffs = events.resultOf('files', 'a')?.diff ?? [];
      expect(diffs.map((d) => [d.path, d.after])).toEqual([
        [`${dir}/one.txt`, 'one\n'],
        [`${dir}/two.txt`, 'two\n'],
      ]);
    }
  });

  it('omit leaves an argument out, as if it had not been written', async () => {
    const s = new Scratch(['a']);
    const file = join(s.hostDir('a'), 'f');
    const { report } = await s.run(`
- hosts: all
  gather_facts: false
  vars:
    wanted: "0640"
  tasks:
    - file: { path: ${file}, state: touch, mode: "{{ nothing | default(omit) }}" }
    - file: { path: ${file}, mode: "{{ wanted | default(omit) }}" }
`);
    expect(report.exitCode ?? 0).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o640);
  });

  it('has the magic variables of the play, the run and the version', async () => {
    const s = new Scratch(['a', 'b']);
    const { events } = await s.run(
      `
- name: the play
  hosts: all
  gather_facts: false
  tasks:
    - name: fail b
      fail: { msg: stop }
      when: inventory_hostname == 'b'
    - name: magic
      debug:
        msg: "{{ ansible_play_name }}|{{ ansible_play_hosts }}|{{ play_hosts }}|{{ ansible_play_hosts_all }}|{{ ansible_run_tags }}|{{ ansible_version.major }}.{{ ansible_version.minor }}"
      tags: [t]
`,
      { tags: { only: ['t', 'untagged'], skip: [] } },
    );
    expect(events.resultOf('magic', 'a')?.msg).toBe("the play|['a']|['a']|['a', 'b']|['t', 'untagged']|2.14");
  });

  it('rescue sees ansible_failed_task and ansible_failed_result', async () => {
    const s = new Scratch(['a']);
    const { events, report } = await s.run(`
- hosts: all
  gather_facts: false
  tasks:
    - block:
        - name: breaks
          command: sh -c "echo out; exit 3"
      rescue:
        - name: why
          debug: { msg: "{{ ansible_failed_task.name }} rc={{ ansible_failed_result.rc }} {{ ansible_failed_result.stdout }}" }
    - name: after
      debug: { msg: "{{ ansible_failed_result is defined }}" }
`);
    expect(report.exitCode ?? 0).toBe(0);
    expect(events.resultOf('why', 'a')?.msg).toBe('breaks rc=3 out');
    expect(events.resultOf('after', 'a')?.msg).toBe('false');
  });

  it('check mode: a command loop whose items are all skipped is a skipped task, items with rc', async () => {
    const s = new Scratch(['a']);
    const { events } = await s.run(
      `
- hosts: all
  gather_facts: false
  tasks:
    - name: loop
      command: "touch {{ item }}"
      loop: [x, y]
      register: r
    - name: rcs
      debug: { msg: "{{ r.results | map(attribute='rc') | list }} {{ r.skipped }}" }
`,
      { check: true },
    );
    expect(events.statusOf('loop', 'a')).toBe('skipped');
    expect(events.resultOf('rcs', 'a')?.msg).toBe('[0, 0] True');
  });
});
