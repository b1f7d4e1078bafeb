// replace and blockinfile over SSH on real sshd hosts, through the CLI: check mode predicts and changes
// nothing, the first run edits each host, the second run changes none.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SshdLab, startSshdLab } from '../../src/lab/sshd.js';
import { snapshotTree } from '../unit/modules/context.js';
import { changedPerHost, runOnLab } from './cli.js';

// Ansible's documented forms: a back-reference replace limited by `after`, and a block with custom markers
// inserted after a matching line.
const PLAYBOOK = `- hosts: all
  gather_facts: false
  tasks:
    - name: listen on localhost only, after the marker line
      ansible.builtin.replace:
        path: "{{ lab_dir }}/ports.conf"
        after: '# managed below'
        regexp: '^Listen (\\d+)$'
        replace: 'Listen 127.0.0.1:\\1'
    - name: local host names
      ansible.builtin.blockinfile:
        path: "{{ lab_dir }}/hosts"
        marker: "# {mark} lab hosts"
        insertafter: '^127\\.0\\.0\\.1'
        block: |
          10.0.0.1 web1
          10.0.0.2 web2
`;

const PORTS = 'Listen 80\n# managed below\nListen 8080\nListen 8443\n';
const HOSTS = '127.0.0.1 localhost\n::1 localhost6\n';

let lab: SshdLab;
let dir: string;

beforeAll(async () => {
  lab = await startSshdLab(2);
  dir = await mkdtemp(join(tmpdir(), 'ewsplay-replace-block-'));
  await writeFile(join(dir, 'edit.yml'), PLAYBOOK);
  for (const h of lab.hosts) {
    await writeFile(join(h.workDir, 'ports.conf'), PORTS);
    await writeFile(join(h.workDir, 'hosts'), HOSTS);
  }
});

afterAll(async () => {
  await lab?.stop();
});

describe('replace and blockinfile over SSH', () => {
  it('check mode changes nothing; the first run edits every host; the second run changes nothing', async () => {
    const run = (...extra: string[]) => runOnLab(dir, lab, 'edit.yml', ...extra);
    const names = lab.hosts.map((h) => h.name);
    const before = await Promise.all(lab.hosts.map((h) => snapshotTree(h.workDir)));

    const check = await run('--check', '--diff');
    expect(check.rc, check.stdout + check.stderr).toBe(0);
    expect(changedPerHost(check.stdout)).toEqual(Object.fromEntries(names.map((n) => [n, 2])));
    expect(check.stdout).toContain('+Listen 127.0.0.1:8443');
    expect(check.stdout).toContain('+# BEGIN lab hosts');
    expect(await Promise.all(lab.hosts.map((h) => snapshotTree(h.workDir)))).toEqual(before);

    const first = await run();
    expect(first.rc, first.stdout + first.stderr).toBe(0);
    expect(changedPerHost(first.stdout)).toEqual(Object.fromEntries(names.map((n) => [n, 2])));
    for (const h of lab.hosts) {
      expect(await readFile(join(h.workDir, 'ports.conf'), 'utf8')).toBe(
        'Listen 80\n# managed below\nListen 127.0.0.1:8080\nListen 127.0.0.1:8443\n',
      );
      expect(await readFile(join(h.workDir, 'hosts'), 'utf8')).toBe(
        '127.0.0.1 localhost\n# BEGIN lab hosts\n10.0.0.1 web1\n10.0.0.2 web2\n# END lab hosts\n::1 localhost6\n',
      );
    }

    const second = await run();
    expect(second.rc, second.stdout + second.stderr).toBe(0);
    expect(changedPerHost(second.stdout)).toEqual(Object.fromEntries(names.map((n) => [n, 0])));
  });
});
