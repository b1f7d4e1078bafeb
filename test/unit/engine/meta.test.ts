// pre_tasks / post_tasks with Ansible's handler flushes, and meta's engine actions.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Scratch } from './harness.js';

const lines = (file: string) => readFileSync(file, 'utf8').trim().split('\n');

describe('pre_tasks, post_tasks and flush_handlers', () => {
  it('runs handlers after pre_tasks, after tasks, at a flush, and at the end, in that order', async () => {
    const s = new Scratch(['a']);
    const log = join(s.dir, 'order.log');
    const { report } = await s.run(`
- hosts: all
  post_tasks:
    - shell: echo post >> ${log}
      notify: h
  tasks:
    - shell: echo task1 >> ${log}
      notify: h
    - meta: flush_handlers
    - shell: echo task2 >> ${log}
      notify: h
  pre_tasks:
    - shell: echo pre >> ${log}
      notify: h
  handlers:
    - name: h
      shell: echo handler >> ${log}
`);
    expect(report.exitCode ?? 0).toBe(0);
    expect(lines(log)).toEqual(['pre', 'handler', 'task1', 'handler', 'task2', 'handler', 'post', 'handler']);
  });
});

describe('meta', () => {
  it('end_host: that host sits out the rest of the play, not failed; the others go on; the next play runs it', async () => {
    const s = new Scratch(['a', 'b']);
    const log = join(s.dir, 'end-host.log');
    const { report, events } = await s.run(`
- hosts: all
  tasks:
    - meta: end_host
      when: inventory_hostname == 'a'
    - shell: echo "{{ inventory_hostname }} first" >> ${log}
- hosts: all
  tasks:
    - shell: echo "{{ inventory_hostname }} second" >> ${log}
`);
    expect(report.exitCode ?? 0).toBe(0);
    expect(lines(log).sort()).toEqual(['a second', 'b first', 'b second']);
    expect(events.statusOf('meta', 'b')).toBe('skipped');
    expect(report.stats.a).toMatchObject({ failed: 0, unreachable: 0 });
  });

  it('end_play: no host runs the rest of the play, later batches included', async () => {
    const s = new Scratch(['a', 'b']);
    const log = join(s.dir, 'end-play.log');
    const { report } = await s.run(`
- hosts: all
  serial: 1
  tasks:
    - shell: echo "{{ inventory_hostname }} before" >> ${log}
    - meta: end_play
    - shell: echo "{{ inventory_hostname }} after" >> ${log}
- hosts: all
  tasks:
    - shell: echo "{{ inventory_hostname }} next play" >> ${log}
`);
    expect(report.exitCode ?? 0).toBe(0);
    // b's batch never starts (no 'b before'), and nobody runs 'after'.
    expect(lines(log).sort()).toEqual(['a before', 'a next play', 'b next play']);
  });

  it('clear_host_errors: a failed host of the batch goes on with the next task', async () => {
    const s = new Scratch(['a', 'b']);
    const log = join(s.dir, 'clear.log');
    const { events } = await s.run(`
- hosts: all
  tasks:
    - fail: { msg: boom }
      when: inventory_hostname == 'a'
    - meta: clear_host_errors
    - shell: echo "{{ inventory_hostname }}" >> ${log}
`);
    expect(events.statusOf('fail', 'a')).toBe('failed');
    expect(lines(log).sort()).toEqual(['a', 'b']);
  });

  it('noop does nothing and reports ok', async () => {
    const s = new Scratch(['a']);
    const { report, events } = await s.run(`
- hosts: all
  tasks:
    - meta: noop
`);
    expect(report.exitCode ?? 0).toBe(0);
    expect(events.statusOf('meta', 'a')).toBe('ok');
  });
});
