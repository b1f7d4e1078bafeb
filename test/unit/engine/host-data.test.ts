// Host data is data: text a managed host prints is never rendered as a template, whatever route it takes
// through the run (register, set_fact, debug, copy content, template, loops, when, hostvars, includes,
// until, changed_when, run_once), and no template, not even the author's, reaches JavaScript.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Scratch } from './harness.js';

/** The reproduction of the report: a template that would write a file on the control node. */
function payload(target: string): string {
  return `{{ ''.constructor.constructor("process.getBuiltinModule('fs').writeFileSync('${target}', 'pwned');return 'hi'")() }}`;
}

const ARITHMETIC = '{{ 7*7 }}';

describe('host output is never rendered as a template', () => {
  it('the JavaScript payload and {{ 7*7 }} come out literally on every route, and nothing runs', async () => {
    const s = new Scratch(['a', 'b']);
    const pwned = join(s.dir, 'pwned');
    const motd = s.write('motd.txt', `${payload(pwned)}\n${ARITHMETIC}\n`);
    s.write('playbooks/shown.j2', 'motd={{ motd.stdout }}\n');
    s.write('playbooks/each.yml', '- name: included item\n  debug: { msg: "{{ line }}" }\n');
    const out = join(s.dir, 'out');
    const { report, events } = await s.run(`
- hosts: all
  gather_facts: false
  vars:
    shown: "{{ motd.stdout_lines[1] }}"
    literal: "{% raw %}{{ 7*7 }}{% endraw %}"
  tasks:
    - name: read
      command: cat ${motd}
      register: motd
    - name: debug var
      debug: { var: motd.stdout_lines }
    - name: debug msg
      debug: { msg: "{{ motd.stdout_lines[1] }}" }
    - name: set
      set_fact:
        fact_line: "{{ motd.stdout_lines[0] }}"
        fact_dict: { inner: "{{ motd.stdout_lines[1] }}" }
    - name: show fact
      debug: { msg: "{{ fact_line }}|{{ fact_dict.inner }}" }
    - name: play var
      debug: { var: shown }
    - name: copy content
      copy: { content: "{{ motd.stdout }}", dest: "${out}-{{ inventory_hostname }}-copy" }
    - name: template
      template: { src: shown.j2, dest: "${out}-{{ inventory_hostname }}-template" }
    - name: loop
      debug: { msg: "{{ item }}" }
      loop: "{{ motd.stdout_lines }}"
    - name: when
      debug: { msg: equal }
      when: motd.stdout_lines[1] == literal
    - name: when rendered
      debug: { msg: rendered }
      when: motd.stdout_lines[1] == '49'
    - name: hostvars
      debug: { msg: "{{ hostvars[inventory_hostname].motd.stdout_lines[1] }}" }
    - name: include
      include_tasks: each.yml
      loop: "{{ motd.stdout_lines }}"
      loop_control: { loop_var: line }
    - name: until
      command: cat ${motd}
      register: again
      until: again.stdout_lines[1] == shown
      retries: 1
      delay: 0
      changed_when: again.stdout_lines[1] != literal
    - name: once
      set_fact: { once_line: "{{ again.stdout_lines[1] }}" }
      run_once: true
    - name: shared
      debug: { msg: "{{ once_line }}" }
`);
    expect(existsSync(pwned)).toBe(false);
    expect(report.exitCode ?? 0).toBe(0);
    const msg = (task: string, host = 'a') => events.resultOf(task, host)?.msg;
    expect(msg('debug var')).toContain(JSON.stringify([payload(pwned), ARITHMETIC]));
    expect(msg('debug msg')).toBe(ARITHMETIC);
    expect(msg('show fact')).toBe(`${payload(pwned)}|${ARITHMETIC}`);
    expect(msg('play var')).toBe(`shown: ${ARITHMETIC}`);
    for (const h of ['a', 'b']) {
      expect(readFileSync(`${out}-${h}-copy`, 'utf8')).toBe(`${payload(pwned)}\n${ARITHMETIC}`);
      expect(readFileSync(`${out}-${h}-template`, 'utf8')).toBe(`motd=${payload(pwned)}\n${ARITHMETIC}\n`);
    }
    const loop = events.resultOf('loop', 'a')?.items?.map((i) => i.msg);
    expect(loop).toEqual([payload(pwned), ARITHMETIC]);
    expect(events.statusOf('when', 'a')).toBe('ok');
    expect(events.statusOf('when rendered', 'a')).toBe('skipped');
    expect(msg('hostvars')).toBe(ARITHMETIC);
    const included = events.events.filter((e) => e.task === 'included item' && e.host === 'a');
    expect(included.map((e) => e.result.msg)).toEqual([payload(pwned), ARITHMETIC]);
    expect(events.statusOf('until', 'a')).toBe('ok');
    expect(msg('shared', 'b')).toBe(ARITHMETIC);
  });

  it('a fact whose value is template text stays that text; include_vars values are still rendered', async () => {
    const s = new Scratch(['a']);
    s.write('playbooks/vars/v.yml', 'derived: "{{ base }}-x"\n');
    const { events } = await s.run(`
- hosts: all
  gather_facts: false
  vars:
    base: b
  tasks:
    - set_fact: { raw_text: "{{ '{{' }} base }}" }
    - name: raw
      debug: { msg: "{{ raw_text }}" }
    - include_vars: v.yml
    - name: derived
      debug: { msg: "{{ derived }}" }
`);
    expect(events.resultOf('raw', 'a')?.msg).toBe('{{ base }}');
    expect(events.resultOf('derived', 'a')?.msg).toBe('b-x');
  });
});

describe('templates cannot reach JavaScript', () => {
  it('an author-written template with the payload fails as undefined and writes nothing', async () => {
    const s = new Scratch(['a']);
    const pwned = join(s.dir, 'pwned');
    const { events } = await s.run(`
- hosts: all
  gather_facts: false
  tasks:
    - name: payload
      debug: { msg: "${payload(pwned).replace(/"/g, '\\"')}" }
      ignore_errors: true
`);
    expect(existsSync(pwned)).toBe(false);
    expect(events.resultOf('payload', 'a')?.status).toBe('failed');
    expect(events.resultOf('payload', 'a')?.msg).toMatch(/constructor' is undefined/);
  });
});
