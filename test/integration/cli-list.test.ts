// --list-tasks, --list-tags and --syntax-check print what ansible-playbook prints for the same playbook
// (compared with the real ansible-playbook when it is installed; the expected text is also written here).
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = resolve(import.meta.dirname, '../../bin/ewsplay.js');
const dir = resolve(import.meta.dirname, '../fixtures/list');
const haveAnsible = spawnSync('ansible-playbook', ['--version'], { timeout: 30_000 }).status === 0;

function ewsplay(...args: string[]): string {
  const r = spawnSync(process.execPath, [BIN, 'run', 'site.yml', '-i', 'hosts', ...args], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

function ansible(...args: string[]): string {
  const r = spawnSync('ansible-playbook', ['site.yml', '-i', 'hosts', ...args], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, ANSIBLE_NOCOLOR: '1', ANSIBLE_CONFIG: join(dir, 'none.cfg') },
  });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

const TASKS = `
playbook: site.yml

  play #1 (web): web tier\tTAGS: [base]
    tasks:
      before\tTAGS: [base]
      configure\tTAGS: [base, config, x]
      inside a block\tTAGS: [base, blocked, three]
      meta\tTAGS: [base]
      after\tTAGS: [base]

  play #2 (db): db\tTAGS: []
    tasks:
      debug\tTAGS: []
`;

describe('listing like ansible-playbook', () => {
  it('--list-tasks: tasks with their inherited tags, implicit handler flushes left out', () => {
    expect(ewsplay('--list-tasks')).toBe(TASKS);
  });

  it('--list-tags: each play and the tags of its tasks', () => {
    expect(ewsplay('--list-tags')).toBe(`
playbook: site.yml

  play #1 (web): web tier\tTAGS: [base]
      TASK TAGS: [base, blocked, config, three, x]

  play #2 (db): db\tTAGS: []
      TASK TAGS: []
`);
  });

  it.skipIf(!haveAnsible)(
    `ansible-playbook prints the same${haveAnsible ? '' : ' (skipped: ansible-playbook is not installed; apt-get install ansible-core)'}`,
    () => {
      expect(ansible('--list-tasks')).toBe(ewsplay('--list-tasks'));
      expect(ansible('--list-tags')).toBe(ewsplay('--list-tags'));
    },
  );
});
