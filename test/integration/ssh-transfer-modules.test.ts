// raw, script, fetch and slurp over SSH on real sshd hosts, through the CLI: check mode changes nothing on the
// hosts or on the control node, the first run changes each host, the second run changes none.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SshdLab, startSshdLab } from '../../src/lab/sshd.js';
import { snapshotTree } from '../unit/modules/context.js';
import { changedPerHost, runOnLab } from './cli.js';

const PLAYBOOK = `- hosts: all
  gather_facts: false
  tasks:
    - name: raw read
      raw: cat {{ lab_dir }}/app.conf
      register: seen
      changed_when: false
    - name: raw saw the file
      assert: { that: ["ansible_check_mode or seen.stdout_lines[0] == 'port=8443'"] }
    - name: script
      script: make.sh {{ lab_dir }}/made "two words"
      args:
        creates: "{{ lab_dir }}/made"
    - name: fetch
      fetch: { src: "{{ lab_dir }}/app.conf", dest: fetched }
    - name: slurp
      slurp: { path: "{{ lab_dir }}/app.conf" }
      register: conf
    - name: slurp read it
      assert: { that: ["conf.content | b64decode == 'port=8443\\\\n'", "conf.encoding == 'base64'"] }
`;

let lab: SshdLab;
let dir: string;

beforeAll(async () => {
  lab = await startSshdLab(2);
  dir = await mkdtemp(join(tmpdir(), 'ewsplay-transfer-'));
  await writeFile(join(dir, 'site.yml'), PLAYBOOK);
  await mkdir(join(dir, 'files'));
  // Writes its arguments (one a line) to the file named first: the quoting of "two words" must survive.
  await writeFile(
    join(dir, 'files', 'make.sh'),
    '#!/bin/sh\nout=$1; shift\nfor a in "$@"; do echo "$a"; done > "$out"\n',
  );
  for (const h of lab.hosts) await writeFile(join(h.workDir, 'app.conf'), 'port=8443\n');
});

afterAll(async () => {
  await lab?.stop();
});

/** The control node's playbook directory, without ewsplay's own run records (.ewsplay/). */
const controlTree = async () =>
  Object.fromEntries(Object.entries(await snapshotTree(dir)).filter(([k]) => !k.startsWith('.ewsplay')));

const scriptDirs = async () =>
  (await readdir(process.env.TMPDIR ?? '/tmp')).filter((n) => n.startsWith('ewsplay-script.'));

describe('raw, script, fetch and slurp over SSH', () => {
  it('check mode changes nothing anywhere; the first run changes each host; the second run none', async () => {
    const run = (...extra: string[]) => runOnLab(dir, lab, 'site.yml', ...extra);
    const names = lab.hosts.map((h) => h.name);
    const per = (n: number) => Object.fromEntries(names.map((h) => [h, n]));
    const hostTrees = () => Promise.all(lab.hosts.map((h) => snapshotTree(h.workDir)));
    const hostsBefore = await hostTrees();
    const controlBefore = await controlTree();
    const tmpBefore = await scriptDirs();

    const check = await run('--check');
    expect(check.rc, check.stdout + check.stderr).toBe(0);
    // script (creates absent: would run) and fetch (no local copy) predict a change; raw is skipped.
    expect(changedPerHost(check.stdout)).toEqual(per(2));
    expect(await hostTrees()).toEqual(hostsBefore);
    expect(await controlTree()).toEqual(controlBefore);

    const first = await run();
    expect(first.rc, first.stdout + first.stderr).toBe(0);
    expect(changedPerHost(first.stdout)).toEqual(per(2));
    for (const h of lab.hosts) {
      expect(await readFile(join(h.workDir, 'made'), 'utf8')).toBe('two words\n');
      const fetched = join(dir, 'fetched', h.name, h.workDir, 'app.conf');
      expect(await readFile(fetched, 'utf8')).toBe('port=8443\n');
    }
    expect(await scriptDirs()).toEqual(tmpBefore);

    const second = await run();
    expect(second.rc, second.stdout + second.stderr).toBe(0);
    expect(changedPerHost(second.stdout)).toEqual(per(0));
    expect(existsSync(join(dir, 'fetched'))).toBe(true);
  });
});
