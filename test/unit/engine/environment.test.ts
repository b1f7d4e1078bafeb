// `environment:` as in Ansible: set on a play, block or task (the nearer wins, name by name), rendered
// from variables, and given to every command a task runs on the host, whatever its module.
import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Scratch } from './harness.js';

describe('environment', () => {
  it('play and task environments merge, the task winning; values are rendered', async () => {
    const s = new Scratch(['a']);
    const { report, events } = await s.run(`
- hosts: all
  vars:
    region: north
  environment:
    EWS_REGION: "{{ region }}"
    EWS_LEVEL: play
  tasks:
    - name: show
      command: sh -c 'echo "$EWS_REGION $EWS_LEVEL"'
      environment:
        EWS_LEVEL: task
      register: out
`);
    expect(report.exitCode ?? 0).toBe(0);
    expect(events.resultOf('show', 'a')?.data?.stdout).toBe('north task');
  });

  it('reaches the commands of modules other than command and shell (stat here)', async () => {
    const s = new Scratch(['a']);
    // A `stat` first on PATH that records the marker it sees, then runs the real one.
    const log = join(s.dir, 'stat.log');
    const wrapper = s.write(
      'bin/stat',
      `#!/bin/sh\nprintf '%s\\n' "\${EWS_MARK:-unset}" >> ${log}\nPATH=/usr/bin:/bin exec stat "$@"\n`,
    );
    chmodSync(wrapper, 0o755);
    s.write('hosts/a/probe.txt', 'x\n');
    const { report, events } = await s.run(`
- hosts: all
  environment:
    PATH: "${join(s.dir, 'bin')}:/usr/bin:/bin"
    EWS_MARK: from-the-play
  tasks:
    - name: look
      stat:
        path: probe.txt
        get_checksum: false
`);
    expect(report.exitCode ?? 0).toBe(0);
    expect(events.resultOf('look', 'a')?.data?.stat).toMatchObject({ exists: true, size: 2 });
    expect(readFileSync(log, 'utf8').trim().split('\n')).toContain('from-the-play');
  });
});
