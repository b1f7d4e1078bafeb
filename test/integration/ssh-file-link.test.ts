// The file module's state: link over SSH on real sshd hosts, through the CLI: check mode predicts and
// changes nothing, the first run changes each host, the second run changes none.
import { mkdir, mkdtemp, readlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SshdLab, startSshdLab } from '../../src/lab/sshd.js';
import { snapshotTree } from '../unit/modules/context.js';
import { changedPerHost, runOnLab } from './cli.js';

// Ansible's own example form: a relative src, stored as given.
const PLAYBOOK = `- hosts: all
  gather_facts: false
  tasks:
    - name: current release
      file: { src: app-1.2, path: "{{ lab_dir }}/app", state: link }
`;

let lab: SshdLab;
let dir: string;

beforeAll(async () => {
  lab = await startSshdLab(2);
  dir = await mkdtemp(join(tmpdir(), 'ewsplay-file-link-'));
  await writeFile(join(dir, 'link.yml'), PLAYBOOK);
  for (const h of lab.hosts) await mkdir(join(h.workDir, 'app-1.2'), { recursive: true });
});

afterAll(async () => {
  await lab?.stop();
});

describe('file state=link over SSH', () => {
  it('check mode changes nothing; the first run links every host; the second run changes nothing', async () => {
    const run = (...extra: string[]) => runOnLab(dir, lab, 'link.yml', ...extra);
    const names = lab.hosts.map((h) => h.name);
    const before = await Promise.all(lab.hosts.map((h) => snapshotTree(h.workDir)));

    const check = await run('--check', '--diff');
    expect(check.rc, check.stdout + check.stderr).toBe(0);
    expect(changedPerHost(check.stdout)).toEqual(Object.fromEntries(names.map((n) => [n, 1])));
    expect(check.stdout).toContain('+src: app-1.2');
    expect(await Promise.all(lab.hosts.map((h) => snapshotTree(h.workDir)))).toEqual(before);

    const first = await run();
    expect(first.rc, first.stdout + first.stderr).toBe(0);
    expect(changedPerHost(first.stdout)).toEqual(Object.fromEntries(names.map((n) => [n, 1])));
    for (const h of lab.hosts) expect(await readlink(join(h.workDir, 'app'))).toBe('app-1.2');

    const second = await run();
    expect(second.rc, second.stdout + second.stderr).toBe(0);
    expect(changedPerHost(second.stdout)).toEqual(Object.fromEntries(names.map((n) => [n, 0])));
  });
});
