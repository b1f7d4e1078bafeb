// Play and task keywords Ansible users write: connection / remote_user / port on the play, order,
// throttle, diff and any_errors_fatal on tasks, become_method and strategy (validated).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { UserError } from '../../../src/core/problems.js';
import { batches, ordered } from '../../../src/engine/play-runner.js';
import { loadPlaybook } from '../../../src/load/playbook.js';
import { Scratch } from './harness.js';

describe('play keywords', () => {
  it("connection: local reaches a host the inventory would reach over SSH; the inventory's variable wins", async () => {
    // web9 has no ansible_connection: without the keyword it would be an SSH host (and unreachable here).
    const s = new Scratch(['alpha'], '    web9: { ansible_host: 192.0.2.1 }\n');
    const log = join(s.dir, 'local.log');
    const { report, events } = await s.run(`
- hosts: web9
  connection: local
  tasks:
    - name: here
      shell: echo "{{ inventory_hostname }}" >> ${log}
`);
    expect(events.statusOf('here', 'web9')).toBe('changed');
    expect(readFileSync(log, 'utf8')).toBe('web9\n');
    expect(report.exitCode ?? 0).toBe(0);
  });

  it('order: sorted, reverse_sorted and reverse_inventory; shuffle keeps every host', () => {
    const hosts = ['b', 'c', 'a'];
    expect(ordered(hosts, 'sorted')).toEqual(['a', 'b', 'c']);
    expect(ordered(hosts, 'reverse_sorted')).toEqual(['c', 'b', 'a']);
    expect(ordered(hosts, 'reverse_inventory')).toEqual(['a', 'c', 'b']);
    expect(ordered(hosts, 'inventory')).toEqual(hosts);
    expect(ordered(hosts, 'shuffle').sort()).toEqual(['a', 'b', 'c']);
  });

  it("serial as a list: the first batches' sizes, the last one repeating (percentages of the play's hosts)", () => {
    const hosts = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'h7', 'h8', 'h9', 'h10'];
    expect(batches(hosts, [1, 3, '20%']).map((b) => b.length)).toEqual([1, 3, 2, 2, 2]);
    expect(batches(hosts, '25%').map((b) => b.length)).toEqual([2, 2, 2, 2, 2]);
    expect(batches(hosts, ['1%'])).toHaveLength(10);
  });

  it('order: serial batches follow it', async () => {
    const s = new Scratch(['b', 'a', 'c']);
    const log = join(s.dir, 'order.log');
    await s.run(`
- hosts: all
  serial: 1
  order: reverse_sorted
  tasks:
    - shell: echo "{{ inventory_hostname }}" >> ${log}
`);
    expect(readFileSync(log, 'utf8')).toBe('c\nb\na\n');
  });
});

describe('task keywords', () => {
  it('throttle: 1 runs the hosts one at a time', async () => {
    const s = new Scratch(['a', 'b', 'c']);
    const log = join(s.dir, 'throttle.log');
    await s.run(`
- hosts: all
  tasks:
    - shell: echo "start {{ inventory_hostname }}" >> ${log}; sleep 0.1; echo "end {{ inventory_hostname }}" >> ${log}
      throttle: 1
`);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    // Never two starts in a row: each host ends before the next starts.
    for (let i = 0; i < lines.length; i += 2) {
      expect(lines[i]).toMatch(/^start /);
      expect(lines[i + 1]).toBe(lines[i]!.replace('start', 'end'));
    }
  });

  it('diff: true shows the diff of that task without --diff; diff: false hides it under --diff', async () => {
    const s = new Scratch(['a']);
    const { events } = await s.run(`
- hosts: all
  tasks:
    - name: shown
      copy: { content: "one\\n", dest: shown.txt }
      diff: true
    - name: hidden
      copy: { content: "two\\n", dest: hidden.txt }
`);
    expect(events.resultOf('shown', 'a')?.diff?.length).toBeGreaterThan(0);
    expect(events.resultOf('hidden', 'a')?.diff).toBeUndefined();
    const withFlag = await new Scratch(['a']).run(
      `
- hosts: all
  tasks:
    - name: hidden
      copy: { content: "two\\n", dest: hidden.txt }
      diff: false
`,
      { diff: true },
    );
    expect(withFlag.events.resultOf('hidden', 'a')?.diff).toBeUndefined();
  });

  it('any_errors_fatal on a task stops the play for every host when one fails it', async () => {
    const s = new Scratch(['a', 'b']);
    const log = join(s.dir, 'fatal.log');
    await s.run(`
- hosts: all
  tasks:
    - fail: { msg: boom }
      when: inventory_hostname == 'a'
      any_errors_fatal: true
    - shell: echo "{{ inventory_hostname }}" >> ${log}
`);
    expect(() => readFileSync(log, 'utf8')).toThrow();
  });

  it('async with poll > 0 is the time limit of the task; poll: 0 is a load-time problem', async () => {
    const s = new Scratch(['a']);
    const started = Date.now();
    const { events } = await s.run(`
- hosts: all
  tasks:
    - name: slow
      shell: sleep 5
      async: 1
      poll: 1
`);
    expect(events.statusOf('slow', 'a')).toBe('failed');
    expect(events.resultOf('slow', 'a')?.msg).toMatch(/timed out after 1s/);
    expect(Date.now() - started).toBeLessThan(4000);
    const file = s.write(
      'playbooks/fire.yml',
      '- hosts: all\n  tasks:\n    - shell: sleep 60\n      async: 100\n      poll: 0\n',
    );
    const error = await loadPlaybook(file).catch((e: unknown) => e);
    expect((error as UserError).problems.map((p) => `${p.line}:${p.col} ${p.message}`)).toEqual([
      '5:7 poll: 0 (fire and forget) is not supported: nobody would collect the result of the task',
    ]);
  });

  it('become_method other than sudo and strategy other than linear are load-time problems', async () => {
    const s = new Scratch(['a']);
    const file = s.write(
      'playbooks/bad.yml',
      `- hosts: all
  strategy: free
  tasks:
    - debug: { msg: x }
      become_method: su
    - debug: { msg: y }
      connection: local
`,
    );
    const error = await loadPlaybook(file).catch((e: unknown) => e);
    const problems = (error as UserError).problems.map(
      (p) => `${p.line}:${p.col} ${p.message} | ${p.hint ?? ''}`,
    );
    expect(problems).toEqual([
      expect.stringMatching(/^2:13 'strategy' must be .*linear/),
      expect.stringMatching(/^5:22 'become_method' must be .*sudo/),
      expect.stringMatching(/^7:7 unknown task keyword 'connection' \| set it on the play/),
    ]);
  });
});
