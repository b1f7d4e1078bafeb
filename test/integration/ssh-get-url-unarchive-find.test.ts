// get_url, unarchive and find over SSH on real sshd hosts, through the CLI: the hosts download from an HTTP
// server on 127.0.0.1 started here, unpack a tar.gz built here (sent from the control node), and find what
// was unpacked. Check mode changes nothing, the first run changes each host, the second run changes none.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SshdLab, startSshdLab } from '../../src/lab/sshd.js';
import { snapshotTree } from '../unit/modules/context.js';
import { startServer, type TestServer } from '../unit/modules/http-server.js';
import { changedPerHost, runOnLab } from './cli.js';

const PLAYBOOK = `- hosts: all
  gather_facts: false
  tasks:
    - name: download the release notes
      get_url: { url: "{{ release_url }}", dest: "{{ lab_dir }}/RELEASE.txt", mode: "0640" }
    - name: unpack the app
      unarchive: { src: app.tar.gz, dest: "{{ lab_dir }}/app" }
    - name: find its configs
      find: { paths: "{{ lab_dir }}/app", patterns: "*.conf", recurse: true }
      register: confs
    - name: both configs are there
      assert:
        that:
          - confs.matched == 2
          - confs.files | map(attribute='path') | map('basename') | sort | list == ['db.conf', 'web.conf']
      when: not ansible_check_mode
`;

let lab: SshdLab;
let dir: string;
let server: TestServer;

beforeAll(async () => {
  lab = await startSshdLab(2);
  server = await startServer({
    '/RELEASE.txt': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('release 1.2\n');
    },
  });
  dir = await mkdtemp(join(tmpdir(), 'ewsplay-get-url-'));
  await writeFile(join(dir, 'site.yml'), PLAYBOOK);
  const src = join(dir, 'build');
  await mkdir(join(src, 'app/conf'), { recursive: true });
  await writeFile(join(src, 'app/conf/web.conf'), 'listen 8080\n');
  await writeFile(join(src, 'app/conf/db.conf'), 'host db\n');
  await writeFile(join(src, 'app/run.sh'), '#!/bin/sh\n');
  execFileSync('tar', ['-czf', join(dir, 'app.tar.gz'), '-C', src, 'app']);
  for (const h of lab.hosts) await mkdir(join(h.workDir, 'app'));
});

afterAll(async () => {
  await server?.close();
  await lab?.stop();
});

describe('get_url, unarchive and find over SSH', () => {
  it('check mode changes nothing; the first run downloads and unpacks; the second run changes nothing', async () => {
    const run = (...extra: string[]) =>
      runOnLab(dir, lab, 'site.yml', '-e', `release_url=${server.base}/RELEASE.txt`, ...extra);
    const names = lab.hosts.map((h) => h.name);
    const before = await Promise.all(lab.hosts.map((h) => snapshotTree(h.workDir)));

    const check = await run('--check');
    expect(check.rc, check.stdout + check.stderr).toBe(0);
    expect(changedPerHost(check.stdout)).toEqual(Object.fromEntries(names.map((n) => [n, 2])));
    expect(await Promise.all(lab.hosts.map((h) => snapshotTree(h.workDir)))).toEqual(before);
    expect(server.requests).toHaveLength(0);

    const first = await run();
    expect(first.rc, first.stdout + first.stderr).toBe(0);
    expect(changedPerHost(first.stdout)).toEqual(Object.fromEntries(names.map((n) => [n, 2])));
    for (const h of lab.hosts) {
      expect(await readFile(join(h.workDir, 'RELEASE.txt'), 'utf8')).toBe('release 1.2\n');
      expect(await readFile(join(h.workDir, 'app/app/conf/web.conf'), 'utf8')).toBe('listen 8080\n');
    }
    expect(server.requests).toHaveLength(2);

    const second = await run();
    expect(second.rc, second.stdout + second.stderr).toBe(0);
    expect(changedPerHost(second.stdout)).toEqual(Object.fromEntries(names.map((n) => [n, 0])));
    // dest exists and force is false: not downloaded again.
    expect(server.requests).toHaveLength(2);
  });
});
