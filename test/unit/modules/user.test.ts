import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  looksUnhashed,
  parseIdGroups,
  parsePasswdEntry,
  parseUserProbe,
  planUser,
  type UserProbe,
  type UserWant,
  userModule,
  userProbeScript,
} from '../../../src/modules/user.js';
import { argsValidator, makeContext, makeTempDir } from './context.js';

// A sha512-crypt hash as `mkpasswd -m sha-512` prints it ($6$salt$86 characters).
const HASH = `$6$saltsalt$${'a'.repeat(86)}`;
const OTHER = `$6$saltsalt$${'b'.repeat(86)}`;

const want = (w: Partial<UserWant> = {}): UserWant => ({
  name: 'alice',
  state: 'present',
  nonUnique: false,
  append: false,
  createHome: true,
  moveHome: false,
  system: false,
  updatePassword: 'always',
  remove: false,
  force: false,
  ...w,
});
const g = (name: string, gid: number) => ({ name, gid, members: [] });
const GROUPS = new Map([
  ['alice', g('alice', 1001)],
  ['staff', g('staff', 50)],
  ['sudo', g('sudo', 27)],
  ['docker', g('docker', 999)],
  ['999', g('docker', 999)],
]);
const alice = {
  name: 'alice',
  uid: 1001,
  gid: 1001,
  comment: 'Alice',
  home: '/home/alice',
  shell: '/bin/bash',
};
const tools = new Set(['useradd', 'usermod', 'userdel', 'chpasswd']);
const probe = (p: Partial<UserProbe> = {}): UserProbe => ({
  memberOf: [],
  groups: GROUPS,
  selfGroup: false,
  tools,
  ...p,
});
/** alice as `id -G alice` / `id -Gn alice` list her: her own group first, then sudo. */
const existing = (p: Partial<UserProbe> = {}) =>
  probe({
    user: alice,
    memberOf: parseIdGroups('1001 27', 'alice sudo'),
    homeExists: true,
    shadowHash: HASH,
    ...p,
  });

describe('user: parsing getent passwd and id output', () => {
  it('reads a passwd(5) line', () => {
    expect(parsePasswdEntry('alice:x:1001:1001:Alice Liddell,,,:/home/alice:/bin/bash\n')).toEqual({
      name: 'alice',
      uid: 1001,
      gid: 1001,
      comment: 'Alice Liddell,,,',
      home: '/home/alice',
      shell: '/bin/bash',
    });
    expect(parsePasswdEntry('svc:x:998:998::/nonexistent:')).toMatchObject({ comment: '', shell: '' });
    expect(parsePasswdEntry('')).toBeUndefined();
    expect(parsePasswdEntry('short:x:1:1')).toBeUndefined();
  });

  it('pairs id -G with id -Gn; a gid without a name stands for itself', () => {
    expect(parseIdGroups('1001 27 999\n', 'alice sudo docker\n')).toEqual([
      { gid: 1001, name: 'alice' },
      { gid: 27, name: 'sudo' },
      { gid: 999, name: 'docker' },
    ]);
    // id -Gn prints the number for a gid it cannot name (and complains on stderr): counts still agree.
    expect(parseIdGroups('1001 4242', 'alice 4242')).toEqual([
      { gid: 1001, name: 'alice' },
      { gid: 4242, name: '4242' },
    ]);
    expect(parseIdGroups('', '')).toEqual([]);
  });

  it('a probe reads the account, its groups, the groups the task names and the tools', () => {
    const w = want({ group: 'staff', groups: ['docker', 'nope'], password: HASH });
    const out = [
      'passwd=alice:x:1001:1001:Alice:/home/alice:/bin/bash',
      'gids=1001 27',
      'gnames=alice sudo',
      `shadow=!${HASH}`,
      'home=1',
      'g0=staff:x:50:',
      'g1=docker:x:999:bob',
      'self=alice:x:1001:',
      'tool=useradd',
      'tool=chpasswd',
    ].join('\n');
    expect(parseUserProbe(out, w)).toEqual({
      user: alice,
      memberOf: [
        { gid: 1001, name: 'alice' },
        { gid: 27, name: 'sudo' },
      ],
      shadowHash: `!${HASH}`,
      homeExists: true,
      groups: new Map([
        ['staff', g('staff', 50)],
        ['docker', { name: 'docker', gid: 999, members: ['bob'] }],
        ['nope', undefined],
      ]),
      selfGroup: true,
      tools: new Set(['useradd', 'chpasswd']),
    });
  });

  it('the probe reads the shadow hash only when a password is to be compared', () => {
    expect(userProbeScript(want({ password: HASH }))).toContain('getent shadow');
    expect(userProbeScript(want({ password: HASH, updatePassword: 'on_create' }))).not.toContain('shadow');
    expect(userProbeScript(want())).not.toContain('shadow');
  });
});

describe('user: planning a new account', () => {
  it('useradd gets every argument given, -m by default', () => {
    const plan = planUser(
      probe(),
      want({
        uid: 1500,
        group: 'staff',
        groups: ['sudo', 'docker'],
        comment: 'Alice Liddell',
        home: '/srv/home/alice',
        shell: '/bin/zsh',
        system: true,
      }),
    );
    expect(plan).toEqual({
      changed: true,
      msg: 'user alice added',
      script: [
        "mkdir -p '/srv/home' || exit 1",
        "useradd -u 1500 -g 'staff' -G 'sudo,docker' -c 'Alice Liddell' -d '/srv/home/alice' -s '/bin/zsh' -m -r 'alice' </dev/null || exit $?",
      ].join('\n'),
    });
  });

  it('create_home false is -M; a group named as the user already there is -N (as Ansible passes it)', () => {
    expect(planUser(probe({ selfGroup: true }), want({ createHome: false })).script).toBe(
      "useradd -N -M 'alice' </dev/null || exit $?",
    );
  });

  it('the password goes to chpasswd -e on stdin, never into the script (argv)', () => {
    const plan = planUser(probe(), want({ password: HASH }));
    expect(plan.script).toBe("useradd -m 'alice' </dev/null || exit $?\nchpasswd -e || exit $?");
    expect(plan.stdin).toBe(`alice:${HASH}\n`);
    expect(plan.msg).not.toContain(HASH);
  });

  it('a group that does not exist fails before anything runs, as in Ansible', () => {
    expect(planUser(probe(), want({ group: 'nope' }))).toMatchObject({ error: 'Group nope does not exist' });
    expect(planUser(probe(), want({ groups: ['sudo', 'nope'] }))).toMatchObject({
      error: 'Group nope does not exist',
    });
  });

  it('says what to install when useradd or chpasswd is missing', () => {
    expect(planUser(probe({ tools: new Set() }), want()).error).toMatch(/^useradd not found on the host/);
    expect(planUser(probe({ tools: new Set(['useradd']) }), want({ password: HASH })).error).toMatch(
      /^chpasswd not found/,
    );
  });
});

describe('user: planning changes to an existing account', () => {
  it('nothing differs: nothing runs', () => {
    const same = want({
      uid: 1001,
      group: 'alice',
      groups: ['sudo'],
      comment: 'Alice',
      home: '/home/alice',
      shell: '/bin/bash',
      password: HASH,
      system: true,
    });
    expect(planUser(existing(), same)).toEqual({ changed: false, msg: 'user alice is as wanted' });
  });

  it('each difference is one usermod option', () => {
    const plan = planUser(
      existing(),
      want({
        uid: 1600,
        group: 'staff',
        comment: 'A. L.',
        home: '/srv/alice',
        shell: '/bin/sh',
        moveHome: true,
      }),
    );
    expect(plan.script).toBe(
      "usermod -u 1600 -g 50 -c 'A. L.' -d '/srv/alice' -m -s '/bin/sh' 'alice' </dev/null || exit $?",
    );
    expect(plan.msg).toBe(
      'user alice: uid 1001 -> 1600, group 1001 -> 50, comment, home /home/alice -> /srv/alice, shell /bin/bash -> /bin/sh',
    );
  });

  it('groups: the list replaces the others; append only adds; the primary group never counts', () => {
    expect(planUser(existing(), want({ groups: ['docker'] })).script).toBe(
      "usermod -G 'docker' 'alice' </dev/null || exit $?",
    );
    expect(planUser(existing(), want({ groups: ['docker'], append: true })).script).toBe(
      "usermod -a -G 'docker' 'alice' </dev/null || exit $?",
    );
    // Already in sudo: appending it changes nothing; naming the primary group changes nothing either.
    expect(planUser(existing(), want({ groups: ['sudo'], append: true })).changed).toBe(false);
    expect(planUser(existing(), want({ groups: ['alice', 'sudo'] })).changed).toBe(false);
    // A gid names the same group as its name.
    expect(
      planUser(existing({ memberOf: parseIdGroups('1001 999', 'alice docker') }), want({ groups: ['999'] }))
        .changed,
    ).toBe(false);
  });

  it('groups: [] takes the user out of every group but its primary one (unless append)', () => {
    expect(planUser(existing(), want({ groups: [] })).script).toBe(
      "usermod -G '' 'alice' </dev/null || exit $?",
    );
    expect(planUser(existing(), want({ groups: [], append: true })).changed).toBe(false);
    expect(
      planUser(existing({ memberOf: parseIdGroups('1001', 'alice') }), want({ groups: [] })).changed,
    ).toBe(false);
  });

  it('the password is set only when the hash differs (a lock ! aside) and update_password is always', () => {
    const other = planUser(existing(), want({ password: OTHER }));
    expect(other).toMatchObject({ changed: true, msg: 'user alice: password', stdin: `alice:${OTHER}\n` });
    expect(other.script).toBe('chpasswd -e || exit $?');
    expect(other.script).not.toContain(OTHER);
    expect(planUser(existing({ shadowHash: `!${HASH}` }), want({ password: HASH })).changed).toBe(false);
    expect(planUser(existing(), want({ password: OTHER, updatePassword: 'on_create' })).changed).toBe(false);
  });

  it('a missing home is made when create_home holds (a change, as in Ansible), never with create_home false', () => {
    const plan = planUser(existing({ homeExists: false }), want());
    expect(plan).toMatchObject({ changed: true, msg: 'user alice: home /home/alice created' });
    expect(plan.script).toContain("h='/home/alice'");
    expect(planUser(existing({ homeExists: false }), want({ createHome: false })).changed).toBe(false);
  });
});

describe('user: planning removal', () => {
  it('userdel with -f and -r as asked; an absent user is left alone', () => {
    expect(planUser(existing(), want({ state: 'absent' })).script).toBe("userdel 'alice'");
    expect(planUser(existing(), want({ state: 'absent', remove: true, force: true })).script).toBe(
      "userdel -f -r 'alice'",
    );
    expect(planUser(probe(), want({ state: 'absent', remove: true }))).toEqual({
      changed: false,
      msg: 'user alice is absent',
    });
  });
});

describe('user: password checks', () => {
  it('warns as Ansible does when the password does not look like a crypt hash', () => {
    expect(looksUnhashed(HASH)).toBe(false);
    expect(looksUnhashed('*')).toBe(false);
    expect(looksUnhashed('hunter2')).toBe(true);
    expect(looksUnhashed(`$6$salt$${'a'.repeat(20)}`)).toBe(true);
  });
});

describe('user: the home a missing home gets', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await makeTempDir());
  });
  afterEach(() => cleanup());

  it('is /etc/skel copied, with login.defs mode, owned by the user (run for real for this user)', () => {
    const me = userInfo();
    const home = join(dir, 'homes', me.username);
    const plan = planUser(
      existing({ user: { ...alice, name: me.username, home }, homeExists: false }),
      want({ name: me.username }),
    );
    execFileSync('sh', ['-c', plan.script!]);
    const st = statSync(home);
    expect(st.isDirectory()).toBe(true);
    expect(st.uid).toBe(me.uid);
    // useradd's rule: HOME_MODE, else 0777 & ~UMASK (this machine's login.defs), else 0755.
    const defs = execFileSync('sh', [
      '-c',
      'awk \'$1 == "HOME_MODE" || $1 == "UMASK"\' /etc/login.defs || true',
    ])
      .toString()
      .trim();
    const homeMode = /HOME_MODE\s+(\d+)/.exec(defs)?.[1];
    const umask = /UMASK\s+(\d+)/.exec(defs)?.[1];
    const mode = homeMode ? Number.parseInt(homeMode, 8) : umask ? 0o777 & ~Number.parseInt(umask, 8) : 0o755;
    expect(st.mode & 0o7777).toBe(mode);
    let skel: string[] = [];
    try {
      skel = readdirSync('/etc/skel').sort();
    } catch {
      // no /etc/skel: an empty home
    }
    expect(readdirSync(home).sort()).toEqual(skel);
  });
});

describe('user module on this host (read-only: check mode, or accounts as they are)', () => {
  it('root as it is: unchanged, registering what Ansible registers', async () => {
    const r = await userModule.run(makeContext(), { name: 'root', create_home: false });
    expect(r).toMatchObject({ changed: false, data: { name: 'root', state: 'present', uid: 0, group: 0 } });
  });

  it('check mode predicts a change of root and runs nothing; the password stays a secret', async () => {
    const ctx = makeContext({ check: true });
    const before = execFileSync('getent', ['passwd', 'root']).toString();
    const r = await userModule.run(ctx, { name: 'root', shell: '/bin/ewsplay-test-shell', password: HASH });
    expect(r.changed).toBe(true);
    expect(r.msg).toMatch(/^would be: user root: shell .* -> \/bin\/ewsplay-test-shell/);
    expect(JSON.stringify(r)).not.toContain(HASH);
    expect(r.data?.password).toBe('NOT_LOGGING_PASSWORD');
    expect(ctx.secrets.has(HASH)).toBe(true);
    expect(execFileSync('getent', ['passwd', 'root']).toString()).toBe(before);
  });

  it('check mode predicts a new account and makes none', async () => {
    const name = `ewsplay-none-${process.pid}`;
    const r = await userModule.run(makeContext({ check: true }), { name, groups: 'root' });
    expect(r).toMatchObject({ changed: true, msg: `would be: user ${name} added`, data: { groups: 'root' } });
    expect(() => execFileSync('getent', ['passwd', name])).toThrow();
  });

  it("refuses a password with a line break (it would reach chpasswd's stdin as another account's line)", async () => {
    const r = await userModule.run(makeContext({ check: true }), {
      name: 'root',
      password: `${HASH}\nbob:x`,
    });
    expect(r).toMatchObject({ failed: true, changed: false });
    expect(r.msg).toMatch(/password holds ':' or a line break/);
  });

  it('the schema takes groups as a list or a comma string and createhome as create_home', () => {
    const valid = argsValidator(userModule);
    expect(valid({ name: 'alice', groups: ['sudo', 999], append: true })).toBe(true);
    expect(valid({ name: 'alice', groups: 'sudo,docker', group: 'staff' })).toBe(true);
    expect(valid({ name: 'alice', update_password: 'sometimes' })).toBe(false);
    expect(userModule.aliases).toEqual({ createhome: 'create_home' });
  });
});
