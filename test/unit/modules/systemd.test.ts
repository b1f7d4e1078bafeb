// systemd / systemd_service: the service module under Ansible's systemd names, with masked, scope,
// daemon_reexec, no_block and force. The test machines run no systemd (PID 1 is not systemd there), so the
// planning is tested on `systemctl show` states as systemd reports them, and a whole run through the
// systemctl stand-in of lab/vendor (which knows start/stop/enable, not mask or --user).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveModule } from '../../../src/modules/index.js';
import {
  parseShow,
  planUnit,
  readScript,
  serviceModule,
  systemctl,
  systemdModule,
  systemdServiceModule,
} from '../../../src/modules/service.js';
import { argsValidator, makeContext, makeTempDir, snapshotTree } from './context.js';
import { standinCalls, standinHost, standinUnitDir } from './standins.js';

/** `systemctl show -p LoadState,ActiveState,SubState,UnitFileState` of a few units, as systemd prints them. */
const SHOW = {
  running: 'LoadState=loaded\nActiveState=active\nSubState=running\nUnitFileState=enabled\n',
  stopped: 'LoadState=loaded\nActiveState=inactive\nSubState=dead\nUnitFileState=disabled\n',
  masked: 'LoadState=masked\nActiveState=inactive\nSubState=dead\nUnitFileState=masked\n',
  stopping: 'LoadState=loaded\nActiveState=deactivating\nSubState=stop-sigterm\nUnitFileState=enabled\n',
  missing: 'LoadState=not-found\nActiveState=inactive\nSubState=dead\nUnitFileState=\n',
};
const plan = (show: string, want: Omit<Parameters<typeof planUnit>[1], 'name'>) =>
  planUnit(parseShow(show), { name: 'web', ...want });

describe('systemd: planning', () => {
  it('masked: mask or unmask only when the unit file state differs', () => {
    expect(plan(SHOW.running, { masked: true }).actions).toEqual(['mask']);
    expect(plan(SHOW.masked, { masked: true }).actions).toEqual([]);
    expect(plan(SHOW.masked, { masked: false }).actions).toEqual(['unmask']);
    expect(plan(SHOW.stopped, { masked: false }).actions).toEqual([]);
  });

  it('masking comes first, then enabling, then the state (Ansible order)', () => {
    expect(plan(SHOW.running, { masked: true, state: 'stopped' })).toMatchObject({
      actions: ['mask', 'stop'],
      after: { UnitFileState: 'masked', ActiveState: 'inactive' },
    });
    expect(plan(SHOW.masked, { masked: false, enabled: true, state: 'started' }).actions).toEqual([
      'unmask',
      'enable',
      'start',
    ]);
  });

  it('a unit may be masked before it is installed; anything else needs the unit', () => {
    expect(plan(SHOW.missing, { masked: true }).actions).toEqual(['mask']);
    expect(plan(SHOW.missing, { masked: true, state: 'stopped' }).error).toBe(
      'unit web not found on this host',
    );
    expect(plan(SHOW.missing, { enabled: false }).error).toBe('unit web not found on this host');
  });

  it('a masked unit cannot be enabled unless masked: false unmasks it', () => {
    expect(plan(SHOW.masked, { enabled: true }).error).toBe('unit web is masked: it cannot be enabled');
  });

  it('stopped also stops a unit that is still deactivating, as Ansible does', () => {
    expect(plan(SHOW.stopping, { state: 'stopped' }).actions).toEqual(['stop']);
    expect(plan(SHOW.stopped, { state: 'stopped' }).actions).toEqual([]);
  });

  it('scope global manages unit files only', () => {
    expect(
      plan('LoadState=loaded\nUnitFileState=disabled\n', { scope: 'global', enabled: true }).actions,
    ).toEqual(['enable']);
    expect(plan(SHOW.running, { scope: 'global', state: 'started' }).error).toMatch(/scope global/);
  });
});

describe('systemd: the commands', () => {
  it('scope, no_block and force are options of every systemctl call, as Ansible adds them', () => {
    expect(systemctl()).toBe('systemctl');
    expect(systemctl({ scope: 'system' })).toBe('systemctl');
    expect(systemctl({ scope: 'user', noBlock: true, force: true })).toBe(
      'systemctl --user --no-block --force',
    );
    expect(systemctl({ scope: 'global' })).toBe('systemctl --global');
  });

  it('reads after daemon-reload then daemon-reexec; a user scope finds its manager through XDG_RUNTIME_DIR', () => {
    const script = readScript('web', true, { scope: 'user', daemonReexec: true });
    const lines = script.split('\n');
    expect(lines.slice(1)).toEqual([
      '[ -n "$XDG_RUNTIME_DIR" ] || { XDG_RUNTIME_DIR=/run/user/$(id -u); export XDG_RUNTIME_DIR; }',
      'systemctl --user daemon-reload || exit $?',
      'systemctl --user daemon-reexec || exit $?',
      "systemctl --user show --property=LoadState,ActiveState,SubState,UnitFileState -- 'web'",
    ]);
  });

  it('a global unit is read with is-enabled (no manager runs it)', () => {
    const script = readScript('web', false, { scope: 'global' });
    expect(script).toContain("systemctl --global is-enabled -- 'web'");
    expect(script).not.toContain('show');
  });
});

describe('systemd: whole runs through the systemctl stand-in', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await makeTempDir());
    await mkdir(standinUnitDir(dir), { recursive: true });
    await mkdir(join(dir, 'systemd'));
  });
  afterEach(async () => {
    await standinHost(dir).exec(
      'for p in systemd/run/*.pid; do [ -f "$p" ] && kill -TERM "-$(cat "$p")"; done; true',
      { cwd: dir },
    );
    await cleanup();
  });
  const ctxFor = (check = false) => makeContext({ conn: standinHost(dir), check });

  it('systemd enables and starts as service does; check mode predicts a mask and runs nothing', async () => {
    await writeFile(
      join(standinUnitDir(dir), 'web.service'),
      '[Service]\nExecStart=/bin/sleep 300\n[Install]\nWantedBy=multi-user.target\n',
    );
    const first = await systemdModule.run(ctxFor(), { name: 'web', state: 'started', enabled: true });
    expect(first).toMatchObject({ changed: true, msg: 'enable, start web' });
    expect(await systemdModule.run(ctxFor(), { name: 'web', state: 'started', enabled: true })).toMatchObject(
      {
        changed: false,
      },
    );

    const before = await snapshotTree(join(dir, 'systemd'));
    const calls = (await standinCalls(dir)).length;
    const masked = await systemdServiceModule.run(ctxFor(true), {
      name: 'web',
      masked: true,
      state: 'stopped',
    });
    expect(masked).toEqual({
      changed: true,
      msg: 'would mask, stop web',
      data: {
        name: 'web',
        state: 'inactive',
        enabled: false,
        masked: true,
        status: {
          LoadState: 'masked',
          ActiveState: 'inactive',
          SubState: 'dead',
          UnitFileState: 'masked',
        },
      },
    });
    // Only the read (show) ran.
    expect((await standinCalls(dir)).slice(calls).map((c) => c.split(' ')[1])).toEqual(["'show'"]);
    expect(await snapshotTree(join(dir, 'systemd'))).toEqual(before);
  });
});

describe('systemd: names and arguments', () => {
  it('answers to systemd, systemd_service and their ansible.builtin names', () => {
    expect(resolveModule('systemd')).toBe(systemdModule);
    expect(resolveModule('ansible.builtin.systemd')).toBe(systemdModule);
    expect(resolveModule('ansible.builtin.systemd_service')).toBe(systemdServiceModule);
    expect(resolveModule('ansible.legacy.systemd_service')).toBe(systemdServiceModule);
  });

  it('takes masked or daemon_reexec as the thing to do; service does not take systemd-only arguments', () => {
    const valid = argsValidator(systemdModule);
    expect(valid({ name: 'web', masked: true })).toBe(true);
    expect(valid({ daemon_reexec: true })).toBe(true);
    expect(valid({ name: 'web', state: 'started', scope: 'user', no_block: true, force: true })).toBe(true);
    expect(valid({ masked: true })).toBe(false);
    expect(valid({ name: 'web' })).toBe(false);
    expect(valid({ name: 'web', state: 'started', scope: 'session' })).toBe(false);
    expect(argsValidator(serviceModule)({ name: 'web', masked: true })).toBe(false);
    expect(systemdModule.aliases).toMatchObject({ unit: 'name', 'daemon-reload': 'daemon_reload' });
  });
});
