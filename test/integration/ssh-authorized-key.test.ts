// authorized_key (ansible.posix) over SSH on real sshd hosts, through the CLI: check mode predicts with a
// diff and changes nothing, the first run writes each host's file (0600, directory 0700), the second run
// changes nothing.
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keygen, type SshdLab, startSshdLab } from '../../src/lab/sshd.js';
import { snapshotTree } from '../unit/modules/context.js';
import { changedPerHost, runOnLab } from './cli.js';

let lab: SshdLab;
let dir: string;
let keys: string[];

beforeAll(async () => {
  lab = await startSshdLab(2);
  dir = await mkdtemp(join(tmpdir(), 'ewsplay-authkey-'));
  keys = [];
  for (const name of ['deploy', 'backup']) {
    keygen(join(dir, name), `${name}@ewsplay`);
    keys.push((await readFile(join(dir, `${name}.pub`), 'utf8')).trim());
  }
  await writeFile(
    join(dir, 'keys.yml'),
    `- hosts: all
  gather_facts: false
  vars:
    team_keys: |
${keys.map((k) => `      ${k}`).join('\n')}
  tasks:
    - name: team keys
      ansible.posix.authorized_key:
        user: "{{ ansible_user }}"
        path: "{{ lab_dir }}/dotssh/authorized_keys"
        key: "{{ team_keys }}"
        key_options: from="127.0.0.1"
`,
  );
});

afterAll(async () => {
  await lab?.stop();
});

describe('authorized_key over SSH', () => {
  it('check mode changes nothing; the first run writes every host; the second run changes nothing', async () => {
    const run = (...extra: string[]) => runOnLab(dir, lab, 'keys.yml', ...extra);
    const names = lab.hosts.map((h) => h.name);
    const every = (n: number) => Object.fromEntries(names.map((h) => [h, n]));
    const before = await Promise.all(lab.hosts.map((h) => snapshotTree(h.workDir)));

    const check = await run('--check', '--diff');
    expect(check.rc, check.stdout + check.stderr).toBe(0);
    expect(changedPerHost(check.stdout)).toEqual(every(1));
    expect(check.stdout).toContain(`+from="127.0.0.1" ${keys[0]}`);
    expect(await Promise.all(lab.hosts.map((h) => snapshotTree(h.workDir)))).toEqual(before);

    const first = await run();
    expect(first.rc, first.stdout + first.stderr).toBe(0);
    expect(changedPerHost(first.stdout)).toEqual(every(1));
    for (const h of lab.hosts) {
      const file = join(h.workDir, 'dotssh', 'authorized_keys');
      expect(await readFile(file, 'utf8')).toBe(keys.map((k) => `from="127.0.0.1" ${k}\n`).join(''));
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect((await stat(join(h.workDir, 'dotssh'))).mode & 0o777).toBe(0o700);
    }

    const second = await run();
    expect(second.rc, second.stdout + second.stderr).toBe(0);
    expect(changedPerHost(second.stdout)).toEqual(every(0));
  });
});
