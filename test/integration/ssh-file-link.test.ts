// The file module's state: link over SSH on real sshd hosts, through the CLI: check mode predicts and
// changes nothing, the first run changes each host, the second run changes none.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SshdLab, startSshdLab } from '../../src/lab/sshd.js';
import { snapshotTree } from '../unit/modules/context.js';

const BIN = resolve(import.meta.dirname, '../../bin/ewsplay.js');
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

function ewsplay(args: string[]): Promise<{ rc: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { cwd: dir, timeout: 60_000 }, (err, stdout, stderr) =>
      done({ rc: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** changed=N of each host's recap line. */
function changedPerHost(stdout: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of stdout.matchAll(/^(\S+)\s+:\s+ok=\d+\s+changed=(\d+)\s+unreachable=0\s+failed=0/gm))
    out[m[1]!] = Number(m[2]);
  return out;
}

describe('file state=link over SSH', () => {
  it('check mode changes nothing; the first run links every host; the second run changes nothing', async () => {
    const run = (...extra: string[]) =>
      ewsplay(['run', 'link.yml', '-i', lab.inventoryFile, '--known-hosts', lab.knownHostsFile, ...extra]);
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
