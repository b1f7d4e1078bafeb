import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type GroupProbe,
  type GroupWant,
  groupModule,
  parseGroupEntry,
  parseGroupProbe,
  planGroup,
} from '../../../src/modules/group.js';
import { argsValidator, makeContext, makeTempDir } from './context.js';

const want = (w: Partial<GroupWant> = {}): GroupWant => ({
  name: 'docker',
  state: 'present',
  system: false,
  nonUnique: false,
  force: false,
  ...w,
});
const shadowTools = new Set(['groupadd', 'groupmod', 'groupdel']);
const busyboxTools = new Set(['addgroup', 'delgroup']);
const probe = (p: Partial<GroupProbe> = {}): GroupProbe => ({ tools: shadowTools, ...p });
const docker = { name: 'docker', gid: 999, members: ['alice'] };

describe('group: parsing getent group output', () => {
  it('reads name, gid and members as group(5) lays them out', () => {
    expect(parseGroupEntry('docker:x:999:alice,bob\n')).toEqual({
      name: 'docker',
      gid: 999,
      members: ['alice', 'bob'],
    });
    expect(parseGroupEntry('users:x:100:')).toEqual({ name: 'users', gid: 100, members: [] });
    expect(parseGroupEntry('')).toBeUndefined();
    expect(parseGroupEntry('broken:x:abc:')).toBeUndefined();
  });

  it('a probe keeps the group only when its name is the one asked for (getent takes a number as a gid)', () => {
    const out = 'group=adm:x:4:syslog\ngidowner=adm:x:4:syslog\ntool=groupadd\ntool=groupdel\n';
    expect(parseGroupProbe(out, '4')).toEqual({
      gidOwner: { name: 'adm', gid: 4, members: ['syslog'] },
      tools: new Set(['groupadd', 'groupdel']),
    });
    expect(parseGroupProbe(out, 'adm').group).toEqual({ name: 'adm', gid: 4, members: ['syslog'] });
  });
});

describe('group: planning', () => {
  it('creates a missing group with groupadd, with -g, -o and -r as asked', () => {
    expect(planGroup(probe(), want())).toMatchObject({ changed: true, script: "groupadd 'docker'" });
    expect(planGroup(probe(), want({ gid: 1750, system: true }))).toMatchObject({
      changed: true,
      script: "groupadd -g 1750 -r 'docker'",
    });
    expect(planGroup(probe(), want({ gid: 1750, nonUnique: true })).script).toBe(
      "groupadd -g 1750 -o 'docker'",
    );
  });

  it('falls back to BusyBox addgroup/delgroup when groupadd is missing', () => {
    const bb = probe({ tools: busyboxTools });
    expect(planGroup(bb, want({ gid: 1750, system: true })).script).toBe("addgroup -g 1750 -S 'docker'");
    expect(planGroup({ ...bb, group: docker }, want({ state: 'absent' })).script).toBe("delgroup 'docker'");
    expect(planGroup(bb, want({ gid: 1750, nonUnique: true })).error).toMatch(/not supported by BusyBox/);
  });

  it('an existing group changes only when its gid differs (system does not change an existing group)', () => {
    expect(planGroup(probe({ group: docker }), want({ system: true }))).toMatchObject({ changed: false });
    expect(planGroup(probe({ group: docker }), want({ gid: 999 }))).toMatchObject({ changed: false });
    expect(planGroup(probe({ group: docker }), want({ gid: 1750 }))).toMatchObject({
      changed: true,
      script: "groupmod -g 1750 'docker'",
      msg: 'group docker: gid 999 -> 1750',
    });
  });

  it('a gid another group holds fails before anything runs, unless non_unique', () => {
    const taken = probe({ gidOwner: { name: 'adm', gid: 4, members: [] } });
    expect(planGroup(taken, want({ gid: 4 }))).toMatchObject({
      changed: false,
      error: 'gid 4 is already used by group adm: choose another gid, or set non_unique: true',
    });
    expect(planGroup(taken, want({ gid: 4, nonUnique: true })).script).toBe("groupadd -g 4 -o 'docker'");
  });

  it('absent removes an existing group (groupdel -f with force) and leaves a missing one alone', () => {
    expect(planGroup(probe({ group: docker }), want({ state: 'absent' })).script).toBe("groupdel 'docker'");
    expect(planGroup(probe({ group: docker }), want({ state: 'absent', force: true })).script).toBe(
      "groupdel -f 'docker'",
    );
    expect(planGroup(probe(), want({ state: 'absent' }))).toEqual({
      changed: false,
      msg: 'group docker is absent',
    });
  });

  it('says which package to install when no tool is there', () => {
    expect(planGroup(probe({ tools: new Set() }), want()).error).toMatch(
      /^groupadd not found on the host: install the shadow tools/,
    );
  });

  it('names are quoted for sh, whatever they hold', () => {
    expect(planGroup(probe(), want({ name: "o'brien" })).script).toBe("groupadd 'o'\\''brien'");
  });
});

describe('group: BusyBox gid change rewrites only that group line', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await makeTempDir());
  });
  afterEach(() => cleanup());

  it('the awk edit changes the gid of the named group and keeps every other line byte for byte', async () => {
    const file = join(dir, 'group');
    await writeFile(file, 'root:x:0:\ndocker:x:999:alice,bob\ndockerx:x:998:\n');
    const plan = planGroup(probe({ tools: busyboxTools, group: docker }), want({ gid: 1750 }));
    // The script names /etc/group; the test points it at a copy (and its temp file beside the copy).
    const script = plan.script!.replaceAll('/etc/group', file).replace('/etc/.ewsplay-group', `${dir}/.g`);
    execFileSync('sh', ['-c', script]);
    expect(await readFile(file, 'utf8')).toBe('root:x:0:\ndocker:x:1750:alice,bob\ndockerx:x:998:\n');
  });
});

describe('group module on this host (read-only: check mode, or groups that exist already)', () => {
  it('root exists with gid 0: present is unchanged and registers the gid', async () => {
    const r = await groupModule.run(makeContext(), { name: 'root' });
    expect(r).toEqual({ changed: false, data: { name: 'root', state: 'present', system: false, gid: 0 } });
  });

  it('check mode predicts a new group and creates nothing', async () => {
    const name = `ewsplay-none-${process.pid}`;
    const r = await groupModule.run(makeContext({ check: true }), { name, gid: 64123 });
    expect(r).toMatchObject({ changed: true, msg: `would be: group ${name} added`, data: { gid: 64123 } });
    expect(() => execFileSync('getent', ['group', name])).toThrow();
    const gone = await groupModule.run(makeContext(), { name, state: 'absent' });
    expect(gone).toEqual({ changed: false, data: { name, state: 'absent' } });
  });

  it('refuses a name that would read as an option or break /etc/group', async () => {
    const r = await groupModule.run(makeContext(), { name: '-r' });
    expect(r).toMatchObject({ failed: true, msg: expect.stringMatching(/invalid group name '-r'/) });
  });

  it('the schema takes the documented arguments and refuses unknown ones', () => {
    const valid = argsValidator(groupModule);
    expect(valid({ name: 'docker', gid: 1750, system: true, state: 'present' })).toBe(true);
    expect(valid({ name: 'docker', local: true })).toBe(false);
    expect(valid({ gid: 5 })).toBe(false);
  });
});
