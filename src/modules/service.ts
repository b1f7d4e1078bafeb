// service (systemd): one round trip reads the unit's state (after a daemon-reload when asked), a second one
// acts only when something differs. As in Ansible, restarted and reloaded always change; daemon_reload alone
// does not count as a change (ansible/ansible#77606) and is not run in check mode.
//
// The same module answers to systemd and systemd_service (Ansible's service runs its systemd module on a
// systemd host), which take systemd's extra arguments too: masked, scope, daemon_reexec, no_block, force.
import { shq } from '../core/shell-quote.js';
import { defineModule, fail, type Planned, planned } from './kit.js';
import type { ArgsSchema, Module, ModuleContext, ModuleResult } from './module.js';
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

export type Scope = 'system' | 'user' | 'global';

/** How systemctl is called: Ansible adds --user/--global, --no-block and --force to every call. */
export interface SystemctlOptions {
  scope?: Scope;
  noBlock?: boolean;
  force?: boolean;
}

/** `systemctl` with the task's options. */
export function systemctl(opts: SystemctlOptions = {}): string {
  return [
    'systemctl',
    ...(opts.scope && opts.scope !== 'system' ? [`--${opts.scope}`] : []),
    ...(opts.noBlock ? ['--no-block'] : []),
    ...(opts.force ? ['--force'] : []),
  ].join(' ');
}

/**
 * The read script: daemon-reload, then daemon-reexec, first when asked (Ansible's order), then the unit's
 * properties. A global unit has no running state: only its unit file state is read (is-enabled).
 */
export function readScript(
  unit: string | undefined,
  daemonReload: boolean,
  opts: SystemctlOptions & { daemonReexec?: boolean } = {},
): string {
  const sc = systemctl({ ...(opts.scope ? { scope: opts.scope } : {}) });
  const lines = [`command -v systemctl >/dev/null 2>&1 || { echo ${NO_SYSTEMCTL} >&2; exit 127; }`];
  // As Ansible does: the user's manager is found through XDG_RUNTIME_DIR, which a non-login session lacks.
  if (opts.scope === 'user')
    lines.push(
      '[ -n "$XDG_RUNTIME_DIR" ] || { XDG_RUNTIME_DIR=/run/user/$(id -u); export XDG_RUNTIME_DIR; }',
    );
  if (daemonReload) lines.push(`${sc} daemon-reload || exit $?`);
  if (opts.daemonReexec) lines.push(`${sc} daemon-reexec || exit $?`);
  if (unit && opts.scope === 'global')
    lines.push(
      `f=$(${sc} is-enabled -- ${shq(unit)} 2>/dev/null)`,
      'case $f in "") echo LoadState=not-found ;; masked*) echo LoadState=masked ;; *) echo LoadState=loaded ;; esac',
      'echo "UnitFileState=$f"',
    );
  else if (unit)
    lines.push(`${sc} show --property=LoadState,ActiveState,SubState,UnitFileState -- ${shq(unit)}`);
  return lines.join('\n');
}

export function parseShow(stdout: string): UnitState {
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

export interface UnitWant {
  name: string;
  state?: 'started' | 'stopped' | 'restarted' | 'reloaded';
  enabled?: boolean;
  masked?: boolean;
  scope?: Scope;
}

export interface UnitPlan {
  /** systemctl verbs, in order (mask/unmask, then enable/disable, then the state's). */
  actions: string[];
  /** The unit as it will be. */
  after: UnitState;
  /** Set when the wanted state cannot be reached: the task fails with it, in check mode too. */
  error?: string;
}

/** What systemctl must do to get from `before` to what the task wants (Ansible's systemd order). */
export function planUnit(before: UnitState, want: UnitWant): UnitPlan {
  const name = want.name;
  const after = { ...before };
  const actions: string[] = [];
  const refuse = (error: string): UnitPlan => ({ actions: [], after: before, error });
  // A unit may be masked before it is installed, as Ansible allows; everything else needs the unit.
  const notFound = before.LoadState === 'not-found' || before.LoadState === '';
  if (notFound && (want.state !== undefined || want.enabled !== undefined || want.masked !== true))
    return refuse(`unit ${name} not found on this host`);
  if (want.scope === 'global' && want.state !== undefined)
    return refuse('scope global has no running units: it takes enabled and masked, not state');

  if (want.masked !== undefined && (before.UnitFileState === 'masked') !== want.masked) {
    actions.push(want.masked ? 'mask' : 'unmask');
    // Unmasked, the unit file's own state shows again; until then it is unknown: "disabled" is the state
    // systemctl reports for an installed unit nobody enabled.
    after.UnitFileState = want.masked ? 'masked' : 'disabled';
    after.LoadState = want.masked ? 'masked' : 'loaded';
  }
  if (want.enabled !== undefined && ENABLED.has(after.UnitFileState) !== want.enabled) {
    if (FIXED.has(after.UnitFileState) || after.UnitFileState === 'masked')
      return refuse(
        `unit ${name} is ${after.UnitFileState}: it cannot be ${want.enabled ? 'enabled' : 'disabled'}`,
      );
    actions.push(want.enabled ? 'enable' : 'disable');
    after.UnitFileState = want.enabled ? 'enabled' : 'disabled';
  }
  const running = RUNNING.has(before.ActiveState);
  const state = want.state;
  if (state === 'started' && !running) actions.push('start');
  else if (state === 'stopped' && (running || before.ActiveState === 'deactivating')) actions.push('stop');
  else if (state === 'restarted') actions.push('restart');
  // Ansible: reloading a stopped unit starts it.
  else if (state === 'reloaded') actions.push(running ? 'reload' : 'start');
  if (state) after.ActiveState = state === 'stopped' ? 'inactive' : 'active';
  // A unit stopped now is dead; one started now runs (systemd's SubState for a started service).
  if (actions.includes('stop')) after.SubState = 'dead';
  else if (actions.includes('start') || actions.includes('restart')) after.SubState = 'running';
  return { actions, after };
}

interface Variant {
  name: string;
  summary: string;
  /** systemd and systemd_service: masked, scope, daemon_reexec, no_block, force. */
  systemd: boolean;
}

function argsSchema(systemd: boolean): ArgsSchema {
  const asks = ['state', 'enabled', 'daemon_reload', ...(systemd ? ['masked', 'daemon_reexec'] : [])];
  return {
    type: 'object',
    additionalProperties: false,
    anyOf: asks.map((k) => ({ properties: { [k]: true }, required: [k] })),
    dependentRequired: {
      state: ['name'],
      enabled: ['name'],
      ...(systemd ? { masked: ['name'] } : {}),
    },
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
      ...(systemd
        ? {
            masked: {
              type: 'boolean',
              description: 'Whether the unit is masked (a masked unit cannot start)',
            },
            scope: {
              type: 'string',
              enum: ['system', 'user', 'global'],
              default: 'system',
              description:
                "The service manager: the system's, the connecting user's (--user) or all users' (--global)",
            },
            daemon_reexec: {
              type: 'boolean',
              default: false,
              description: 'Run systemctl daemon-reexec first (after daemon_reload; not a change by itself)',
            },
            no_block: {
              type: 'boolean',
              default: false,
              description: 'Do not wait for the start or stop job to finish (systemctl --no-block)',
            },
            force: {
              type: 'boolean',
              description: 'Replace conflicting symbolic links when enabling (systemctl --force)',
            },
          }
        : {}),
    },
  };
}

async function runUnit(ctx: ModuleContext, args: Record<string, unknown>): Promise<ModuleResult | Planned> {
  const reload = args.daemon_reload === true;
  const reexec = args.daemon_reexec === true;
  if (!reload && !reexec) return unitStep(ctx, args, false, false);
  // systemd reloads (re-executes) before the unit is read, so that the read sees changed unit files. Check
  // mode does neither and predicts from what systemd reports without them.
  return planned(
    () => unitStep(ctx, args, false, false),
    () => unitStep(ctx, args, reload, reexec),
  );
}

async function unitStep(
  ctx: ModuleContext,
  args: Record<string, unknown>,
  reload: boolean,
  reexec: boolean,
): Promise<ModuleResult | Planned> {
  const name = typeof args.name === 'string' ? args.name : undefined;
  const scope = (typeof args.scope === 'string' ? args.scope : 'system') as Scope;
  const opts: SystemctlOptions = { scope, noBlock: args.no_block === true, force: args.force === true };
  const want: UnitWant = {
    name: name ?? '',
    scope,
    ...(typeof args.state === 'string' ? { state: args.state as UnitWant['state'] & string } : {}),
    ...(typeof args.enabled === 'boolean' ? { enabled: args.enabled } : {}),
    ...(typeof args.masked === 'boolean' ? { masked: args.masked } : {}),
  };

  const read = await exec(ctx, readScript(name, reload, { scope, daemonReexec: reexec }));
  if (read.stderr.includes(NO_SYSTEMCTL))
    return fail('systemctl not found on this host: is it managed by systemd?');
  if (read.timedOut) return fail(`timed out after ${ctx.timeoutMs / 1000}s`);
  if (read.rc !== 0) return fail(`systemctl failed: ${read.stderr.trim() || `exit ${read.rc}`}`);
  if (!name) {
    const done = [reload && 'reloaded its unit files', reexec && 're-executed'].filter(Boolean).join(' and ');
    return { changed: false, msg: done ? `systemd ${done}` : 'nothing to do' };
  }

  const before = parseShow(read.stdout);
  const plan = planUnit(before, want);
  if (plan.error) return fail(plan.error);
  const { actions, after } = plan;
  const data = {
    name,
    state: after.ActiveState,
    enabled: ENABLED.has(after.UnitFileState),
    ...(want.masked !== undefined ? { masked: after.UnitFileState === 'masked' } : {}),
    status: after,
  };
  if (actions.length === 0) return { changed: false, data };
  const what = actions.join(', ');
  return planned({ changed: true, msg: `would ${what} ${name}`, data }, async () => {
    const sc = systemctl(opts);
    const act = await exec(
      ctx,
      [
        ...(scope === 'user'
          ? ['[ -n "$XDG_RUNTIME_DIR" ] || { XDG_RUNTIME_DIR=/run/user/$(id -u); export XDG_RUNTIME_DIR; }']
          : []),
        actions.map((a) => `${sc} ${a} -- ${shq(name)}`).join(' && '),
      ].join('\n'),
    );
    if (act.timedOut) return { changed: true, failed: true, msg: `timed out after ${ctx.timeoutMs / 1000}s` };
    if (act.rc !== 0)
      return {
        changed: true,
        failed: true,
        msg: `systemctl ${what} ${name} failed: ${act.stderr.trim() || act.stdout.trim() || `exit ${act.rc}`}`,
        data,
      };
    return { changed: true, msg: `${what} ${name}`, data };
  });
}

function unitModule(v: Variant): Module {
  return defineModule<Record<string, unknown>>({
    name: v.name,
    summary: v.summary,
    ...(v.systemd
      ? {
          aliases: {
            service: 'name',
            unit: 'name',
            'daemon-reload': 'daemon_reload',
            'daemon-reexec': 'daemon_reexec',
          },
        }
      : {}),
    args: argsSchema(v.systemd),
    check: 'full',
    run: runUnit,
  });
}

export const serviceModule: Module = unitModule({
  name: 'service',
  summary: 'Start, stop, restart or reload a systemd unit, enable it at boot, reload systemd',
  systemd: false,
});

export const systemdServiceModule: Module = unitModule({
  name: 'systemd_service',
  summary:
    'Start, stop, restart or reload a systemd unit, enable or mask it, in the system or a user manager',
  systemd: true,
});

/** Ansible's older name of systemd_service (ansible.builtin.systemd). */
export const systemdModule: Module = unitModule({
  name: 'systemd',
  summary: 'systemd_service by its older name: start, stop, enable or mask a systemd unit',
  systemd: true,
});
