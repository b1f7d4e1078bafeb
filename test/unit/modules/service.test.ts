import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalConnection } from '../../../src/connection/local.js';
import type { ModuleContext } from '../../../src/modules/module.js';
import { serviceModule } from '../../../src/modules/service.js';
import { argsValidator, makeContext, makeTempDir, snapshotTree } from './context.js';
import { standinCalls, standinHost, standinUnitDir } from './standins.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
  await mkdir(standinUnitDir(dir), { recursive: true });
  await mkdir(join(dir, 'systemd'));
});
afterEach(async () => {
  // Stop whatever a test left running before its directory goes.
  await standinHost(dir).exec(
    'for p in systemd/run/*.pid; do [ -f "$p" ] && kill -TERM "-$(cat "$p")"; done; true',
    {
      cwd: dir,
    },
  );
  await cleanup();
});

/** A process runs (a zombie waiting for init to reap it does not). */
const isAlive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};
const ctxFor = (overrides: Partial<ModuleContext> = {}) =>
  makeContext({ conn: standinHost(dir), ...overrides });
const unit = (name: string, body: string) => writeFile(join(standinUnitDir(dir), name), body);
/** systemctl's calls that act (not show or daemon-reload), without the program name. */
const actions = async () =>
  (await standinCalls(dir))
    .filter((c) => !/^systemctl '(show|daemon-reload)'/.test(c))
    .map((c) => c.slice('systemctl '.length));

describe('service (stand-in systemctl)', () => {
  it('started + enabled: check mode predicts, first run acts, second run changes nothing', async () => {
    await unit('web.service', '[Service]\nExecStart=/bin/sleep 300\n[Install]\nWantedBy=multi-user.target\n');
    const args = { name: 'web', state: 'started', enabled: true };
    const before = await snapshotTree(join(dir, 'systemd'));
    const predicted = await serviceModule.run(ctxFor({ check: true }), args);
    expect(predicted).toMatchObject({
      changed: true,
      msg: 'would enable, start web',
      data: { state: 'active', enabled: true },
    });
    expect(await actions()).toEqual([]);
    expect(await snapshotTree(join(dir, 'systemd'))).toEqual(before);

    const first = await serviceModule.run(ctxFor(), args);
    expect(first).toMatchObject({ changed: true, msg: 'enable, start web' });
    expect(await actions()).toEqual(["'enable' '--' 'web'", "'start' '--' 'web'"]);
    // The stand-in really runs ExecStart: the process lives.
    const pid = Number(await readFile(join(dir, 'systemd/run/web.service.pid'), 'utf8'));
    expect(isAlive(pid)).toBe(true);

    const second = await serviceModule.run(ctxFor(), args);
    expect(second).toEqual({
      changed: false,
      data: {
        name: 'web',
        state: 'active',
        enabled: true,
        status: { LoadState: 'loaded', ActiveState: 'active', SubState: 'running', UnitFileState: 'enabled' },
      },
    });
    expect(await actions()).toEqual(["'enable' '--' 'web'", "'start' '--' 'web'"]);

    const stopped = await serviceModule.run(ctxFor(), { name: 'web', state: 'stopped' });
    expect(stopped).toMatchObject({ changed: true, msg: 'stop web', data: { state: 'inactive' } });
    expect((await serviceModule.run(ctxFor(), { name: 'web', state: 'stopped' })).changed).toBe(false);
    expect(existsSync(join(dir, 'systemd/run/web.service.pid'))).toBe(false);
    await expect.poll(() => isAlive(pid)).toBe(false);
  });

  it('restarted and reloaded always act; reloading a stopped unit starts it', async () => {
    await unit('fwd.service', '[Service]\n[Install]\nWantedBy=multi-user.target\n');
    expect(await serviceModule.run(ctxFor(), { name: 'fwd', state: 'reloaded' })).toMatchObject({
      changed: true,
      msg: 'start fwd',
    });
    expect(await serviceModule.run(ctxFor(), { name: 'fwd', state: 'reloaded' })).toMatchObject({
      changed: true,
      msg: 'reload fwd',
    });
    expect(
      await serviceModule.run(ctxFor({ check: true }), { name: 'fwd', state: 'restarted' }),
    ).toMatchObject({
      changed: true,
      msg: 'would restart fwd',
    });
    expect((await serviceModule.run(ctxFor(), { name: 'fwd', state: 'restarted' })).changed).toBe(true);
    expect(await actions()).toEqual(["'start' '--' 'fwd'", "'reload' '--' 'fwd'", "'restart' '--' 'fwd'"]);
  });

  it('daemon_reload runs first, is not a change by itself, and is skipped in check mode', async () => {
    await unit('a.service', '[Service]\n');
    expect(await serviceModule.run(ctxFor(), { daemon_reload: true })).toEqual({
      changed: false,
      msg: 'systemd reloaded its unit files',
    });
    expect(
      await serviceModule.run(ctxFor({ check: true }), { daemon_reload: true, name: 'a', state: 'started' }),
    ).toMatchObject({
      changed: true,
    });
    const calls = await standinCalls(dir);
    expect(calls.filter((c) => c === "systemctl 'daemon-reload'")).toHaveLength(1);
    await serviceModule.run(ctxFor(), { daemon_reload: true, name: 'a', state: 'started' });
    expect((await standinCalls(dir)).slice(calls.length, calls.length + 2)).toEqual([
      "systemctl 'daemon-reload'",
      "systemctl 'show' '--property=LoadState,ActiveState,SubState,UnitFileState' '--' 'a'",
    ]);
  });

  it('fails clearly: unknown unit, static unit asked to disable, a failing start, no systemctl', async () => {
    expect(await serviceModule.run(ctxFor(), { name: 'ghost', state: 'started' })).toMatchObject({
      failed: true,
      msg: 'unit ghost not found on this host',
    });
    await unit('static.service', '[Service]\n');
    expect(await serviceModule.run(ctxFor(), { name: 'static', enabled: true })).toMatchObject({
      changed: false,
    });
    expect(await serviceModule.run(ctxFor(), { name: 'static', enabled: false })).toMatchObject({
      failed: true,
      msg: 'unit static is static: it cannot be disabled',
    });
    const noSystemctl = makeContext({
      conn: new LocalConnection('bare', undefined, { PATH: join(dir, 'none') }),
    });
    expect(await serviceModule.run(noSystemctl, { name: 'x', state: 'started' })).toMatchObject({
      failed: true,
      msg: 'systemctl not found on this host: is it managed by systemd?',
    });
  });

  it('takes state or enabled with a name, or daemon_reload alone', () => {
    const valid = argsValidator(serviceModule);
    expect(valid({ name: 'a', state: 'started' })).toBe(true);
    expect(valid({ name: 'a', enabled: false })).toBe(true);
    expect(valid({ daemon_reload: true })).toBe(true);
    expect(valid({ state: 'started' })).toBe(false);
    expect(valid({ name: 'a' })).toBe(false);
    expect(valid({ name: 'a', state: 'running' })).toBe(false);
  });
});
