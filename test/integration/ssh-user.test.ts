// The user module over SSH, through the CLI, with the host's real useradd/usermod/userdel/chpasswd. The
// lab's sshd hosts are this machine, logged in as the user running the tests: real accounts can only be made
// as root, and only under names of this run's own (ewsplay-t-<random>), removed in afterAll even when a test
// failed. Not root (a developer's machine): skipped, as stated in the test name. CI runs as root.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SshdLab, startSshdLab } from '../../src/lab/sshd.js';
import { changedPerHost, runOnLab } from './cli.js';

const isRoot = process.getuid?.() === 0;
const prefix = `ewsplay-t-${randomBytes(4).toString('hex')}`;
const user = `${prefix}-u`;
const groupA = `${prefix}-a`;
const groupB = `${prefix}-b`;
// A sha512-crypt hash of nothing anyone knows; chpasswd -e stores it as given.
const HASH = `$6$ewsplaytest$${'Q'.repeat(86)}`;

const getent = (db: string, key: string): string | undefined => {
  const r = spawnSync('getent', [db, key], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
};

let lab: SshdLab;
let dir: string;

describe.skipIf(!isRoot)(
  'user over SSH with the real useradd (skipped unless root: it adds a real account)',
  () => {
    beforeAll(async () => {
      lab = await startSshdLab(1);
      dir = await mkdtemp(join(tmpdir(), 'ewsplay-user-'));
    });

    afterAll(async () => {
      if (getent('passwd', user) !== undefined) spawnSync('userdel', ['-f', '-r', user]);
      for (const g of [groupA, groupB]) if (getent('group', g) !== undefined) execFileSync('groupdel', [g]);
      await lab?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    const run = async (file: string, body: string, ...extra: string[]) => {
      await writeFile(join(dir, file), body);
      const r = await runOnLab(dir, lab, file, '-v', '--diff', ...extra);
      expect(r.rc, r.stdout + r.stderr).toBe(0);
      // The password is never shown, whatever the verbosity.
      expect(r.stdout + r.stderr).not.toContain(HASH);
      return { changed: changedPerHost(r.stdout)[lab.hosts[0]!.name], stdout: r.stdout };
    };
    const play = (tasks: string) => `- hosts: all
  gather_facts: false
  vars:
    user_hash: "${HASH}"
  tasks:
${tasks}`;

    it('check mode adds nothing; the first run adds the account, the second changes nothing; then changes and removal', async () => {
      const home = join(dir, 'homes', user);
      const groups = play(`    - group: { name: ${groupA} }
    - group: { name: ${groupB} }
`);
      expect((await run('groups.yml', groups)).changed).toBe(2);

      const present = play(`    - name: the account
      user:
        name: ${user}
        group: ${groupA}
        groups: ${groupB}
        shell: /bin/sh
        comment: ewsplay test
        home: ${home}
        password: "{{ user_hash }}"
      register: account
    - when: not ansible_check_mode
      debug:
        msg: "uid={{ account.uid }} home={{ account.home }} password={{ account.password }}"
`);
      expect((await run('present.yml', present, '--check')).changed).toBe(1);
      expect(getent('passwd', user)).toBeUndefined();

      const first = await run('present.yml', present);
      expect(first.changed).toBe(1);
      const entry = getent('passwd', user)!.split(':');
      const gidA = Number(getent('group', groupA)!.split(':')[2]);
      expect(entry.slice(3)).toEqual([String(gidA), 'ewsplay test', home, '/bin/sh']);
      expect(first.stdout).toContain(`uid=${entry[2]} home=${home} password=NOT_LOGGING_PASSWORD`);
      expect(getent('shadow', user)!.split(':')[1]).toBe(HASH);
      expect(execFileSync('id', ['-Gn', user]).toString().trim().split(' ').sort()).toEqual(
        [groupA, groupB].sort(),
      );
      const st = await stat(home);
      expect([st.isDirectory(), st.uid, st.gid]).toEqual([true, Number(entry[2]), gidA]);

      expect((await run('present.yml', present)).changed).toBe(0);

      // No supplementary groups, another shell; the password (on_create) is left as it is.
      const changed =
        play(`    - user: { name: ${user}, groups: [], shell: /bin/bash, password: "$6$x$y", update_password: on_create }
`);
      expect((await run('changed.yml', changed, '--check')).changed).toBe(1);
      expect(execFileSync('id', ['-Gn', user]).toString().trim().split(' ').sort()).toEqual(
        [groupA, groupB].sort(),
      );
      expect((await run('changed.yml', changed)).changed).toBe(1);
      expect(execFileSync('id', ['-Gn', user]).toString().trim()).toBe(groupA);
      expect(getent('passwd', user)!.split(':')[6]).toBe('/bin/bash');
      expect(getent('shadow', user)!.split(':')[1]).toBe(HASH);
      expect((await run('changed.yml', changed)).changed).toBe(0);

      const absent = play(`    - user: name=${user} state=absent remove=true
`);
      expect((await run('absent.yml', absent, '--check')).changed).toBe(1);
      expect(getent('passwd', user)).toBeDefined();
      expect((await run('absent.yml', absent)).changed).toBe(1);
      expect(getent('passwd', user)).toBeUndefined();
      await expect(stat(home)).rejects.toThrow();
      expect((await run('absent.yml', absent)).changed).toBe(0);
    });
  },
);
