// Ansible's linear strategy: each task runs on every active host of the batch (up to --forks at once),
// and all hosts finish it before the next task starts. A failed host stops for that host only.
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { Connection } from '../connection/connection.js';
import { UnreachableError } from '../connection/connection.js';
import { openConnection } from '../connection/factory.js';
import type { BlockNode, IncludeNode, Node, Play, TaskNode, Vars } from '../core/model.js';
import { ANSIBLE_COMPAT_VERSION, VERSION } from '../core/version.js';
import { loadRuntimeRole, loadTaskFile } from '../load/playbook.js';
import { resolveModule } from '../modules/index.js';
import type { ModuleResult } from '../modules/module.js';
import { forEachLimit, Mutex } from './concurrency.js';
import {
  authoredFacts,
  type HostState,
  hostData,
  newHostState,
  type RunContext,
  setFacts,
} from './context.js';
import { hostConnectionSpec, playConnectionVars } from './early-connections.js';
import { gatherPlayFacts } from './facts.js';
import { loopItemsProblem } from './loop-items.js';
import { loopControlVars } from './loop-vars.js';
import type { HostTaskResult, TaskInfo, TaskReport } from './results.js';
import { childScope, roleScope, type Scope } from './scope.js';
import { playbookSteps, type StepInfo, type StepReport } from './steps.js';
import { tagsSelected } from './tags.js';
import { type FreshConnection, flattenOnce, runTaskOnHost, type TaskHooks, truthy } from './task-runner.js';
import { dataBelow, lazyVars, OMIT, plain, withData } from './vars.js';

/**
 * One terminal per process: operator prompts take turns across hosts, plays and the playbook runs of
 * several sites at once (a rollout with --serial above 1), so two questions never share the screen.
 */
const operatorPrompts = new Mutex();

/** Thrown inside a play to stop it (any_errors_fatal, max_fail_percentage). */
class PlayAborted extends Error {}

export class PlayRunner {
  private started: boolean;
  private readonly includeCache = new Map<string, Promise<Node[]>>();
  private batch: string[] = [];
  private playIndex = 0;
  private currentPlay: Play | undefined;
  /** The play's hosts (ansible_play_hosts_all); those not failed are ansible_play_hosts. */
  private playHosts: string[] = [];
  /** meta end_play: the remaining batches of the play do not run. */
  private playEnded = false;
  private readonly steps: StepInfo[];

  constructor(private readonly rc: RunContext) {
    this.started = !rc.options.startAtTask;
    this.steps = playbookSteps(rc.playbook);
  }

  /** Runs one play on its hosts, batch by batch (serial). */
  async runPlay(play: Play, index: number, hosts: string[]): Promise<void> {
    this.playIndex = index;
    this.currentPlay = play;
    this.playHosts = hosts;
    const check = play.checkMode ?? this.rc.options.check;
    this.rc.listener.playStart(play.name, hosts, check);
    this.playEnded = false;
    for (const h of hosts) this.state(h).ended = false;
    for (const batch of batches(ordered(hosts, play.order), play.serial)) {
      if (this.playEnded) break;
      this.batch = batch;
      const scope: Scope = { when: [], tags: [...play.tags], vars: {}, silent: false };
      if (play.diff !== undefined) scope.diff = play.diff;
      if (play.throttle !== undefined) scope.throttle = play.throttle;
      if (play.become !== undefined) scope.become = play.become;
      if (play.becomeUser !== undefined) scope.becomeUser = play.becomeUser;
      if (play.environment !== undefined) scope.environment = play.environment;
      try {
        await this.gatherFacts(play, batch, scope);
        await this.runSteps(play, index, batch, scope);
      } catch (e) {
        if (!(e instanceof PlayAborted)) throw e;
        this.rc.listener.warn(e.message);
      }
      await this.runHandlers(play, batch, scope);
      if (this.rc.abort.signal.aborted) return;
    }
  }

  /** gather_facts: Ansible's implicit "Gathering Facts" task before the batch's first task (rules in facts.ts). */
  private async gatherFacts(play: Play, batch: string[], scope: Scope): Promise<void> {
    const startAt = this.started ? undefined : this.rc.options.startAtTask;
    await gatherPlayFacts(
      this.rc,
      play,
      batch.filter((h) => this.active(h)),
      startAt,
      async (task, hosts) => {
        // As in Ansible, a play that holds the --start-at-task task gathers facts before it: not skipped here.
        const started = this.started;
        this.started = true;
        try {
          await this.runTask(play, task, hosts, scope);
        } finally {
          this.started = started;
        }
      },
    );
  }

  /** The play's top-level entries, each reported as a step (start, end, outcome in the run report). */
  private async runSteps(play: Play, playIndex: number, hosts: string[], scope: Scope): Promise<void> {
    const steps = this.steps.filter((s) => s.playIndex === playIndex);
    for (const [i, node] of play.tasks.entries()) {
      if (this.rc.abort.signal.aborted) return;
      const live = hosts.filter((h) => this.active(h));
      if (live.length === 0) return;
      const step = steps[i]!;
      const report = this.stepReport(step);
      // --resume: the step runs only on the hosts it was not done on.
      const doneOn = this.rc.options.skipSteps?.get(step.id);
      const runOn = doneOn ? live.filter((h) => !doneOn.has(h)) : live;
      if (runOn.length === 0) {
        report.status = 'skipped';
        this.rc.listener.stepEnd?.(step, report);
        continue;
      }
      const tasksBefore = this.rc.report.tasks.length;
      const startedAt = new Date().toISOString();
      this.rc.listener.stepStart?.(step, runOn);
      try {
        await this.runNodes(play, [node], runOn, scope);
      } finally {
        // A step none of whose tasks ran (tags, --start-at-task) keeps its earlier outcome: not run.
        const ran = this.rc.report.tasks.length > tasksBefore;
        const failed = runOn.filter((h) => this.broken(h));
        if (ran || failed.length > 0) {
          report.startedAt ??= startedAt;
          report.finishedAt = new Date().toISOString();
          const aborted = this.rc.abort.signal.aborted;
          report.hosts ??= {};
          for (const h of runOn)
            report.hosts[h] = failed.includes(h) ? 'failed' : aborted ? 'interrupted' : 'done';
          if (aborted) {
            if (report.status !== 'failed') report.status = 'interrupted';
          } else if (failed.length > 0) {
            report.status = 'failed';
            report.failedHosts = [...new Set([...(report.failedHosts ?? []), ...failed])];
          } else if (report.status === 'not run' || report.status === 'skipped') {
            report.status = 'done';
          }
          this.rc.listener.stepEnd?.(step, report);
        }
      }
    }
  }

  private stepReport(step: StepInfo): StepReport {
    this.rc.report.steps ??= [];
    const steps = this.rc.report.steps;
    let r = steps.find((s) => s.id === step.id);
    if (!r) {
      r = { id: step.id, play: step.play, name: step.name, status: 'not run' };
      steps.push(r);
    }
    return r;
  }

  private playHostsActive(): string[] {
    return this.playHosts.filter((h) => !this.broken(h));
  }

  private active(host: string): boolean {
    const s = this.state(host);
    return !s.failed && !s.unreachable && !s.ended;
  }

  private broken(host: string): boolean {
    const s = this.state(host);
    return s.failed || s.unreachable;
  }

  private state(host: string): HostState {
    return this.rc.hosts.get(host)!;
  }

  private async runNodes(play: Play, nodes: Node[], hosts: string[], scope: Scope): Promise<void> {
    for (const node of nodes) {
      if (this.rc.abort.signal.aborted) return;
      const live = hosts.filter((h) => this.active(h));
      if (live.length === 0) return;
      if (node.kind === 'task') await this.runTask(play, node, live, scope);
      else if (node.kind === 'block') await this.runBlock(play, node, live, scope);
      else await this.runInclude(play, node, live, scope);
    }
  }

  private async runBlock(play: Play, block: BlockNode, hosts: string[], parent: Scope): Promise<void> {
    const scope = childScope(parent, block);
    const firstTask = this.rc.report.tasks.length;
    await this.runNodes(play, block.block, hosts, scope);
    const failed = hosts.filter((h) => this.state(h).failed && !this.state(h).unreachable);
    if (block.rescue.length > 0 && failed.length > 0) {
      for (const h of failed) {
        // Ansible: a rescued failure is counted as rescued, not failed (reports say so too: JUnit).
        this.state(h).failed = false;
        for (const t of this.rc.report.tasks.slice(firstTask)) {
          const r = t.hosts[h];
          if (r?.status === 'failed' && !r.ignored) r.rescued = true;
        }
        const st = this.rc.stats.get(h)!;
        st.failed = Math.max(0, st.failed - 1);
        st.rescued++;
      }
      await this.runNodes(play, block.rescue, failed, { ...scope, rescue: true });
    }
    if (block.always.length > 0) {
      // always runs for hosts that failed too; they stay failed afterwards.
      const stillFailed = hosts.filter((h) => this.state(h).failed && !this.state(h).unreachable);
      for (const h of stillFailed) this.state(h).failed = false;
      await this.runNodes(play, block.always, hosts, scope);
      for (const h of stillFailed) this.state(h).failed = true;
    }
  }

  private async runInclude(play: Play, inc: IncludeNode, hosts: string[], parent: Scope): Promise<void> {
    const scope = childScope(parent, inc);
    if (!tagsSelected(scope.tags, this.rc.options.tags) && inc.tags.length > 0) return;
    // The file name and the loop may be templated per host. As Ansible does, hosts that include the same
    // file for the same item run it together; the groups run in the order their first host met them.
    const groups = new Map<
      string,
      { file: string; item?: { value: unknown; extras: Vars }; hosts: string[] }
    >();
    for (const h of hosts) {
      try {
        const vars = this.templateVars(h, scope);
        const items = inc.loop === undefined ? undefined : this.includeItems(inc, vars);
        // As Ansible counts it: an include whose every item is skipped (or that has none) is one skipped task.
        let included = false;
        for (const [index, item] of (items ?? [undefined]).entries()) {
          // With a loop, `when` and the file name are evaluated per item, as Ansible does.
          const extras = items ? loopControlVars(inc.loopControl, items, index) : {};
          const itemVars = items ? withData(vars, { [inc.loopVar]: item, ...extras }) : vars;
          if (!scope.when.every((c) => truthy(this.rc.templar.evaluate(c, itemVars)))) continue;
          included = true;
          const file = String(this.rc.templar.render(inc.file, itemVars));
          // An item the host already has in that group (a repeated item) runs again, in a later group.
          const base = items ? `${file}\0${JSON.stringify(item)}\0${JSON.stringify(extras)}` : file;
          let key = base;
          for (let n = 1; groups.get(key)?.hosts.includes(h); n++) key = `${base}\0${n}`;
          const group = groups.get(key) ?? {
            file,
            ...(items ? { item: { value: item, extras } } : {}),
            hosts: [],
          };
          group.hosts.push(h);
          groups.set(key, group);
        }
        if (!included) this.rc.stats.get(h)!.skipped++;
      } catch (e) {
        this.failHost(h, `include_tasks: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    for (const { file, item, hosts: groupHosts } of groups.values()) {
      const nodes =
        inc.tasks && !inc.file.includes('{{')
          ? inc.tasks
          : inc.includeRole
            ? await this.loadRole(play, inc, file)
            : await this.loadInclude(inc, file);
      const inner: Scope = {
        ...scope,
        when: [],
        ...(item ? { data: { ...scope.data, [inc.loopVar]: item.value, ...item.extras } } : {}),
      };
      const alive = groupHosts.filter((h) => !this.state(h).failed && !this.state(h).unreachable);
      // Ansible counts each file include_tasks includes as ok once per host and item (include_role not).
      if (!inc.includeRole) for (const h of alive) this.rc.stats.get(h)!.ok++;
      await this.runNodes(play, nodes, alive, inner);
    }
  }

  /** The rendered loop list of an include_tasks for one host. */
  private includeItems(inc: IncludeNode, vars: Vars): unknown[] {
    const rendered = this.rc.templar.render(inc.loop, vars);
    const items = inc.loopFlatten ? flattenOnce(rendered) : rendered;
    const problem = loopItemsProblem(items, (v) => JSON.stringify(plain(v)) ?? String(v));
    if (problem !== undefined || !Array.isArray(items))
      throw new Error(`${problem} (at ${inc.pos.file}:${inc.pos.line}:${inc.pos.col})`);
    return plain(items) as unknown[];
  }

  private loadInclude(inc: IncludeNode, file: string): Promise<Node[]> {
    const candidates = isAbsolute(file)
      ? [file]
      : [
          join(dirname(inc.pos.file), file),
          join(this.rc.playbookDir, 'tasks', file),
          join(this.rc.playbookDir, '..', 'tasks', file),
        ];
    const found = candidates.find((c) => existsSync(c)) ?? resolve(candidates[0]!);
    const cached = this.includeCache.get(found);
    if (cached) return cached;
    const loading = loadTaskFile(found, { playbookDir: this.rc.playbookDir });
    this.includeCache.set(found, loading);
    return loading;
  }

  /** include_role with a templated name: the role loaded once per rendered name; its handlers join the play's. */
  private async loadRole(play: Play, inc: IncludeNode, name: string): Promise<Node[]> {
    const key = `role\0${JSON.stringify({ ...inc.includeRole, name })}`;
    let loading = this.includeCache.get(key);
    if (!loading) {
      loading = loadRuntimeRole({ ...inc.includeRole, name }, inc.pos, this.rc.playbookDir).then((r) => {
        const known = new Set(play.handlers.map((h) => h.pos.file));
        play.handlers.push(...r.handlers.filter((h) => !known.has(h.pos.file)));
        return r.block ? [r.block] : [];
      });
      this.includeCache.set(key, loading);
    }
    return loading;
  }

  private failHost(host: string, msg: string): void {
    this.state(host).failed = true;
    this.rc.stats.get(host)!.failed++;
    this.rc.listener.warn(`${host}: ${this.rc.secrets.mask(msg)}`);
  }

  private taskInfo(task: TaskNode, handler: boolean, hosts: string[] = [], scope?: Scope): TaskInfo {
    return {
      name: this.displayName(task, hosts[0], scope),
      module: task.module,
      pos: task.pos,
      handler,
      play: this.playIndex,
    };
  }

  /**
   * A templated task name is shown rendered, as Ansible does, with the first host's variables; a name that
   * cannot be rendered yet (a variable registered later) stays as written. Secrets in it are masked.
   */
  private displayName(task: TaskNode, host: string | undefined, scope: Scope | undefined): string {
    const raw = task.name ?? task.module;
    if (!raw.includes('{{') || host === undefined || scope === undefined) return raw;
    try {
      const vars = this.templateVars(host, scope, task.vars);
      return this.rc.secrets.mask(String(this.rc.templar.render(raw, vars)));
    } catch {
      return raw;
    }
  }

  private async runTask(
    play: Play,
    task: TaskNode,
    hosts: string[],
    scope: Scope,
    handler = false,
  ): Promise<void> {
    // Ansible flushes handlers whatever the tags, and a flush has no host result of its own.
    if (task.module === 'meta' && task.args.free_form === 'flush_handlers') {
      await this.runHandlers(play, this.batch, scope);
      return;
    }
    if (!handler) {
      if (!this.started) {
        if (task.name !== this.rc.options.startAtTask) return;
        this.started = true;
      }
      if (!tagsSelected([...scope.tags, ...task.tags], this.rc.options.tags)) return;
    }
    // run_once: the first host runs it for the batch (Ansible's order: the batch's first active host).
    // A module that bypasses the host loop (pause) runs so too, as in Ansible.
    const runOnce = task.runOnce || resolveModule(task.module)?.runOnce === true;
    const runHosts = runOnce ? hosts.slice(0, 1) : hosts;
    const factsBefore = runOnce && runHosts[0] ? { ...this.state(runHosts[0]).facts } : undefined;
    const info = this.taskInfo(task, handler, runHosts, scope);
    // --step: the operator says whether the task runs (as Ansible's (N)o/(y)es/(c)ontinue); 'no' leaves it out.
    const step = this.rc.options.step;
    if (step) {
      const answer = await step(info.name);
      if (answer === 'no') return;
      if (answer === 'continue') delete this.rc.options.step;
    }
    const report: TaskReport = {
      task: info.name,
      module: task.module,
      file: task.pos.file,
      line: task.pos.line,
      play: play.name,
      handler,
      hosts: {},
    };
    this.rc.report.tasks.push(report);
    this.rc.listener.taskStart(info, runHosts);
    const hooks = this.hooks(play);
    let newlyFailed = 0;
    const throttle = task.throttle ?? scope.throttle;
    const limit = throttle === undefined ? this.rc.options.forks : Math.min(throttle, this.rc.options.forks);
    await forEachLimit(runHosts, limit, async (host) => {
      const result = await runTaskOnHost(this.rc, play, task, host, scope, info, hooks);
      report.hosts[host] = result;
      if (this.record(host, task, result)) newlyFailed++;
      this.rc.listener.hostResult(info, host, result);
    });
    await this.rc.listener.taskEnd(info);
    if (factsBefore && runHosts[0]) this.shareRunOnce(runHosts[0], factsBefore, hosts.slice(1));
    if (task.module === 'meta') this.metaAction(String(task.args.free_form), report);
    if (newlyFailed > 0) this.checkFailureLimits(play, task, task.anyErrorsFatal ?? scope.anyErrorsFatal);
  }

  /** meta's action, for the hosts where it applied (its `when:` held). */
  private metaAction(action: string, report: TaskReport): void {
    const applied = Object.entries(report.hosts)
      .filter(([, r]) => r.status === 'ok')
      .map(([h]) => h);
    if (applied.length === 0) return;
    if (action === 'end_host') for (const h of applied) this.state(h).ended = true;
    if (action === 'end_batch' || action === 'end_play')
      for (const h of this.batch) if (!this.broken(h)) this.state(h).ended = true;
    if (action === 'end_play') this.playEnded = true;
    if (action === 'clear_host_errors') for (const h of this.batch) this.state(h).failed = false;
  }

  /** What a run_once task registered or set (set_fact) on its host, given to the rest of the batch. */
  private shareRunOnce(from: string, before: Vars, to: string[]): void {
    const after = this.state(from).facts;
    const changed = Object.keys(after).filter((k) => after[k] !== before[k]);
    for (const h of to)
      setFacts(
        this.state(h),
        Object.fromEntries(changed.map((k) => [k, after[k]])),
        changed.filter((k) => this.state(from).authored.has(k)),
      );
  }

  /** Updates stats and host state; returns true when the host newly failed. */
  private record(host: string, task: TaskNode, r: HostTaskResult): boolean {
    const st = this.rc.stats.get(host)!;
    const state = this.state(host);
    switch (r.status) {
      case 'unreachable':
        st.unreachable++;
        state.unreachable = true;
        return true;
      case 'failed':
        if (r.ignored) {
          // Ansible counts an ignored failure as ok too (and changed when it changed something).
          st.ok++;
          st.ignored++;
          if (r.changed) st.changed++;
          return false;
        }
        st.failed++;
        state.failed = true;
        state.lastFailure = {
          task: { name: task.name ?? task.module, action: task.module, args: task.args },
          result: { ...r.data, failed: true, changed: r.changed, ...(r.msg ? { msg: r.msg } : {}) },
        };
        return true;
      case 'skipped':
        st.skipped++;
        return false;
      case 'changed':
        st.ok++;
        st.changed++;
        for (const n of task.notify) state.notified.add(n);
        return false;
      default:
        st.ok++;
        return false;
    }
  }

  private checkFailureLimits(play: Play, task: TaskNode, anyErrorsFatal?: boolean): void {
    const failed = this.batch.filter((h) => !this.active(h)).length;
    if (anyErrorsFatal ?? play.anyErrorsFatal) {
      for (const h of this.batch) if (this.active(h)) this.state(h).failed = true;
      throw new PlayAborted(
        `any_errors_fatal: play '${play.name}' stopped after task '${task.name ?? task.module}' failed`,
      );
    }
    if (play.maxFailPercentage !== undefined && (failed / this.batch.length) * 100 > play.maxFailPercentage) {
      for (const h of this.batch) if (this.active(h)) this.state(h).failed = true;
      throw new PlayAborted(
        `max_fail_percentage ${play.maxFailPercentage}% exceeded (${failed} of ${this.batch.length} hosts failed): play '${play.name}' stopped`,
      );
    }
  }

  private async runHandlers(play: Play, hosts: string[], scope: Scope): Promise<void> {
    // Handlers run once, in the order they are defined, for the hosts that notified them; a handler
    // may notify a later one.
    const eligible = (h: string) =>
      this.rc.options.forceHandlers ? !this.state(h).unreachable : this.active(h);
    // Every handler whose name or `listen` topic was notified runs (several may listen on one topic), so
    // the notifications are cleared once the flush is over, not by the first handler that matches.
    const consumed: { hosts: string[]; names: string[] }[] = [];
    for (const handler of play.handlers) {
      const names = [handler.name ?? '', ...handlerListen(handler)].filter((n) => n !== '');
      const notified = hosts.filter((h) => eligible(h) && names.some((n) => this.state(h).notified.has(n)));
      if (notified.length === 0) continue;
      consumed.push({ hosts: notified, names });
      if (this.rc.options.forceHandlers) for (const h of notified) this.state(h).failed = false;
      await this.runTask(play, handler, notified, roleScope(scope, handler.role), true);
    }
    for (const { hosts: done, names } of consumed)
      for (const h of done) for (const n of names) this.state(h).notified.delete(n);
  }

  private hooks(play: Play): TaskHooks {
    return {
      connection: (host, fresh) => this.connection(host, fresh),
      delegateConnection: (host, fresh) => this.delegateConnection(host, fresh),
      templateVars: (host, scope, taskVars) => this.templateVars(host, scope, taskVars),
      confirm: (info, host, question) =>
        operatorPrompts.run(() => this.rc.listener.confirm(info, host, question)),
      runNested: (host, nodes, scope, extraVars) => this.runNested(play, host, nodes, scope, extraVars),
    };
  }

  /** Runs nested tasks (manual's verify) on one host without progress output; host failure is not recorded. */
  private async runNested(
    play: Play,
    host: string,
    nodes: Node[],
    parent: Scope,
    extraVars?: Vars,
  ): Promise<{ ok: boolean; results: ModuleResult[] }> {
    const scope: Scope = { ...parent, when: [], vars: { ...parent.vars, ...extraVars }, silent: true };
    const results: ModuleResult[] = [];
    const hooks = this.hooks(play);
    const walk = async (list: Node[]): Promise<boolean> => {
      for (const node of list) {
        if (node.kind === 'task') {
          const info = this.taskInfo(node, false);
          const r = await runTaskOnHost(this.rc, play, node, host, scope, info, hooks);
          results.push({
            changed: r.changed,
            failed: r.status === 'failed' || r.status === 'unreachable',
            skipped: r.status === 'skipped',
            ...(r.msg ? { msg: r.msg } : {}),
          });
          if ((r.status === 'failed' && !r.ignored) || r.status === 'unreachable') return false;
        } else if (node.kind === 'block') {
          if (!(await walk(node.block))) return false;
        } else if (node.tasks) {
          if (!(await walk(node.tasks))) return false;
        }
      }
      return true;
    };
    const ok = await walk(nodes);
    return { ok, results };
  }

  /**
   * What templates see on a host, templated lazily: everything up to facts, with a task's own vars below
   * registered results and set_fact (Ansible's order), and extra vars on top.
   */
  templateVars(host: string, scope: Scope, taskVars: Vars = {}): Vars {
    const taskScope = { ...scope, vars: { ...scope.vars, ...taskVars } };
    const state = this.state(host);
    const extra = this.rc.options.extraVars;
    const source = { ...this.varsFor(host, taskScope), ...authoredFacts(state), ...extra };
    const failure =
      scope.rescue && state.lastFailure
        ? { ansible_failed_task: state.lastFailure.task, ansible_failed_result: state.lastFailure.result }
        : {};
    const data = dataBelow(
      { hostvars: this.hostvars(), ...scope.data, ...failure, ...hostData(state) },
      extra,
    );
    return lazyVars(source, this.rc.templar, data);
  }

  /** Everything below registered results and set_fact: what the author wrote (rendered when read). */
  private varsFor(host: string, scope: Scope): Vars {
    const inv = this.rc.inventory;
    return {
      // Role defaults are the lowest of all variables (Ansible's order).
      ...this.currentPlay?.roleDefaults,
      ...scope.roleDefaults,
      ...inv.hostVars(host),
      ...inv.magicVars(host),
      playbook_dir: this.rc.playbookDir,
      ansible_check_mode: this.rc.options.check,
      ansible_diff_mode: this.rc.options.diff,
      ansible_play_batch: this.batch,
      ansible_play_hosts: this.playHostsActive(),
      play_hosts: this.playHostsActive(),
      ansible_play_hosts_all: this.playHosts,
      ansible_play_name: this.currentPlay?.name ?? '',
      ansible_run_tags: this.rc.options.tags.only.length > 0 ? this.rc.options.tags.only : ['all'],
      ansible_skip_tags: this.rc.options.tags.skip,
      ansible_version: ansibleVersion(),
      omit: OMIT,
      ansible_forks: this.rc.options.forks,
      ewsplay_site: this.rc.options.site ?? 'default',
      ewsplay_resume: this.rc.options.resume === true,
      ...this.currentPlay?.vars,
      ...this.rc.playVarsFiles,
      ...this.currentPlay?.roleVars,
      ...scope.roleVars,
      ...scope.vars,
    };
  }

  private hostvarsProxy: Vars | undefined;
  private hostvars(): Vars {
    // hostvars[other] gives another host's inventory vars and facts, computed on access only.
    this.hostvarsProxy ??= new Proxy(
      {},
      {
        get: (_t, key) => {
          if (typeof key !== 'string' || !this.inventoryHost(key)) return undefined;
          // Hosts outside --limit have their inventory variables too (Ansible's hostvars has every host).
          const state = this.rc.hosts.get(key) ?? newHostState();
          const inv = this.rc.inventory;
          const source = { ...inv.hostVars(key), ...inv.magicVars(key), ...authoredFacts(state) };
          return lazyVars(source, this.rc.templar, hostData(state));
        },
        has: (_t, key) => typeof key === 'string' && this.inventoryHost(key),
        ownKeys: () => [...new Set([...this.rc.inventory.hosts(), ...this.rc.hosts.keys()])],
        getOwnPropertyDescriptor: (_t, key) =>
          typeof key === 'string' && this.inventoryHost(key)
            ? { enumerable: true, configurable: true }
            : undefined,
      },
    );
    return this.hostvarsProxy;
  }

  private inventoryHost(name: string): boolean {
    return this.rc.hosts.has(name) || this.rc.inventory.hosts().includes(name);
  }

  /** The host's connection, opened once and kept; `fresh` replaces it (wait_for_connection's retries). */
  private connection(host: string, fresh?: FreshConnection): Promise<Connection> {
    const play = this.currentPlay ? playConnectionVars(this.currentPlay) : {};
    if (Object.keys(play).length > 0) {
      // The play's connection / remote_user / port, where the inventory sets nothing (its variables win).
      const key = `${host}\0${JSON.stringify(play)}`;
      let conn = this.rc.extraConnections.get(key);
      if (!conn || fresh) {
        dropConnection(conn);
        conn = this.openConnection(host, { ...play, ...this.rc.inventory.hostVars(host) }, fresh);
        this.rc.extraConnections.set(key, conn);
      }
      return conn;
    }
    const state = this.state(host);
    if (fresh) dropConnection(state.connection);
    if (!state.connection || fresh)
      state.connection = this.openConnection(host, this.rc.inventory.hostVars(host), fresh);
    return state.connection;
  }

  /**
   * delegate_to's target: an inventory host shares its own connection; another name gets one of its own,
   * kept for the run (localhost is Ansible's implicit local host; any other name is reached over SSH with
   * no inventory variables, as Ansible does).
   */
  private delegateConnection(host: string, fresh?: FreshConnection): Promise<Connection> {
    if (this.rc.hosts.has(host)) return this.connection(host, fresh);
    let conn = this.rc.extraConnections.get(host);
    if (!conn || fresh) {
      dropConnection(conn);
      let vars: Vars = {};
      try {
        vars = this.rc.inventory.hostVars(host);
      } catch {
        // Not in the inventory: connection defaults.
      }
      conn = this.openConnection(host, vars, fresh);
      this.rc.extraConnections.set(host, conn);
    }
    return conn;
  }

  private async openConnection(host: string, hostVars: Vars, fresh?: FreshConnection): Promise<Connection> {
    const spec = hostConnectionSpec(host, hostVars, this.rc.templar, this.rc.options, (name) =>
      this.rc.hosts.has(host) ? this.rc.inventory.varSource(host, name) : undefined,
    );
    if (fresh?.connectTimeoutMs !== undefined) spec.connectTimeoutMs = fresh.connectTimeoutMs;
    try {
      // Opened while the playbook loaded (early-connections.ts), with these very settings; a fresh one never.
      const early = fresh ? undefined : this.rc.early?.take(spec);
      return await (early ??
        openConnection(spec, { signal: this.rc.abort.signal, secrets: this.rc.secrets }));
    } catch (e) {
      throw e instanceof UnreachableError
        ? e
        : new UnreachableError(e instanceof Error ? e.message : String(e));
    }
  }
}

/** Closes a connection that is being replaced (one that never opened has nothing to close). */
function dropConnection(conn: Promise<Connection> | undefined): void {
  conn?.then((c) => c.close()).catch(() => undefined);
}

function ansibleVersion(): Vars {
  const { major, minor, revision } = ANSIBLE_COMPAT_VERSION;
  const full = `${major}.${minor}.${revision}`;
  return { full, major, minor, revision, string: full, ewsplay: VERSION };
}

function handlerListen(handler: TaskNode): string[] {
  const listen = (handler as TaskNode & { listen?: string[] }).listen;
  return listen ?? [];
}

/** The play's hosts in the order its `order:` asks for (inventory order by default). */
export function ordered(hosts: string[], order: Play['order']): string[] {
  switch (order) {
    case 'reverse_inventory':
      return [...hosts].reverse();
    case 'sorted':
      return [...hosts].sort();
    case 'reverse_sorted':
      return [...hosts].sort().reverse();
    case 'shuffle': {
      const out = [...hosts];
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [out[i], out[j]] = [out[j]!, out[i]!];
      }
      return out;
    }
    default:
      return hosts;
  }
}

/** Splits hosts into serial batches (a number or a percentage); no serial: one batch. */
export function batches(
  hosts: string[],
  serial: number | string | (number | string)[] | undefined,
): string[][] {
  if (serial === undefined || hosts.length === 0) return [hosts];
  // A list gives the sizes of the first batches; its last size repeats (Ansible's `serial: [1, 5, '20%']`).
  const sizes = (Array.isArray(serial) ? serial : [serial]).map((s) =>
    typeof s === 'string' && s.endsWith('%')
      ? Math.max(1, Math.floor((hosts.length * Number.parseFloat(s)) / 100))
      : Math.max(1, Number(s)),
  );
  const out: string[][] = [];
  for (let i = 0, n = 0; i < hosts.length; n++) {
    const size = sizes[Math.min(n, sizes.length - 1)]!;
    out.push(hosts.slice(i, i + size));
    i += size;
  }
  return out;
}
