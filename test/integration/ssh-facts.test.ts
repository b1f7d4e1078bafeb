// Facts over SSH on real sshd hosts, through the CLI: a plain Ansible playbook that uses ansible_hostname and
// ansible_facts without gather_facts gathers them; check mode changes nothing, the second run changes nothing.
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SshdLab, startSshdLab } from '../../src/lab/sshd.js';
import { distributionFacts, parseOsRelease } from '../../src/modules/setup-facts.js';
import { snapshotTree } from '../unit/modules/context.js';
import { changedPerHost, runOnLab } from './cli.js';

const PLAYBOOK = `- hosts: all
  tasks:
    - name: describe the host
      copy:
        dest: "{{ lab_dir }}/facts.txt"
        content: "{{ ansible_hostname }} {{ ansible_facts.distribution }} {{ ansible_facts['os_family'] }} {{ ansible_user_id }}\\n"
    - name: Debian family only
      debug: { msg: "apt host" }
      when: ansible_os_family == 'Debian'
`;

let lab: SshdLab;
let dir: string;

beforeAll(async () => {
  lab = await startSshdLab(2);
  dir = await mkdtemp(join(tmpdir(), 'ewsplay-facts-'));
  await writeFile(join(dir, 'facts.yml'), PLAYBOOK);
});

afterAll(async () => {
  await lab?.stop();
});

describe('facts over SSH', () => {
  it('gathers when the play uses facts; check mode changes nothing; the second run changes nothing', async () => {
    const run = (...extra: string[]) => runOnLab(dir, lab, 'facts.yml', ...extra);
    const names = lab.hosts.map((h) => h.name);
    // The lab's sshd hosts are this machine: its own os-release says what the facts must be.
    const local = distributionFacts({
      system: 'Linux',
      kernel: '',
      osRelease: parseOsRelease(readFileSync('/etc/os-release', 'utf8')),
      ...(() => {
        try {
          return { debianVersion: readFileSync('/etc/debian_version', 'utf8') };
        } catch {
          return {};
        }
      })(),
    });
    const before = await Promise.all(lab.hosts.map((h) => snapshotTree(h.workDir)));

    const check = await run('--check');
    expect(check.rc, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toContain('Gathering Facts');
    expect(changedPerHost(check.stdout)).toEqual(Object.fromEntries(names.map((n) => [n, 1])));
    expect(await Promise.all(lab.hosts.map((h) => snapshotTree(h.workDir)))).toEqual(before);

    const first = await run();
    expect(first.rc, first.stdout + first.stderr).toBe(0);
    expect(changedPerHost(first.stdout)).toEqual(Object.fromEntries(names.map((n) => [n, 1])));
    for (const h of lab.hosts)
      expect(await readFile(join(h.workDir, 'facts.txt'), 'utf8')).toBe(
        `${hostname().split('.')[0]} ${local.distribution} ${local.os_family} ${lab.user}\n`,
      );

    const second = await run();
    expect(second.rc, second.stdout + second.stderr).toBe(0);
    expect(second.stdout).toContain('Gathering Facts');
    expect(changedPerHost(second.stdout)).toEqual(Object.fromEntries(names.map((n) => [n, 0])));
  });
});
