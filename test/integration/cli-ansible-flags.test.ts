// ansible-playbook's flags as an Ansible user types them (issue 15), through the built bin on local
// hosts: --version, a --limit typo, --step answered on stdin, --become-method, -c, validate -e, and the
// run's total line and report paths without -v.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VERSION } from '../../src/core/version.js';

const BIN = resolve(import.meta.dirname, '../../bin/ewsplay.js');
const dir = mkdtempSync(join(tmpdir(), 'ewsplay-ansible-flags-'));
const hosts = ['web1', 'web2', 'db1'];
for (const h of hosts) mkdirSync(join(dir, 'roots', h), { recursive: true });
writeFileSync(
  join(dir, 'hosts.yml'),
  `all:
  children:
    web:
      hosts:
${hosts
  .slice(0, 2)
  .map((h) => `        ${h}: { ansible_connection: local, ewsplay_local_root: ${join(dir, 'roots', h)} }`)
  .join('\n')}
    db:
      hosts:
        db1: { ansible_connection: local, ewsplay_local_root: ${join(dir, 'roots', 'db1')} }
`,
);
writeFileSync(
  join(dir, 'play.yml'),
  `- hosts: all
  gather_facts: false
  vars_files:
    - "vars/{{ env | default('none') }}.yml"
  tasks:
    - name: first
      command: echo first
    - block:
        - name: breaks
          command: sh -c 'echo went-wrong >&2; exit 3'
      rescue:
        - name: mends
          debug: { msg: mended }
    - name: last
      command: echo last
`,
);
mkdirSync(join(dir, 'vars'));
writeFileSync(join(dir, 'vars', 'prod.yml'), 'x: 1\n');

function ewsplay(args: string[], input?: string): Promise<{ rc: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.stdin.end(input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ rc: code ?? 1, stdout, stderr });
    });
  });
}

describe('ansible-playbook flags', () => {
  it('--version says what runs, with which config file and Node, as ansible-playbook does', async () => {
    const r = await ewsplay(['--version']);
    expect(r.rc, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^ewsplay ${VERSION.replace(/\./g, '\\.')} `));
    expect(lines[1]).toBe('  config file = None');
    expect(lines[2]).toMatch(/^ {2}modules = \d{2,} \(built in\)$/);
    expect(lines[3]).toMatch(/^ {2}executable location = .*bin\/ewsplay\.js$/);
    expect(lines[4]).toBe(`  node version = ${process.version} (${process.execPath})`);
  });

  it('an unknown option: one line with the fix, exit 2, no stack', async () => {
    const r = await ewsplay(['run', 'play.yml', '-i', 'hosts.yml', '--chek']);
    expect(r.rc).toBe(2);
    expect(r.stderr).toBe("error: unknown option '--chek' (did you mean --check?)\n");
  });

  it('-l webz: exit 2, the pattern named, the close group suggested; nothing run', async () => {
    const r = await ewsplay(['run', 'play.yml', '-i', 'hosts.yml', '-l', 'webz']);
    expect(r.rc).toBe(2);
    expect(r.stderr).toMatch(/^error: --limit 'webz' matches no host of the inventory/);
    expect(r.stderr).toContain("did you mean 'web'?");
    expect(r.stdout).toBe('');
  });

  it('--become-method other than sudo and an unknown -c are usage errors (exit 2)', async () => {
    const su = await ewsplay(['run', 'play.yml', '-i', 'hosts.yml', '--become-method', 'su']);
    expect(su.rc).toBe(2);
    expect(su.stderr).toMatch(/^error: --become-method su: ewsplay becomes with sudo only/);
    const c = await ewsplay(['run', 'play.yml', '-i', 'hosts.yml', '-c', 'locla']);
    expect(c.rc).toBe(2);
    expect(c.stderr).toContain("did you mean 'local'?");
  });

  it('--step runs what is answered y, leaves out what is answered n, and c runs the rest', async () => {
    const r = await ewsplay(
      ['run', 'play.yml', '-i', 'hosts.yml', '-e', 'env=prod', '-l', 'web1', '--step'],
      'n\nc\n',
    );
    expect(r.rc, r.stderr).toBe(0);
    expect(r.stdout).toContain('Perform task: TASK: first (N)o/(y)es/(c)ontinue: ');
    expect(r.stdout).not.toMatch(/TASK \[first\]/);
    expect(r.stdout).toMatch(/TASK \[breaks\]/);
    expect(r.stdout).toMatch(/TASK \[last\]/);
    expect(r.stdout.match(/Perform task/g)).toHaveLength(2);
  });

  it('prints the total line and the report paths without -v; JUnit has no failure for a rescued task', async () => {
    const r = await ewsplay([
      'run',
      'play.yml',
      '-i',
      'hosts.yml',
      '-e',
      'env=prod',
      '-o',
      'plain',
      '--junit',
      'j.xml',
    ]);
    expect(r.rc, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /\nhosts: 3 ok · tasks: 9 ok, 6 changed, 3 rescued · \d+\.\d s\nreport: \S+\.json\njunit: j\.xml\n$/,
    );
    const xml = readFileSync(join(dir, 'j.xml'), 'utf8');
    expect(xml).toContain('failures="0"');
    expect(xml).toContain('rescued: non-zero return code');
    expect(xml).toContain('went-wrong');
  });

  it('validate -e: checked, and names templated vars_files', async () => {
    const ok = await ewsplay(['validate', 'play.yml', '-i', 'hosts.yml', '-e', 'env=prod']);
    expect(ok.rc, ok.stderr).toBe(0);
    const missing = await ewsplay(['validate', 'play.yml', '-e', 'env=stage']);
    expect(missing.rc).toBe(2);
    expect(missing.stderr).toContain("is 'vars/stage.yml' with these variables: not found");
    const bad = await ewsplay(['validate', 'play.yml', '-e', '{broken']);
    expect(bad.rc).toBe(2);
  });
});
