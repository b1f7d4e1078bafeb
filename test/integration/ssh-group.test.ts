// The group module over SSH, through the CLI, with the host's real groupadd/groupmod/groupdel. The lab's
// sshd hosts are this machine, logged in as the user running the tests: real groups can only be made as
// root, and only under a name of this run's own (ewsplay-t-<random>), removed in afterAll even when a test
// failed. Not root (a developer's machine): skipped, as stated in the test name. CI runs as root.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SshdLab, startSshdLab } from '../../src/lab/sshd.js';
import { changedPerHost, runOnLab } from './cli.js';

const isRoot = process.getuid?.() === 0;
const name = `ewsplay-t-${randomBytes(4).toString('hex')}`;

/** The group's line as getent prints it, or undefined. */
function getent(group: string): string | undefined {
  const r = spawnSync('getent', ['group', group], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** A gid no group has, from the top of the range useradd leaves alone. */
function freeGid(): number {
  for (let gid = 59_000; gid < 60_000; gid++)
    if (spawnSync('getent', ['group', String(gid)]).status !== 0) return gid;
  throw new Error('no free gid in 59000-59999');
}

let lab: SshdLab;
let dir: string;

describe.skipIf(!isRoot)(
  'group over SSH with the real groupadd (skipped unless root: it adds a real group)',
  () => {
    beforeAll(async () => {
      lab = await startSshdLab(1);
      dir = await mkdtemp(join(tmpdir(), 'ewsplay-group-'));
    });

    afterAll(async () => {
      if (getent(name) !== undefined) execFileSync('groupdel', [name]);
      await lab?.stop();
    });

    const play = (task: string) => `- hosts: all
  gather_facts: false
  tasks:
    - name: the test group
      group: ${task}
`;
    const run = async (file: string, body: string, ...extra: string[]) => {
      await writeFile(join(dir, file), body);
      const r = await runOnLab(dir, lab, file, ...extra);
      expect(r.rc, r.stdout + r.stderr).toBe(0);
      return changedPerHost(r.stdout)[lab.hosts[0]!.name];
    };

    it('check mode adds nothing; the first run adds the group, the second changes nothing', async () => {
      const gid = freeGid();
      const present = play(`{ name: ${name}, gid: ${gid}, system: true }`);
      expect(await run('present.yml', present, '--check')).toBe(1);
      expect(getent(name)).toBeUndefined();
      expect(await run('present.yml', present)).toBe(1);
      expect(getent(name)).toBe(`${name}:x:${gid}:`);
      expect(await run('present.yml', present)).toBe(0);

      const other = freeGid();
      const moved = play(`name=${name} gid=${other}`);
      expect(await run('moved.yml', moved, '--check')).toBe(1);
      expect(getent(name)).toBe(`${name}:x:${gid}:`);
      expect(await run('moved.yml', moved)).toBe(1);
      expect(getent(name)).toBe(`${name}:x:${other}:`);
      expect(await run('moved.yml', moved)).toBe(0);

      const absent = play(`{ name: ${name}, state: absent }`);
      expect(await run('absent.yml', absent, '--check')).toBe(1);
      expect(getent(name)).toBeDefined();
      expect(await run('absent.yml', absent)).toBe(1);
      expect(getent(name)).toBeUndefined();
      expect(await run('absent.yml', absent)).toBe(0);
    });
  },
);
