// A rollout: one playbook run per site, each with its own inventory, run context, connections, report,
// state and lock (only the secret masker is shared: masking more is harmless). Sites run --serial N at a
// time; a --canary site runs first and alone; --max-fail-sites N stops starting sites after N failed.
// A single inventory is a rollout of one site, so every run has history, state and a lock.
import { existsSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Playbook, Vars } from '../core/model.js';
import { ExitCode, UsageError } from '../core/problems.js';
import type { RolloutProgress } from '../core/progress.js';
import type { Secrets } from '../core/secrets.js';
import type { TemplateApi } from '../core/template-api.js';
import type { RunOptions } from '../engine/context.js';
import type { EarlyConnections } from '../engine/early-connections.js';
import type { RunListener } from '../engine/events.js';
import type { RunReport } from '../engine/results.js';
import { runPlaybook } from '../engine/run.js';
import { playbookSteps, type StepInfo, type StepReport } from '../engine/steps.js';
import type { Inventory } from '../inventory/inventory.js';
import { defaultReportPath, totalLine, writeJsonReport, writeJunit } from '../output/report.js';
import { allInOrder } from '../util/all-in-order.js';
import { checkWritableDir, checkWritableFile } from '../util/write-target.js';
import { acquireLock, type SiteLock } from './lock.js';
import type { SiteInventory } from './sites.js';
import {
  readState,
  recordMailboxes,
  recordPlaybook,
  recordStep,
  resumeSkips,
  type SiteResult,
  type SiteState,
  statePath,
  writeState,
} from './state.js';

/** What a run needs of a loaded site (the CLI's Project). */
export interface SiteProject {
  playbook: Playbook;
  inventory: Inventory;
  templar: TemplateApi;
  loadVarsFile: (file: string) => Promise<Vars>;
  /** Connections opened while it loaded, for the run to take (whoever loaded it closes them otherwise). */
  early?: EarlyConnections;
}

export interface RolloutInput {
  /** The project directory of the sites' inventory (see sites.ts): .ewsplay/{runs,state,locks} live under it. */
  root: string;
  sites: SiteInventory[];
  /** More than one site may be given: output is prefixed by site and ends with a summary table. */
  multi: boolean;
  serial: number;
  canary?: string;
  maxFailSites?: number;
  resume: boolean;
  options: RunOptions;
  secrets: Secrets;
  version: string;
  /** The command line, recorded in lock files. */
  command: string;
  abort: AbortController;
  load(site: SiteInventory): Promise<SiteProject>;
  /** Progress output of one site, written to `out` (prefixed by site name in a multi-site rollout). */
  listener(site: SiteInventory, out: NodeJS.WriteStream): RunListener;
  /** The rollout's own progress (sites done of total), told as sites start and end; the output shows it. */
  progress?(p: RolloutProgress): void;
  out: NodeJS.WriteStream;
  warn(message: string): void;
  /** Prints an error of one site (a UserError, a bug) and returns its exit code. */
  reportError(e: unknown): number;
  reportFile?: string;
  junitFile?: string;
}

export interface SiteOutcome {
  site: string;
  result: SiteResult;
  exitCode: number;
  changed: number;
  failed: number;
  report?: string;
  note?: string;
  /** The run's total line (output/report.ts totalLine), for a run that ran. */
  totals?: string;
}

export interface RolloutResult {
  outcomes: SiteOutcome[];
  exitCode: number;
}

/** From least to most severe: the rollout's exit code is its most severe site's. */
const SEVERITY: number[] = [
  ExitCode.ok,
  ExitCode.hostUnreachable,
  ExitCode.hostFailed,
  ExitCode.locked,
  ExitCode.usage,
  ExitCode.internal,
  ExitCode.interrupted,
];

export function worstExitCode(codes: number[]): number {
  return codes.reduce((a, b) => (SEVERITY.indexOf(b) > SEVERITY.indexOf(a) ? b : a), ExitCode.ok);
}

export function exitCodeOf(report: RunReport): number {
  if (report.interrupted) return ExitCode.interrupted;
  const stats = Object.values(report.stats);
  if (stats.some((s) => s.failed > 0)) return ExitCode.hostFailed;
  if (stats.some((s) => s.unreachable > 0)) return ExitCode.hostUnreachable;
  return ExitCode.ok;
}

const RESULT_OF: Record<number, SiteResult> = {
  [ExitCode.ok]: 'ok',
  [ExitCode.hostFailed]: 'failed',
  [ExitCode.hostUnreachable]: 'unreachable',
  [ExitCode.interrupted]: 'interrupted',
};

export async function runRollout(input: RolloutInput): Promise<RolloutResult> {
  const { sites, root } = input;
  if (input.multi && sites.length > 1 && (input.reportFile || input.junitFile))
    throw new UsageError(
      '--report and --junit name one file, but this rollout runs several sites',
      `leave them out: each site's report goes to .ewsplay/runs/SITE/; or pick one site with --sites`,
    );
  await checkFiles(input);
  // Everything is loaded and checked before any host is touched: inventories, playbook, locks, state files.
  const projects = new Map<string, SiteProject>();
  for (const site of sites) projects.set(site.name, await input.load(site));
  const outcomes = new Map<string, SiteOutcome>();
  const toRun = sites.filter((site) => {
    const limit = input.options.limit;
    if (!input.multi || !limit || projects.get(site.name)!.inventory.match(limit).length > 0) return true;
    outcomes.set(site.name, blank(site.name, 'skipped', `no host matches --limit ${limit}`));
    return false;
  });
  if (input.options.limit && toRun.length === 0)
    throw new UsageError(`--limit ${input.options.limit} matches no host in any site`, 'check the pattern');
  if (input.canary && !toRun.some((s) => s.name === input.canary))
    throw new UsageError(
      `--canary ${input.canary}: no host of that site matches --limit ${input.options.limit}`,
      'the canary must run: widen --limit or pick another canary',
    );
  const locks = takeLocks(input, toRun);
  const releaseAll = () => {
    for (const l of locks) l.release();
  };
  process.on('exit', releaseAll);
  const running: string[] = [];
  const startedAt = Date.now();
  const tell = () =>
    input.progress?.({
      total: sites.length,
      done: outcomes.size,
      failed: [...outcomes.values()].filter(isFailure).length,
      running: [...running],
      startedAt,
    });
  try {
    // Read under the lock, so no other run changes a state file between this read and our writes.
    const states = new Map<string, SiteState>();
    for (const site of toRun) states.set(site.name, await siteState(root, site));
    const run = async (site: SiteInventory): Promise<SiteOutcome> => {
      running.push(site.name);
      tell();
      const outcome = await runSite(input, site, projects.get(site.name)!, states.get(site.name)!);
      running.splice(running.indexOf(site.name), 1);
      outcomes.set(site.name, outcome);
      tell();
      return outcome;
    };
    tell();
    const queue = [...toRun];
    if (input.canary) {
      const canary = queue.splice(
        queue.findIndex((s) => s.name === input.canary),
        1,
      )[0]!;
      const outcome = await run(canary);
      if (outcome.exitCode !== ExitCode.ok) {
        for (const s of queue)
          outcomes.set(s.name, blank(s.name, 'not run', `canary ${canary.name} did not succeed`));
        queue.length = 0;
        tell();
      }
    }
    let failed = [...outcomes.values()].filter(isFailure).length;
    const worker = async () => {
      for (;;) {
        const site = queue.shift();
        if (!site) return;
        const stopped = input.abort.signal.aborted
          ? 'interrupted before it started'
          : input.maxFailSites !== undefined && failed >= input.maxFailSites
            ? `stopped: ${failed} site${failed === 1 ? '' : 's'} failed (--max-fail-sites ${input.maxFailSites})`
            : undefined;
        if (stopped) {
          outcomes.set(site.name, blank(site.name, 'not run', stopped));
          tell();
          continue;
        }
        const outcome = await run(site);
        if (isFailure(outcome)) failed++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(input.serial, Math.max(1, queue.length)) }, worker));
  } finally {
    releaseAll();
    process.off('exit', releaseAll);
  }
  const ordered = sites.map((s) => outcomes.get(s.name)!);
  if (input.multi) input.out.write(`\n${renderSummary(ordered)}\n`);
  return { outcomes: ordered, exitCode: worstExitCode(ordered.map((o) => o.exitCode)) };
}

/**
 * Everything the run will write, checked before anything is loaded or any host touched: reports, JUnit,
 * state and lock directories. A device, a directory, /proc, a read-only or full file system: exit 2 now
 * rather than a crash halfway through the rollout.
 */
async function checkFiles(input: RolloutInput): Promise<void> {
  const dot = join(input.root, '.ewsplay');
  // All at once (each writes and syncs a probe file): the first problem in this order is the one told.
  const checks: Promise<void>[] = [checkWritableDir('lock directory', join(dot, 'locks'))];
  if (!input.options.check) checks.push(checkWritableDir('state directory', join(dot, 'state')));
  for (const site of input.sites) {
    const state = statePath(input.root, site.name);
    if (!input.options.check && existsSync(state)) checks.push(checkWritableFile('state file', state));
    if (!input.reportFile) checks.push(checkWritableDir('report directory', join(dot, 'runs', site.name)));
  }
  if (input.reportFile) checks.push(checkWritableFile('--report', input.reportFile));
  if (input.junitFile) checks.push(checkWritableFile('--junit', input.junitFile));
  await allInOrder(checks);
}

/** The site's state; refused when it is another inventory's (two inventories with one name). */
async function siteState(root: string, site: SiteInventory): Promise<SiteState> {
  const state = await readState(root, site.name);
  const recorded = state.inventory;
  if (recorded && site.identity.length > 0 && JSON.stringify(recorded) !== JSON.stringify(site.identity))
    throw new UsageError(
      `site '${site.name}' of ${root} is the inventory ${recorded.join(', ')}, not ${site.identity.join(', ')}: two inventories of one project have the same site name`,
      `rename one of them (a site is named after its directory, an inventory file after its path), or move ${statePath(root, site.name)} aside if the inventory moved`,
    );
  if (site.identity.length > 0) state.inventory = site.identity;
  return state;
}

function blank(site: string, result: SiteOutcome['result'], note: string): SiteOutcome {
  return { site, result, exitCode: ExitCode.ok, changed: 0, failed: 0, note };
}

function isFailure(o: SiteOutcome): boolean {
  return o.exitCode !== ExitCode.ok;
}

/** Every lock first, so a rollout never stops halfway because someone else runs one of its sites. */
function takeLocks(input: RolloutInput, sites: SiteInventory[]): SiteLock[] {
  const locks: SiteLock[] = [];
  try {
    for (const site of sites) locks.push(acquireLock(input.root, site.name, input.command, input.warn));
  } catch (e) {
    for (const l of locks) l.release();
    throw e;
  }
  return locks;
}

async function runSite(
  input: RolloutInput,
  site: SiteInventory,
  project: SiteProject,
  state: SiteState,
): Promise<SiteOutcome> {
  const { root, secrets } = input;
  const out = input.multi ? prefixed(input.out, site.name) : input.out;
  const steps = playbookSteps(project.playbook);
  const skip = input.resume ? resumeSkips(state, steps) : new Map<string, Set<string>>();
  if (input.resume) {
    const done = steps.filter((s) => skip.has(s.id));
    const first = steps.find((s) => !skip.has(s.id));
    out.write(
      done.length === 0
        ? '--resume: no step done before on these hosts: running every step\n'
        : `--resume: skipping what is done, on the hosts it was done on: ${done
            .map((s) => `${s.id} (${[...skip.get(s.id)!].sort().join(', ')})`)
            .join('; ')}\n--resume: ${first ? `resuming at '${first.id}'` : 'every step is done'}\n`,
    );
  }
  const startedAt = new Date().toISOString();
  const reportFile = input.reportFile ?? defaultReportPath(root, site.name, startedAt);
  const reportRel = shown(root, reportFile);
  const playbookRel = shown(root, project.playbook.file);
  const record = !input.options.check;
  if (record) recordPlaybook(state, playbookRel, steps);
  // Writes are chained; one queued write serializes the state as it is when it runs, so steps that end
  // while a write is in flight share the next write instead of queueing one each.
  // A write that fails (disk full, read-only) is told once; the run goes on (stopping a migration halfway
  // is worse than not recording it), and later writes try again.
  let writes = Promise.resolve();
  let queued = false;
  let unsaved: string | undefined;
  const save = () => {
    if (queued) return;
    queued = true;
    writes = writes.then(async () => {
      queued = false;
      try {
        await writeState(root, state, secrets);
        if (unsaved) input.warn(`site '${site.name}': the state file is written again`);
        unsaved = undefined;
      } catch (e) {
        if (!unsaved)
          input.warn(
            `site '${site.name}': ${errorText(e)}: the run goes on, but what it does is not recorded for --resume and status until the state file can be written`,
          );
        unsaved = errorText(e);
      }
    });
  };
  const listener = withStepEnd(input.listener(site, out), (step, outcome) => {
    if (record && recordStep(state, playbookRel, step, outcome, reportRel, input.options.limit)) save();
  });
  const options: RunOptions = {
    ...input.options,
    site: site.name,
    skipSteps: skip,
    resume: input.resume,
    stateDir: join(root, '.ewsplay', 'state'),
  };
  let report: RunReport;
  try {
    report = await runPlaybook({
      playbook: project.playbook,
      inventory: project.inventory,
      inventorySources: site.sources,
      options,
      templar: project.templar,
      secrets,
      listener,
      version: input.version,
      abort: input.abort,
      loadVarsFile: project.loadVarsFile,
      ...(project.early ? { early: project.early } : {}),
    });
  } catch (e) {
    await writes;
    return { ...blank(site.name, 'error', 'see the error above'), exitCode: input.reportError(e) };
  }
  const code = exitCodeOf(report);
  report.exitCode = code;
  listener.runEnd(report);
  // The hosts are done with: a report that cannot be written is told, and the run's result stands.
  const written = await writeJsonReport(reportFile, report, secrets).then(
    () => true,
    (e: unknown) => {
      input.warn(`${errorText(e)}: the run's result stands (exit code ${code})`);
      return false;
    },
  );
  if (input.junitFile)
    await writeJunit(input.junitFile, report, secrets).catch((e: unknown) =>
      input.warn(`${errorText(e)}: the run's result stands (exit code ${code})`),
    );
  const stats = Object.values(report.stats);
  const outcome: SiteOutcome = {
    site: site.name,
    result: RESULT_OF[code] ?? 'failed',
    exitCode: code,
    changed: stats.reduce((n, s) => n + s.changed, 0),
    failed: stats.reduce((n, s) => n + s.failed + s.unreachable, 0),
    ...(written ? { report: reportRel } : { note: 'report not written' }),
    totals: totalLine(report),
  };
  if (record) {
    state.lastRun = {
      playbook: playbookRel,
      startedAt: report.startedAt,
      ...(report.finishedAt ? { finishedAt: report.finishedAt } : {}),
      result: outcome.result,
      exitCode: code,
      interrupted: report.interrupted,
      changed: outcome.changed,
      failed: outcome.failed,
      report: reportRel,
    };
    await recordMailboxes(root, state, report);
    save();
  }
  await writes;
  if (unsaved)
    input.warn(
      `site '${site.name}': the state file could not be written (${unsaved}): status and --resume do not know of this run`,
    );
  return outcome;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A path as state files and the summary show it: relative to the project directory when inside it. */
function shown(root: string, file: string): string {
  const rel = relative(root, resolve(file));
  return rel.startsWith('..') || isAbsolute(rel) ? resolve(file) : rel;
}

function withStepEnd(listener: RunListener, onStepEnd: (step: StepInfo, r: StepReport) => void): RunListener {
  return Object.assign(Object.create(listener) as RunListener, {
    stepEnd(step: StepInfo, r: StepReport) {
      listener.stepEnd?.(step, r);
      onStepEnd(step, r);
    },
  });
}

/** A stream that prefixes every line with `[site] ` (whole lines only, so parallel sites do not mix). */
function prefixed(stream: NodeJS.WriteStream, site: string): NodeJS.WriteStream {
  let partial = '';
  const write = (chunk: string | Uint8Array): boolean => {
    const text = partial + (typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const lines = text.split('\n');
    partial = lines.pop()!;
    if (lines.length > 0) stream.write(lines.map((l) => `[${site}] ${l}\n`).join(''));
    return true;
  };
  return Object.assign(Object.create(stream) as NodeJS.WriteStream, { write, isTTY: false });
}

export function renderSummary(outcomes: SiteOutcome[]): string {
  const rows = outcomes.map((o) => [
    o.site,
    o.result,
    String(o.changed),
    String(o.failed),
    o.report ?? o.note ?? '',
  ]);
  const head = ['SITE', 'RESULT', 'CHANGED', 'FAILED', 'REPORT'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return ['ROLLOUT SUMMARY', line(head), ...rows.map(line)].join('\n');
}
