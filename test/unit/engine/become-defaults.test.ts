// -b and --become-user are defaults, as in Ansible: a play's or task's `become:` keyword still decides.
import { describe, expect, it } from 'vitest';
import { Scratch } from './harness.js';

describe('command-line become', () => {
  it('applies where the playbook says nothing, and a task that says become: false runs as itself', async () => {
    const s = new Scratch(['a']);
    const { report, events } = await s.run(
      `
- hosts: all
  tasks:
    - name: by default
      command: id -un
    - name: said no
      command: id -un
      become: false
`,
      { become: { enabled: true, user: 'nobody' } },
    );
    expect(report.exitCode ?? 0).toBe(0);
    expect(events.resultOf('by default', 'a')?.data?.stdout).toBe('nobody');
    expect(events.resultOf('said no', 'a')?.data?.stdout).not.toBe('nobody');
  });
});
