// service (systemd): one round trip reads the unit's state (after a daemon-reload when asked), a second one
// acts only when something differs. As in Ansible, restarted and reloaded always change; daemon_reload alone
// does not count as a change (ansible/ansible#77606) and is not run in check mode.
import { shq } from '../connection/become.js';
import type { Module, ModuleContext } from './module.js';
import { taskExecOptions } from './remote.js';

interface UnitState {
  LoadState: string;
  ActiveState: string;
  SubState: string;
  UnitFileState: string;
}

/** UnitFileState values for which `systemctl is-enabled` succeeds: the unit starts at boot. */
const ENABLED = new Set([
  'enabled',
  'enabled-runtime',
  'static',
  'alias',
  'indirect',
  'generated',
  'transient',
]);
/** Units without an [Install] section or made at run time: enable/disable cannot change them. */
const FIXED = new Set(['static', 'generated', 'transient']);
const RUNNING = new Set(['active', 'activating', 'reloading']);

const NO_SYSTEMCTL = 'ewsplay-no-systemctl';

function exec(ctx: ModuleContext, script: string) {
  return ctx.conn.exec(script, taskExecOptions(ctx));
}

/** The read script: daemon-reload first when asked (Ansible's order), then the unit's properties. */
export function readScript(unit: string | undefined, daemonReload: boolean): string {
  const lines = [`command -v systemctl >/dev/null 2>&1 || { echo ${NO_SYSTEMCTL} >&2; exit 127; }`];
  if (daemonReload) lines.push('systemctl daemon-reload || exit $?');
  if (unit)
    lines.push(`systemctl show --property=LoadState,ActiveState,SubState,UnitFileState -- ${shq(unit)}`);
  return lines.join('\n');
}

function parseShow(stdout: string): UnitState {
  const kv = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) kv.set(line.slice(0, eq), line.slice(eq + 1).trim());
  }
  return {
    LoadState: kv.get('LoadState') ?? '',
    ActiveState: kv.get('ActiveState') ?? '',
    SubState: kv.get('SubState') ?? '',
    UnitFileState: kv.get('UnitFileState') ?? '',
  };
}

export const serviceModule: Module = {
  name: 'service',
  summary: 'Start, stop, restart or reload a systemd unit, enable it at boot, reload systemd',
  args: {
    type: 'object',
    additionalProperties: false,
    anyOf: [
      { properties: { state: true }, required: ['state'] },
      { properties: { enabled: true }, required: ['enabled'] },
      { properties: { daemon_reload: true }, required: ['daemon_reload'] },
    ],
    dependentRequired: { state: ['name'], enabled: ['name'] },
    properties: {
      name: {
        type: 'string',
        minLength: 1,
        description: 'The unit (".service" is implied without a suffix)',
      },
      state: {
        type: 'string',
        enum: ['started', 'stopped', 'restarted', 'reloaded'],
        description: 'started/stopped act only when needed; restarted and reloaded always act',
      },
      enabled: { type: 'boolean', description: 'Whether the unit starts at boot' },
      daemon_reload: {
        type: 'boolean',
        default: false,
        description:
          'Run systemctl daemon-reload first, so changed unit files are read (not a change by itself)',
      },
    },
  },
  check: 'full',
  async run(ctx, args) {
    const name = typeof args.name === 'string' ? args.name : undefined;
    const state = args.state as 'started' | 'stopped' | 'restarted' | 'reloaded' | undefined;
    const enabled = typeof args.enabled === 'boolean' ? args.enabled : undefined;
    const reload = args.daemon_reload === true && !ctx.check;

    const read = await exec(ctx, readScript(name, reload));
    if (read.stderr.includes(NO_SYSTEMCTL))
      return {
        changed: false,
        failed: true,
        msg: 'systemctl not found on this host: is it managed by systemd?',
      };
    if (read.timedOut)
      return { changed: false, failed: true, msg: `timed out after ${ctx.timeoutMs / 1000}s` };
    if (read.rc !== 0)
      return {
        changed: false,
        failed: true,
        msg: `systemctl failed: ${read.stderr.trim() || `exit ${read.rc}`}`,
      };
    if (!name) return { changed: false, msg: reload ? 'systemd reloaded its unit files' : 'nothing to do' };

    const before = parseShow(read.stdout);
    if (before.LoadState === 'not-found' || before.LoadState === '')
      return { changed: false, failed: true, msg: `unit ${name} not found on this host` };
    const actions: string[] = [];
    const after = { ...before };
    if (enabled !== undefined && ENABLED.has(before.UnitFileState) !== enabled) {
      if (FIXED.has(before.UnitFileState) || before.UnitFileState === 'masked')
        return {
          changed: false,
          failed: true,
          msg: `unit ${name} is ${before.UnitFileState}: it cannot be ${enabled ? 'enabled' : 'disabled'}`,
        };
      actions.push(enabled ? 'enable' : 'disable');
      after.UnitFileState = enabled ? 'enabled' : 'disabled';
    }
    const running = RUNNING.has(before.ActiveState);
    if (state === 'started' && !running) actions.push('start');
    else if (state === 'stopped' && running) actions.push('stop');
    else if (state === 'restarted') actions.push('restart');
    // Ansible: reloading a stopped unit starts it.
    else if (state === 'reloaded') actions.push(running ? 'reload' : 'start');
    if (state) after.ActiveState = state === 'stopped' ? 'inactive' : 'active';

    const data = { name, state: after.ActiveState, enabled: ENABLED.has(after.UnitFileState), status: after };
    if (actions.length === 0) return { changed: false, data };
    const what = actions.join(', ');
    if (ctx.check) return { changed: true, msg: `would ${what} ${name}`, data };
    const act = await exec(ctx, actions.map((a) => `systemctl ${a} -- ${shq(name)}`).join(' && '));
    if (act.timedOut) return { changed: true, failed: true, msg: `timed out after ${ctx.timeoutMs / 1000}s` };
    if (act.rc !== 0)
      return {
        changed: true,
        failed: true,
        msg: `systemctl ${what} ${name} failed: ${act.stderr.trim() || act.stdout.trim() || `exit ${act.rc}`}`,
        data,
      };
    return { changed: true, msg: `${what} ${name}`, data };
  },
};
