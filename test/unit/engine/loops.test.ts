// Loops as Ansible runs them: loop, the older with_list / with_items (one level flattened), and
// include_tasks with a loop (the file runs once per item, with the item set; per-host lists may differ).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Scratch } from './harness.js';

describe('loops', () => {
  it('with_items flattens lists inside the list one level; with_list does not', async () => {
    const s = new Scratch(['a']);
    const log = join(s.dir, 'items.log');
    const { report } = await s.run(`
- hosts: all
  tasks:
    - name: with_items
      shell: echo "items {{ item }}" >> ${log}
      with_items: [[1, 2], 3]
    - name: with_list
      shell: echo "list {{ item | length }}" >> ${log}
      with_list: [[1, 2], [3]]
`);
    expect(report.exitCode ?? 0).toBe(0);
    expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual([
      'items 1',
      'items 2',
      'items 3',
      'list 2',
      'list 1',
    ]);
  });

  it('include_tasks with a loop: once per item with the item set, hosts with the same item together', async () => {
    const s = new Scratch(['a', 'b']);
    const log = join(s.dir, 'include.log');
    s.write('host_vars/a.yml', 'steps: [one, two, one]\n');
    s.write('host_vars/b.yml', 'steps: [two]\n');
    s.write('playbooks/step.yml', `- shell: echo "{{ inventory_hostname }} {{ step }}" >> ${log}\n`);
    const { report } = await s.run(`
- hosts: all
  tasks:
    - include_tasks: step.yml
      loop: "{{ steps }}"
      loop_control:
        loop_var: step
`);
    expect(report.exitCode ?? 0).toBe(0);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    // Groups in the order met: a's "one"; "two" for a and b at once; a's repeated "one" last.
    expect(lines[0]).toBe('a one');
    expect(lines.slice(1, 3).sort()).toEqual(['a two', 'b two']);
    expect(lines.slice(3)).toEqual(['a one']);
  });

  it('an include loop that is not a list fails that host, naming it', async () => {
    const s = new Scratch(['a']);
    s.write('playbooks/step.yml', '- debug: { msg: x }\n');
    const { events, report } = await s.run(`
- hosts: all
  tasks:
    - include_tasks: step.yml
      loop: "{{ 'not a list' }}"
    - name: after
      debug: { msg: never }
`);
    expect(events.statusOf('after', 'a')).toBeUndefined();
    expect(report.stats.a?.failed).toBe(1);
    expect(events.warnings.join('\n')).toContain('a: include_tasks: loop must be a list, got string');
  });
});

describe('run_once', () => {
  it('runs on the first host only; its registered result and facts reach every host of the batch', async () => {
    const s = new Scratch(['a', 'b', 'c']);
    const log = join(s.dir, 'once.log');
    const { report, events } = await s.run(`
- hosts: all
  tasks:
    - name: once
      shell: echo "ran on {{ inventory_hostname }}" >> ${log}; echo token-{{ inventory_hostname }}
      register: minted
      run_once: true
    - name: fact once
      set_fact:
        chosen: "{{ inventory_hostname }}"
      run_once: true
    - name: everyone
      shell: echo "{{ inventory_hostname }} sees {{ minted.stdout }} and {{ chosen }}" >> ${log}
`);
    expect(report.exitCode ?? 0).toBe(0);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('ran on a');
    expect(lines.slice(1).sort()).toEqual([
      'a sees token-a and a',
      'b sees token-a and a',
      'c sees token-a and a',
    ]);
    expect(events.statusOf('once', 'a')).toBe('changed');
    expect(events.statusOf('once', 'b')).toBeUndefined();
    expect(report.stats.b?.changed).toBe(1);
  });

  it('loop_control: index_var, extended (ansible_loop) and pause, also in registered results', async () => {
    const s = new Scratch(['a']);
    const log = join(s.dir, 'control.log');
    const started = Date.now();
    const { report, events } = await s.run(`
- hosts: all
  tasks:
    - name: extended
      shell: >-
        echo "{{ i }} {{ item }} {{ ansible_loop.index }}/{{ ansible_loop.length }}
        first={{ ansible_loop.first }} last={{ ansible_loop.last }} rev={{ ansible_loop.revindex0 }}
        prev={{ ansible_loop.previtem | default('-') }} next={{ ansible_loop.nextitem | default('-') }}
        all={{ ansible_loop.allitems | join(',') }}" >> ${log}
      loop: [x, y, z]
      loop_control: { index_var: i, extended: true, pause: 0.2 }
      register: out
    - name: results
      debug:
        msg: "{{ out.results | map(attribute='i') | list }} {{ out.results[0].ansible_index_var }}"
`);
    expect(report.exitCode ?? 0).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual([
      '0 x 1/3 first=True last=False rev=2 prev=- next=y all=x,y,z',
      '1 y 2/3 first=False last=False rev=1 prev=x next=z all=x,y,z',
      '2 z 3/3 first=False last=True rev=0 prev=y next=- all=x,y,z',
    ]);
    expect(events.resultOf('results', 'a')?.msg).toBe('[0, 1, 2] i');
  });

  it('loop_control index_var on include_tasks', async () => {
    const s = new Scratch(['a']);
    const log = join(s.dir, 'include-index.log');
    s.write('playbooks/step.yml', `- shell: echo "{{ n }}:{{ item }}" >> ${log}\n`);
    const { report } = await s.run(`
- hosts: all
  tasks:
    - include_tasks: step.yml
      loop: [p, q]
      loop_control: { index_var: n }
`);
    expect(report.exitCode ?? 0).toBe(0);
    expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual(['0:p', '1:q']);
  });
});
