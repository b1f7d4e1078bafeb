// Ansible's FQCN forms of the include and import actions (ansible.builtin.* and ansible.legacy.*) load
// exactly as the short forms do (issue 15, item 6).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPlaybook, loadPlaybookDetailed } from '../../../src/load/playbook.js';
import { Scratch } from '../engine/harness.js';

const haveAnsible = spawnSync('ansible-playbook', ['--version'], { timeout: 60_000 }).status === 0;

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ewsplay-fqcn-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

/** The loaded playbook without positions (the FQCN form sits at other columns). */
function shape(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (k, v) => (k === 'pos' || k === 'argsPos' || k === 'hostsPos' ? undefined : v)),
  );
}

function site(prefix: string): string {
  return [
    `- ${prefix}import_playbook: other.yml`,
    '- hosts: all',
    '  tasks:',
    `    - ${prefix}import_tasks: steps.yml`,
    `    - ${prefix}include_tasks: steps.yml`,
    `    - name: looped`,
    `      ${prefix}include_tasks: { file: "{{ item }}.yml" }`,
    '      loop: [steps]',
    `    - ${prefix}include_role: { name: web }`,
    `    - ${prefix}import_role: { name: web, tasks_from: more }`,
    `    - ${prefix}include_vars: { file: vars.yml }`,
  ].join('\n');
}

const FILES = {
  'other.yml': '- hosts: all\n  tasks: [{ debug: { msg: other } }]\n',
  'steps.yml': '- name: step\n  debug: { msg: step }\n',
  'vars.yml': 'x: 1\n',
  'roles/web/tasks/main.yml': '- name: web\n  debug: { msg: web }\n',
  'roles/web/tasks/more.yml': '- name: more\n  debug: { msg: more }\n',
};

describe('FQCN forms of include and import actions', () => {
  for (const prefix of ['ansible.builtin.', 'ansible.legacy.'])
    it(`${prefix}include_tasks, import_tasks, import_playbook, include_role, import_role, include_vars`, async () => {
      const dir = project({ ...FILES, 'short.yml': site(''), 'long.yml': site(prefix) });
      const short = await loadPlaybook(join(dir, 'short.yml'));
      const long = await loadPlaybook(join(dir, 'long.yml'));
      expect(shape(long.plays)).toEqual(shape(short.plays));
      // The includes really loaded: import_tasks is a block of the file's tasks, include_tasks an include.
      const kinds = long.plays[1]!.tasks.map((n) => n.kind);
      expect(kinds).toEqual(['block', 'include', 'include', 'include', 'block', 'task']);
    });

  it('keeps the short name in messages and refuses what the short form refuses', async () => {
    const dir = project({
      'p.yml': [
        '- hosts: all',
        '  tasks:',
        '    - ansible.builtin.import_tasks: "{{ x }}.yml"',
        '    - ansible.builtin.include_tasks: missing.yml',
        '    - ansible.builtin.import_tasks: steps.yml',
        '      loop: [1]',
      ].join('\n'),
      'steps.yml': '- debug: { msg: step }\n',
    });
    const { problems } = await loadPlaybookDetailed(join(dir, 'p.yml'));
    expect(problems.map((p) => `${p.line}: ${p.message}`)).toEqual([
      '3: import_tasks needs a fixed file name',
      "4: task file 'missing.yml' not found",
      "6: 'loop' is not allowed on import_tasks",
    ]);
  });

  it('still names a collection module ewsplay does not have', async () => {
    const dir = project({ 'p.yml': '- hosts: all\n  tasks:\n    - ansible.builtin.include: x.yml\n' });
    const { problems } = await loadPlaybookDetailed(join(dir, 'p.yml'));
    expect(problems.map((p) => p.message)).toEqual(["unknown module 'ansible.builtin.include'"]);
  });

  it.skipIf(!haveAnsible)(
    `runs as ansible-playbook runs it${haveAnsible ? '' : ' (skipped: ansible-playbook is not installed; apt-get install ansible-core)'}`,
    async () => {
      const s = new Scratch(['a']);
      const log = join(s.dir, 'steps.log');
      s.write(
        'playbooks/first.yml',
        `- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.shell: echo first >> ${log}\n`,
      );
      s.write(
        'playbooks/steps.yml',
        `- ansible.builtin.shell: echo "step {{ item | default('-') }}" >> ${log}\n`,
      );
      const playbook = [
        '- ansible.builtin.import_playbook: first.yml',
        '- hosts: all',
        '  gather_facts: false',
        '  tasks:',
        '    - ansible.builtin.import_tasks: steps.yml',
        '    - ansible.legacy.include_tasks: steps.yml',
        '      loop: [x, y]',
        '    - ansible.builtin.include_vars: { file: vars.yml }',
        `    - ansible.builtin.shell: echo "{{ from_vars }}" >> ${log}`,
      ].join('\n');
      s.write('playbooks/vars.yml', 'from_vars: loaded\n');
      const { report } = await s.run(playbook);
      expect(report.exitCode ?? 0).toBe(0);
      const ours = readFileSync(log, 'utf8');
      expect(ours).toBe('first\nstep -\nstep x\nstep y\nloaded\n');
      rmSync(log);
      const r = spawnSync('ansible-playbook', ['playbooks/test.yml', '-i', 'hosts.yml'], {
        cwd: s.dir,
        encoding: 'utf8',
        timeout: 240_000,
        env: { ...process.env, ANSIBLE_NOCOLOR: '1', ANSIBLE_CONFIG: join(s.dir, 'none.cfg') },
      });
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(readFileSync(log, 'utf8')).toBe(ours);
    },
    300_000,
  );
});
