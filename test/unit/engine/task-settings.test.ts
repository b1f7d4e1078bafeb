// A task's settings with Ansible's precedence: task over block over play over the command line, for
// check_mode and no_log alike (a block and a task that both set them).
import { describe, expect, it } from 'vitest';
import { Scratch } from './harness.js';

describe('task over block over play', () => {
  it('check_mode: a task that says false runs inside a block that says true, and the reverse', async () => {
    const s = new Scratch(['a']);
    const dir = s.hostDir('a');
    const { events } = await s.run(`
- hosts: all
  gather_facts: false
  tasks:
    - block:
        - name: task says false
          file: { path: ${dir}/made-by-task, state: touch }
          check_mode: false
        - name: block says true
          file: { path: ${dir}/not-made, state: touch }
      check_mode: true
    - block:
        - name: task says true
          file: { path: ${dir}/not-made-either, state: touch }
          check_mode: true
      check_mode: false
`);
    const { existsSync } = await import('node:fs');
    expect(existsSync(`${dir}/made-by-task`)).toBe(true);
    expect(existsSync(`${dir}/not-made`)).toBe(false);
    expect(existsSync(`${dir}/not-made-either`)).toBe(false);
    expect(events.resultOf('block says true', 'a')?.checkMode).toBe(true);
    expect(events.resultOf('task says false', 'a')?.checkMode).toBeUndefined();
  });

  it('no_log: the task decides over its block, both ways', async () => {
    const s = new Scratch(['a']);
    const { events } = await s.run(`
- hosts: all
  gather_facts: false
  tasks:
    - block:
        - name: shown
          debug: { msg: visible }
          no_log: false
        - name: hidden by block
          debug: { msg: secret-ish }
      no_log: true
    - block:
        - name: hidden by task
          debug: { msg: secret-ish }
          no_log: true
      no_log: false
`);
    expect(events.resultOf('shown', 'a')?.msg).toBe('visible');
    expect(events.resultOf('hidden by block', 'a')?.msg).toMatch(/no_log/);
    expect(events.resultOf('hidden by task', 'a')?.msg).toMatch(/no_log/);
  });
});
