// The core modules on real sshd hosts through the CLI: file, copy (src and content), template, lineinfile,
// command with creates, read-only shell, stat, wait_for (a port seen from the host, a path), set_fact,
// assert and debug. Check mode predicts the changes and touches nothing; the first run changes each host;
// the second changes nothing and leaves every file as it was (content, mode, mtime).
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SshdLab, startSshdLab } from '../../src/lab/sshd.js';
import { snapshotTree } from '../unit/modules/context.js';
import { changedPerHost, runOnLab } from './cli.js';

const PLAYBOOK = `- hosts: all
  gather_facts: false
  vars:
    levels: [error, info]
  tasks:
    - name: directory
      file: { path: "{{ lab_dir }}/app", state: directory, mode: "0750" }
    - name: static file
      copy: { src: motd.txt, dest: "{{ lab_dir }}/app/motd.txt", mode: "0644" }
    - name: template
      template: { src: app.conf.j2, dest: "{{ lab_dir }}/app/app.conf", mode: "0640" }
    - name: a line
      lineinfile:
        path: "{{ lab_dir }}/app/settings.ini"
        regexp: "^max_clients="
        line: max_clients=64
        create: true
    - name: once
      command: touch "{{ lab_dir }}/app/initialized"
      args: { creates: "{{ lab_dir }}/app/initialized" }
    - name: stat
      stat: { path: "{{ lab_dir }}/app/app.conf" }
      register: conf
    - name: read-only shell
      shell: cat "{{ lab_dir }}/app/app.conf" 2>/dev/null | wc -l
      register: lines
      changed_when: false
      check_mode: false
    - name: the port of this host's own sshd, seen from the host
      wait_for: { host: 127.0.0.1, port: "{{ ansible_port }}", timeout: 5 }
    - name: a path that exists
      wait_for: { path: "{{ lab_dir }}", timeout: 5 }
    - name: a fact
      set_fact: { summary: "host={{ inventory_hostname }} lines={{ lines.stdout | trim }}" }
    - name: content
      copy: { content: "{{ summary }}\\n", dest: "{{ lab_dir }}/app/summary.txt" }
    - name: what the run saw
      assert:
        that:
          - ansible_check_mode or conf.stat.exists
          - ansible_check_mode or lines.stdout | trim | int == 3
    - debug: { msg: "{{ summary }}" }
`;

const TEMPLATE = `# {{ inventory_hostname }}
{% for level in levels %}log={{ level }}
{% endfor %}`;

let lab: SshdLab;
let dir: string;

beforeAll(async () => {
  lab = await startSshdLab(3);
  dir = await mkdtemp(join(tmpdir(), 'ewsplay-core-'));
  await writeFile(join(dir, 'site.yml'), PLAYBOOK);
  await mkdir(join(dir, 'files'));
  await mkdir(join(dir, 'templates'));
  await writeFile(join(dir, 'files', 'motd.txt'), 'welcome\n');
  await writeFile(join(dir, 'templates', 'app.conf.j2'), TEMPLATE);
});

afterAll(async () => {
  await lab?.stop();
});

describe('core modules over SSH', () => {
  it('check mode changes nothing; the first run changes every host; the second run changes nothing', async () => {
    const names = lab.hosts.map((h) => h.name);
    const every = (n: number) => Object.fromEntries(names.map((h) => [h, n]));
    const trees = () => Promise.all(lab.hosts.map((h) => snapshotTree(h.workDir)));
    const before = await trees();

    // Check mode: the directory, both copies, template, line and command would change; the shell read runs
    // for real (check_mode: false) and finds no file yet, so the assert allows for check mode.
    const check = await runOnLab(dir, lab, 'site.yml', '--check');
    expect(check.rc, check.stdout + check.stderr).toBe(0);
    expect(changedPerHost(check.stdout)).toEqual(every(6));
    expect(await trees()).toEqual(before);

    const first = await runOnLab(dir, lab, 'site.yml');
    expect(first.rc, first.stdout + first.stderr).toBe(0);
    expect(changedPerHost(first.stdout)).toEqual(every(6));
    for (const h of lab.hosts) {
      expect(await readFile(join(h.workDir, 'app', 'app.conf'), 'utf8')).toBe(
        `# ${h.name}\nlog=error\nlog=info\n`,
      );
      expect(await readFile(join(h.workDir, 'app', 'summary.txt'), 'utf8')).toBe(`host=${h.name} lines=3\n`);
      expect(first.stdout).toContain(`host=${h.name} lines=3`);
    }
    const afterFirst = await trees();

    const second = await runOnLab(dir, lab, 'site.yml');
    expect(second.rc, second.stdout + second.stderr).toBe(0);
    expect(changedPerHost(second.stdout)).toEqual(every(0));
    expect(await trees()).toEqual(afterFirst);

    const checkAgain = await runOnLab(dir, lab, 'site.yml', '--check');
    expect(checkAgain.rc, checkAgain.stdout + checkAgain.stderr).toBe(0);
    expect(changedPerHost(checkAgain.stdout)).toEqual(every(0));
    expect(await trees()).toEqual(afterFirst);
  });
});
