// Per-site state: .ewsplay/state/SITE.json holds each step's last outcome and time, the last run, and a
// copy of the per-item outcomes modules keep in files of their own (core/outcomes.ts: calendar_sync's
// per-mailbox outcomes in .ewsplay/state/SITE/calendar-sync.json, so a sync batch records progress even when
// the run is killed). Written atomically after every step; a file that cannot be read is an error naming
// the file, never silently replaced.

import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { InputFileError, readInputText } from '../core/input-file.js';
import { outcomeDir, readOutcomeFile } from '../core/outcomes.js';
import { UserError } from '../core/problems.js';
import type { Secrets } from '../core/secrets.js';
import type { RunReport } from '../engine/results.js';
import type { HostStepStatus, StepInfo, StepReport } from '../engine/steps.js';
import { writeFileAtomic } from '../util/write-file-atomic.js';
import { jsonPathPos, stateShapeProblem } from './state-shape.js';

export type SiteResult = 'ok' | 'failed' | 'unreachable' | 'interrupted' | 'error' | 'not run' | 'skipped';

export interface StepState {
  play: string;
  name: string;
  playbook: string;
  /** Position in the playbook (play, entry), to list steps in order. */
  order: [number, number];
  status: 'done' | 'failed' | 'interrupted';
  /** When the step last finished (or stopped). */
  at: string;
  failedHosts?: string[];
  /** The --limit of that run (shown by status; --resume goes by `hosts`). */
  limit?: string;
  /**
   * Each host's last outcome of the step, over every run that ran it there: what --resume goes by. A state
   * written before ewsplay recorded hosts has none: --resume then counts the step as not done anywhere.
   */
  hosts?: Record<string, HostStepStatus>;
  /** The run report of that run, relative to the project directory. */
  report: string;
}

export interface LastRun {
  playbook: string;
  startedAt: string;
  finishedAt?: string;
  result: SiteResult;
  exitCode: number;
  interrupted: boolean;
  changed: number;
  failed: number;
  report: string;
}

export interface MailboxState {
  /** The module's own outcome file (relative to the project directory), which stays the source of truth. */
  file: string;
  operations?: Record<string, Record<string, { status: string; at: string; host: string; error?: string }>>;
  error?: string;
}

export interface SiteState {
  version: 1;
  site: string;
  /** The site's inventory (its identity, see sites.ts): a state is never shared by two inventories. */
  inventory?: string[];
  updatedAt: string;
  lastRun?: LastRun;
  steps: Record<string, StepState>;
  /** The steps of each playbook run on the site (so never-reached steps show as not run). */
  playbooks?: Record<string, { id: string; play: string; name: string }[]>;
  /** Per-item outcomes per operation (calendar_sync's mailboxes), copied from modules' outcome files after each run. */
  mailboxes?: MailboxState[];
}

export function statePath(root: string, site: string): string {
  return join(root, '.ewsplay', 'state', `${site}.json`);
}

export function emptyState(site: string): SiteState {
  return { version: 1, site, updatedAt: new Date().toISOString(), steps: {} };
}

/** The site's state; a fresh one when there is no file; a UserError when the file is not valid. */
export async function readState(root: string, site: string): Promise<SiteState> {
  const file = statePath(root, site);
  let text: string;
  try {
    text = await readInputText(file);
  } catch (e) {
    if (e instanceof InputFileError && e.code === 'missing') return emptyState(site);
    throw e;
  }
  const hint = `the file is damaged: move it aside (mv ${file} ${file}.broken) to start this site's history afresh; the run reports in .ewsplay/runs/${site}/ keep what happened`;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    throw UserError.at(
      { file, ...jsonErrorPos(text, message) },
      `state file is not valid JSON: ${message}`,
      hint,
    );
  }
  const problem = shapeProblem(value);
  if (problem) throw UserError.at({ file, line: 1, col: 1 }, `not an ewsplay state file: ${problem}`, hint);
  const field = stateShapeProblem(value);
  if (field)
    throw UserError.at(
      { file, ...jsonPathPos(text, field.path) },
      `not an ewsplay state file: ${field.message}`,
      hint,
    );
  return value as SiteState;
}

function shapeProblem(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'expected a JSON object';
  const s = v as Partial<SiteState>;
  if (s.version !== 1) return `version is ${JSON.stringify(s.version)}, expected 1`;
  if (typeof s.steps !== 'object' || s.steps === null || Array.isArray(s.steps))
    return 'steps is not an object';
  for (const [id, step] of Object.entries(s.steps)) {
    if (!['done', 'failed', 'interrupted'].includes(step?.status))
      return `step '${id}' has status ${JSON.stringify(step?.status)}`;
    const hosts: unknown = step.hosts;
    if (hosts !== undefined && (typeof hosts !== 'object' || hosts === null || Array.isArray(hosts)))
      return `step '${id}' has hosts ${JSON.stringify(hosts)}, expected an object`;
  }
  if (
    s.inventory !== undefined &&
    !(Array.isArray(s.inventory) && s.inventory.every((i) => typeof i === 'string'))
  )
    return 'inventory is not a list of paths';
  return undefined;
}

function jsonErrorPos(text: string, message: string): { line: number; col: number } {
  const at = /position (\d+)/.exec(message);
  if (!at) return { line: 1, col: 1 };
  const before = text.slice(0, Number(at[1]));
  const lines = before.split('\n');
  return { line: lines.length, col: lines.at(-1)!.length + 1 };
}

export async function writeState(root: string, state: SiteState, secrets: Secrets): Promise<void> {
  state.updatedAt = new Date().toISOString();
  await writeFileAtomic(
    statePath(root, state.site),
    `${secrets.mask(JSON.stringify(state, null, 2))}\n`,
    'state file',
  );
}

/** Records a step's outcome (done, failed or interrupted; not run and skipped leave the state as it was). */
export function recordStep(
  state: SiteState,
  playbook: string,
  step: StepInfo,
  outcome: StepReport,
  report: string,
  limit?: string,
): boolean {
  if (outcome.status !== 'done' && outcome.status !== 'failed' && outcome.status !== 'interrupted')
    return false;
  // Hosts this run did not run the step on keep their earlier outcome.
  const hosts = { ...state.steps[step.id]?.hosts, ...outcome.hosts };
  state.steps[step.id] = {
    play: step.play,
    name: step.name,
    playbook,
    order: [step.playIndex, step.index],
    status: outcome.status,
    at: outcome.finishedAt ?? new Date().toISOString(),
    ...(outcome.failedHosts?.length ? { failedHosts: outcome.failedHosts } : {}),
    ...(limit !== undefined ? { limit } : {}),
    ...(Object.keys(hosts).length > 0 ? { hosts } : {}),
    report,
  };
  return true;
}

/** Remembers the steps of a playbook, in order. */
export function recordPlaybook(state: SiteState, playbook: string, steps: StepInfo[]): void {
  state.playbooks = {
    ...state.playbooks,
    [playbook]: steps.map((s) => ({ id: s.id, play: s.play, name: s.name })),
  };
}

/**
 * Copies the per-item outcomes modules keep (calendar_sync's mailboxes) into the state: from the outcome
 * files this run's tasks named (ModuleResult.outcomeFile: a `state_key` may differ from the site name),
 * those recorded before, and those in the site's own folder (a run killed before it reported). Those files
 * are only read.
 */
export async function recordMailboxes(root: string, state: SiteState, report: RunReport): Promise<void> {
  const used = report.tasks
    .flatMap((t) => Object.values(t.hosts).map((h) => h.outcomeFile))
    .filter((f): f is string => typeof f === 'string');
  const siteDir = outcomeDir(join(root, '.ewsplay', 'state'), state.site);
  const own = existsSync(siteDir)
    ? (await readdir(siteDir))
        .filter((n) => n.endsWith('.json'))
        .sort()
        .map((n) => join(siteDir, n))
    : [];
  const files = new Set([
    ...(state.mailboxes ?? []).map((m) => resolve(root, m.file)),
    ...used.map((f) => resolve(root, f)),
    ...own,
  ]);
  const found: MailboxState[] = [];
  for (const file of files) {
    const rel = relative(root, file);
    try {
      if (!existsSync(file)) continue;
      found.push({ file: rel, operations: (await readOutcomeFile(file)).operations });
    } catch (e) {
      found.push({ file: rel, error: e instanceof Error ? e.message : String(e) });
    }
  }
  if (found.length > 0) state.mailboxes = found;
}

/**
 * What --resume leaves out, per step: the hosts on which it is done. For each host, the leading steps
 * recorded done on that host are left out; the first step that is not done there, and every step after it,
 * run again on it. Steps tagged `always` run again even when done (as Ansible runs them whatever the tags):
 * tag a step that only gathers facts for later steps `always`. A host the state does not name (another
 * inventory's, a --limit that left it out, a state written before hosts were recorded) runs every step. A
 * step done on other hosts only (its play does not target this one) is passed over.
 */
export function resumeSkips(state: SiteState, steps: StepInfo[]): Map<string, Set<string>> {
  const skip = new Map<string, Set<string>>();
  const hosts = new Set(Object.values(state.steps).flatMap((s) => Object.keys(s.hosts ?? {})));
  for (const host of hosts) {
    for (const step of steps) {
      const record = state.steps[step.id];
      const outcome = record?.hosts?.[host];
      // A step done without this host (its play targets other hosts: A3 runs on the mail server only) does
      // not stop the host's chain of done steps; a step not done, or never run, does.
      if (outcome === undefined && record?.status === 'done' && !record.limit && record.hosts) continue;
      if (outcome !== 'done') break;
      if (step.tags.includes('always')) continue;
      const on = skip.get(step.id) ?? new Set<string>();
      on.add(host);
      skip.set(step.id, on);
    }
  }
  return skip;
}
