// Runs one task on one host: when, loop, until/retries, check mode, become, timeout, changed_when,
// failed_when, register, ignore_errors, no_log. Everything a module returns passes the secret masker here.
import { setTimeout as sleep, setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Connection } from '../connection/connection.js';
import { UnreachableError } from '../connection/connection.js';
import type { Node, Play, TaskNode, Vars } from '../core/model.js';
import { renderedArgsProblem } from '../load/playbook.js';
import { resolveModule } from '../modules/index.js';
import { coerceArgs } from '../modules/kit.js';
import type { Module, ModuleContext, ModuleResult } from '../modules/module.js';
import { predicted } from './check-wording.js';
import { newHostState, type RunContext, setFacts } from './context.js';
import { loopItemsProblem } from './loop-items.js';
import { loopControlVars, loopResultVars } from './loop-vars.js';
import type { HostStatus, HostTaskResult, TaskInfo } from './results.js';
import type { Scope } from './scope.js';
import { registerSecretVars } from './secret-vars.js';
import { staticSettings, taskSettings } from './task-settings.js';
import { plain, withData, withoutOmitted } from './vars.js';

export const NO_LOG_MSG = "the output has been hidden due to the 'no_log: true' specified for this result";

/** Hooks the play runner gives the task runner (nested task lists, operator prompts, connections). */
export interface TaskHooks {
  /** The host's cached connection; with `fresh`, a new one in its place (wait_for_connection). */
  connection(host: string, fresh?: FreshConnection): Promise<Connection>;
  /** delegate_to: an inventory host's connection, or one opened for a name the inventory lacks (localhost). */
  delegateConnection(host: string, fresh?: FreshConnection): Promise<Connection>;
  templateVars(host: string, scope: Scope, taskVars?: Vars): Vars;
  runNested(
    host: string,
    nodes: Node[],
    scope: Scope,
    extraVars?: Vars,
  ): Promise<{ ok: boolean; results: ModuleResult[] }>;
  confirm(info: TaskInfo, host: string, question: string): Promise<boolean>;
}

/** Asks for a new connection that replaces the cached one, its opening bounded by connectTimeoutMs. */
export interface FreshConnection {
  connectTimeoutMs?: number;
}

interface Attempt {
  result: ModuleResult;
  registered: Vars;
}

/** One task on one host: what each attempt of it needs besides its variables. */
interface TaskRun {
  rc: RunContext;
  module: Module;
  task: TaskNode;
  host: string;
  scope: Scope;
  info: TaskInfo;
  /** The task's effective check mode (resolved once, by staticSettings). */
  check: boolean;
  hooks: TaskHooks;
}

export async function runTaskOnHost(
  rc: RunContext,
  play: Play,
  task: TaskNode,
  host: string,
  scope: Scope,
  info: TaskInfo,
  hooks: TaskHooks,
): Promise<HostTaskResult> {
  // Local tasks can chain promises without ever reaching the event loop, and signals are handled there:
  // one turn per task (and per loop item below) keeps Ctrl-C and SIGTERM answered whatever runs.
  await yieldToEventLoop();
  const started = performance.now();
  const done = (r: Omit<HostTaskResult, 'durationMs'>): HostTaskResult => ({
    ...r,
    durationMs: Math.round(performance.now() - started),
  });
  const module = resolveModule(task.module) as Module; // the loader guarantees it exists
  const { check, noLog, ignoreErrors } = staticSettings(rc.options, play, task, scope);
  const run: TaskRun = { rc, module, task, host, scope, info, check, hooks };
  const conditions = [...scope.when, ...task.when];
  let vars: Vars;
  try {
    vars = hooks.templateVars(host, scope, task.vars);
    registerSecretVars(vars, rc.secrets);
  } catch (e) {
    return done({ status: 'failed', changed: false, msg: describe(rc, task, e) });
  }

  try {
    if (task.loop === undefined) {
      if (!conditionsHold(rc, conditions, vars)) {
        return done(
          register(rc, host, task, skippedResult(check), {
            status: 'skipped',
            changed: false,
            msg: 'Conditional result was False',
          }),
        );
      }
      const attempt = await runWithRetries(run, vars);
      return done(finish(rc, host, task, attempt, vars, check, noLog, scope));
    }

    // Loop: when is evaluated per item, as Ansible does.
    const rendered = rc.templar.render(task.loop, vars);
    const items = task.loopFlatten ? flattenOnce(rendered) : rendered;
    const loopProblem = loopItemsProblem(items, (v) => JSON.stringify(plain(v)) ?? String(v));
    if (loopProblem !== undefined || !Array.isArray(items))
      return done({ status: 'failed', changed: false, msg: describe(rc, task, loopProblem) });
    const perItem: Vars[] = [];
    const itemSummaries: NonNullable<HostTaskResult['items']> = [];
    let anyChanged = false;
    let anyFailed = false;
    // As Ansible: a loop over no items is a skipped task ('No items in the list'), as is one whose items all are.
    let allSkipped = true;
    const diffs: NonNullable<HostTaskResult['diff']> = [];
    for (const [index, item] of items.entries()) {
      // Ctrl-C and SIGTERM stop a long loop between items, not after the last one.
      if (index > 0) await yieldToEventLoop();
      if (rc.abort.signal.aborted) break;
      const pause = task.loopControl?.pause ?? 0;
      if (index > 0 && pause > 0) {
        await sleep(pause * 1000, undefined, { signal: rc.abort.signal }).catch(() => undefined);
        if (rc.abort.signal.aborted) break;
      }
      const extras = loopControlVars(task.loopControl, items, index);
      const itemVars = withData(vars, { [task.loopVar]: item, ...extras });
      const label = noLog ? '(item hidden by no_log)' : rc.secrets.mask(labelOf(rc, task, itemVars, item));
      if (!conditionsHold(rc, conditions, itemVars)) {
        perItem.push({
          ...skippedResult(check),
          [task.loopVar]: item,
          item,
          ...loopResultVars(task.loopControl, items, index),
        });
        itemSummaries.push({ label, status: 'skipped' });
        continue;
      }
      const attempt = await runWithRetries(run, itemVars);
      const status = statusOf(attempt.registered);
      // A module may skip an item itself (a command in check mode): all items skipped is a skipped task.
      if (status !== 'skipped') allSkipped = false;
      anyChanged ||= status === 'changed';
      anyFailed ||= status === 'failed';
      perItem.push({
        ...attempt.registered,
        [task.loopVar]: item,
        item,
        ansible_loop_var: task.loopVar,
        ...loopResultVars(task.loopControl, items, index),
      });
      if (attempt.result.diff && !noLog && diffWanted(rc, task, scope))
        diffs.push(...rc.secrets.maskDeep(attempt.result.diff));
      itemSummaries.push({
        label,
        status,
        ...(attempt.result.msg && !noLog
          ? {
              msg: rc.secrets.mask(
                check && status === 'changed' ? predicted(attempt.result.msg) : attempt.result.msg,
              ),
            }
          : {}),
        ...(attempt.result.verbosity !== undefined && !noLog ? { verbosity: attempt.result.verbosity } : {}),
      });
    }
    const registered: Vars = {
      changed: anyChanged,
      failed: anyFailed,
      skipped: allSkipped,
      msg: anyFailed ? 'One or more items failed' : allSkipped ? 'All items skipped' : 'All items completed',
      results: perItem,
    };
    if (items.length === 0) {
      delete registered.msg;
      registered.skipped_reason = 'No items in the list';
    }
    if (check) registered.check_mode = true;
    const status: HostStatus = anyFailed ? 'failed' : allSkipped ? 'skipped' : anyChanged ? 'changed' : 'ok';
    register(rc, host, task, registered, undefined);
    const ignored = status === 'failed' && ignoreErrors;
    return done({
      status,
      changed: anyChanged,
      msg: noLog ? NO_LOG_MSG : ((registered.msg ?? registered.skipped_reason) as string),
      items: itemSummaries,
      ...(diffs.length > 0 ? { diff: diffs } : {}),
      ...(check ? { checkMode: true } : {}),
      ...(ignored ? { ignored: true } : {}),
    });
  } catch (e) {
    if (e instanceof UnreachableError)
      return done({ status: 'unreachable', changed: false, msg: rc.secrets.mask(e.message) });
    return done({
      status: 'failed',
      changed: false,
      msg: describe(rc, task, e),
      ...(ignoreErrors ? { ignored: true } : {}),
    });
  }
}

function skippedResult(check: boolean): Vars {
  return { changed: false, skipped: true, false_condition: true, ...(check ? { check_mode: true } : {}) };
}

function conditionsHold(rc: RunContext, conditions: string[], vars: Vars): boolean {
  for (const c of conditions) if (!truthy(rc.templar.evaluate(c, vars))) return false;
  return true;
}

export function truthy(v: unknown): boolean {
  if (typeof v === 'string')
    return !['', 'false', 'no', 'off', '0', 'n', 'f'].includes(v.trim().toLowerCase());
  if (Array.isArray(v)) return v.length > 0;
  return Boolean(v);
}

function labelOf(rc: RunContext, task: TaskNode, vars: Vars, item: unknown): string {
  if (task.loopLabel) return String(rc.templar.render(task.loopLabel, vars));
  return typeof item === 'string' ? item : JSON.stringify(plain(item));
}

async function runWithRetries(run: TaskRun, vars: Vars): Promise<Attempt> {
  const { rc, task, check } = run;
  // Ansible: `retries: N` means up to N+1 attempts.
  const attempts = task.until ? Math.max(1, task.retries + 1) : 1;
  let last: Attempt | undefined;
  for (let i = 1; i <= attempts; i++) {
    const result = await runModuleOnce(run, vars);
    const registered = toRegistered(result, check);
    if (task.until) registered.attempts = i;
    applyOverrides(rc, task, vars, registered);
    last = { result, registered };
    if (!task.until) break;
    const withResult = task.register ? withData(vars, { [task.register]: registered }) : vars;
    if (truthy(rc.templar.evaluate(task.until, withResult))) break;
    if (i < attempts) {
      await sleep(task.delay * 1000, undefined, { signal: rc.abort.signal }).catch(() => undefined);
      if (rc.abort.signal.aborted) break;
    } else {
      registered.failed = true;
      registered.msg = `condition '${task.until}' still false after ${attempts} attempts${registered.msg ? `: ${String(registered.msg)}` : ''}`;
    }
  }
  return last!;
}

async function runModuleOnce(run: TaskRun, vars: Vars): Promise<ModuleResult> {
  const { rc, module, task, host, scope, info, check, hooks } = run;
  const nested = new Set(module.taskListArgs ?? []);
  const raw: Vars = {};
  const keep: Vars = {};
  for (const [k, v] of Object.entries(task.args)) (nested.has(k) ? keep : raw)[k] = v;
  const values = withoutOmitted(plain(rc.templar.render(raw, vars))) as Vars;
  // The loader could not check templated arguments: check them now that they have values, converted as
  // Ansible converts them (a rendered "42" where the schema wants a whole number is 42).
  const rendered = /\{[{%]/.test(JSON.stringify(raw));
  const args = { ...(rendered ? coerceArgs(module.args, values) : values), ...keep };
  const invalid = rendered ? renderedArgsProblem(module, args, task.pos) : undefined;
  if (invalid) return { changed: false, failed: true, msg: invalid };
  const delegate = delegateOf(rc, task, host, vars);
  const connect = (fresh?: FreshConnection) =>
    delegate ? hooks.delegateConnection(delegate, fresh) : hooks.connection(host, fresh);
  const conn = module.connection === 'self' ? selfConnecting(delegate ?? host) : await connect();
  // `check` is the task's effective check mode already (resolved in runTaskOnHost).
  const settings = taskSettings(rc.options, { checkMode: check }, task, scope, vars);
  const { timeoutSec } = settings;
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  rc.abort.signal.addEventListener('abort', onAbort, { once: true });
  const ctx: ModuleContext = {
    host,
    conn,
    check,
    diff: settings.diff,
    vars,
    secrets: rc.secrets,
    signal: controller.signal,
    timeoutMs: timeoutSec * 1000,
    template: rc.templar,
    baseDir: rc.playbookDir,
    stateDir: rc.options.stateDir,
    pos: task.pos,
    interactive: rc.options.interactive,
    confirm: (q) => hooks.confirm(info, host, q),
    runTasks: (nodes, extra) => hooks.runNested(host, nodes, scope, extra),
    loadVarsFile: rc.loadVarsFile,
    log: () => undefined,
    progress: (p) => rc.listener.progress?.(info, host, p),
  };
  if (module.connection === 'self')
    ctx.connect = ({ fresh, connectTimeoutMs } = {}) => connect(fresh ? { connectTimeoutMs } : undefined);
  if (Object.keys(settings.environment).length > 0) {
    const rendered = plain(rc.templar.render(settings.environment, vars)) as Vars;
    ctx.env = Object.fromEntries(Object.entries(rendered).map(([k, v]) => [k, String(v)]));
  }
  if (settings.become)
    ctx.become = {
      ...(settings.becomeUser ? { user: settings.becomeUser } : {}),
      ...(settings.becomePassword !== undefined ? { password: settings.becomePassword } : {}),
    };
  let timer: NodeJS.Timeout | undefined;
  try {
    // The module gets the timeout for its own commands; this guard is the backstop for anything that hangs.
    const result = await Promise.race([
      module.run(ctx, args),
      new Promise<ModuleResult>((resolve) => {
        timer = setTimeout(
          () => {
            controller.abort();
            resolve({ changed: false, failed: true, msg: `task timed out after ${timeoutSec}s` });
          },
          timeoutSec * 1000 + 2000,
        );
      }),
    ]);
    // add_host / group_by: applied per attempt and per loop item, as Ansible's strategy applies each result.
    if (result.inventory && !result.failed) {
      result.changed = rc.inventory.addDynamic(result.inventory, task.pos);
      if (!rc.hosts.has(result.inventory.host)) rc.hosts.set(result.inventory.host, newHostState());
    }
    return result;
  } finally {
    clearTimeout(timer);
    rc.abort.signal.removeEventListener('abort', onAbort);
  }
}

/** ctx.conn of a module that connects through ctx.connect: any use of it is a bug in that module. */
function selfConnecting(host: string): Connection {
  const refuse = () =>
    Promise.reject(
      new Error(`internal error: this module reaches ${host} through ctx.connect, not ctx.conn`),
    );
  return {
    host,
    kind: 'ssh',
    exec: refuse,
    put: refuse,
    get: refuse,
    forwardOut: refuse,
    close: async () => {},
  };
}

/** What `register:` stores of a module's result: its data, the flags, and `check_mode` when the task ran in check mode. */
export function toRegistered(result: ModuleResult, check: boolean): Vars {
  const reg: Vars = {
    ...result.data,
    changed: result.changed,
    failed: result.failed ?? false,
  };
  // The flags come from the result, never from a module's data (calendar_sync's data lists mailboxes).
  delete reg.skipped;
  if (result.skipped) reg.skipped = true;
  if (result.msg !== undefined) reg.msg = result.msg;
  if (result.diff) reg.diff = result.diff;
  if (result.facts || result.authoredVars) reg.ansible_facts = { ...result.facts, ...result.authoredVars };
  if (result.warnings) reg.warnings = result.warnings;
  if (result.details !== undefined) reg.details = result.details;
  if (check) reg.check_mode = true;
  return reg;
}

function applyOverrides(rc: RunContext, task: TaskNode, vars: Vars, registered: Vars): void {
  if (!task.changedWhen && !task.failedWhen) return;
  const scoped = withData(vars, {
    ...(task.register ? { [task.register]: registered } : {}),
    result: registered,
  });
  if (task.changedWhen && !registered.skipped)
    registered.changed = task.changedWhen.every((c) => truthy(rc.templar.evaluate(c, scoped)));
  if (task.failedWhen && !registered.skipped) {
    const failed = task.failedWhen.some((c) => truthy(rc.templar.evaluate(c, scoped)));
    registered.failed = failed;
    if (failed && !registered.msg)
      registered.msg = `failed_when condition met: ${task.failedWhen.join(' or ')}`;
  }
}

/** --diff, unless the task, a block around it or the play says `diff:`. */
function diffWanted(rc: RunContext, task: TaskNode, scope: Scope): boolean {
  return staticSettings(rc.options, { checkMode: undefined }, task, scope).diff;
}

/** The host a delegate_to names for these variables (undefined: the task runs on its own host). */
export function delegateOf(rc: RunContext, task: TaskNode, host: string, vars: Vars): string | undefined {
  if (task.delegateTo === undefined) return undefined;
  const target = String(rc.templar.render(task.delegateTo, vars)).trim();
  if (target === '') throw new Error(`delegate_to '${task.delegateTo}' gave an empty host name`);
  return target === host ? undefined : target;
}

function statusOf(reg: Vars): HostStatus {
  if (reg.failed) return 'failed';
  if (reg.skipped) return 'skipped';
  return reg.changed ? 'changed' : 'ok';
}

function finish(
  rc: RunContext,
  host: string,
  task: TaskNode,
  attempt: Attempt,
  vars: Vars,
  check: boolean,
  noLog: boolean,
  scope: Scope,
): Omit<HostTaskResult, 'durationMs'> {
  const { result, registered } = attempt;
  const status = statusOf(registered);
  const delegate = delegateOf(rc, task, host, vars);
  if ((result.facts || result.authoredVars) && status !== 'failed') {
    // delegate_facts: the facts belong to the delegated host (when the inventory has it).
    const owner = task.delegateFacts && delegate && rc.inventory.hosts().includes(delegate) ? delegate : host;
    if (!rc.hosts.has(owner)) rc.hosts.set(owner, newHostState());
    const state = rc.hosts.get(owner)!;
    if (result.facts) setFacts(state, result.facts);
    if (result.authoredVars) setFacts(state, result.authoredVars, Object.keys(result.authoredVars));
  }
  // A failure may have changed something (a command that ran and exited non-zero), as Ansible reports it.
  const changed = status === 'changed' || (status === 'failed' && registered.changed === true);
  const out: Omit<HostTaskResult, 'durationMs'> = { status, changed };
  if (delegate) out.delegatedTo = delegate;
  const msg = registered.msg as string | undefined;
  if (noLog) {
    out.msg = NO_LOG_MSG;
  } else {
    if (msg) out.msg = rc.secrets.mask(check && status === 'changed' ? predicted(msg) : msg);
    if (result.diff && diffWanted(rc, task, scope)) out.diff = rc.secrets.maskDeep(result.diff);
    if (result.data) out.data = rc.secrets.maskDeep(plain(result.data) as Vars);
    if (result.details !== undefined) out.details = rc.secrets.maskDeep(plain(result.details));
  }
  if (result.warnings) out.warnings = result.warnings.map((w) => rc.secrets.mask(w));
  if (result.verbosity !== undefined && !noLog) out.verbosity = result.verbosity;
  if (result.outcomeFile) out.outcomeFile = result.outcomeFile;
  if (check) out.checkMode = true;
  if (status === 'failed' && staticSettings(rc.options, { checkMode: undefined }, task, scope).ignoreErrors)
    out.ignored = true;
  return register(rc, host, task, registered, out);
}

function register<T>(rc: RunContext, host: string, task: TaskNode, registered: Vars, out: T): T {
  if (task.register) setFacts(rc.hosts.get(host)!, { [task.register]: rc.secrets.maskDeep(registered) });
  return out;
}

/** A human message for an exception thrown while running a task (template errors name the task and place). */
function describe(rc: RunContext, task: TaskNode, e: unknown): string {
  const where = `${task.pos.file}:${task.pos.line}:${task.pos.col}`;
  const what = e instanceof Error ? e.message : String(e);
  const name = task.name ? `task '${task.name}'` : `the ${task.module} task`;
  return rc.secrets.mask(`${what} (in ${name} at ${where})`);
}

/** with_items: lists inside the loop's list are flattened one level (anything else is left for the caller). */
export function flattenOnce(items: unknown): unknown {
  return Array.isArray(items) ? items.flatMap((i) => (Array.isArray(i) ? i : [i])) : items;
}
