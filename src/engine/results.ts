// What a run produces: per task per host results, per host stats (the recap), and the run report.

import type { FileDiff } from '../core/file-diff.js';
import type { SourcePos } from '../core/problems.js';
import type { StepReport } from './steps.js';

export type HostStatus = 'ok' | 'changed' | 'skipped' | 'failed' | 'unreachable';

export interface HostTaskResult {
  status: HostStatus;
  changed: boolean;
  msg?: string;
  diff?: FileDiff[];
  /** The registered value (what `register:` stores), secrets masked. */
  data?: Record<string, unknown>;
  details?: unknown;
  warnings?: string[];
  /** delegate_to: the host whose connection ran the task (shown as `[host -> delegate]`). */
  delegatedTo?: string;
  /** Shown at this -v count (debug's messages); other messages from -v on. */
  verbosity?: number;
  /** The failure was ignored (ignore_errors). */
  ignored?: boolean;
  /** The failure was rescued by its block's `rescue:` (counted as rescued, not failed, as in Ansible). */
  rescued?: boolean;
  /** Ran in check mode. */
  checkMode?: boolean;
  /** The module's per-item outcome file (ModuleResult.outcomeFile): a rollout copies it into the site's state. */
  outcomeFile?: string;
  /** Per-item results of a loop. */
  items?: { label: string; status: HostStatus; msg?: string; verbosity?: number }[];
  durationMs: number;
}

export interface TaskInfo {
  name: string;
  module: string;
  pos: SourcePos;
  handler: boolean;
  /** The play this task belongs to (index in the playbook). */
  play: number;
}

export interface HostStats {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
  rescued: number;
  ignored: number;
}

export const emptyStats = (): HostStats => ({
  ok: 0,
  changed: 0,
  unreachable: 0,
  failed: 0,
  skipped: 0,
  rescued: 0,
  ignored: 0,
});

export interface TaskReport {
  task: string;
  module: string;
  file: string;
  line: number;
  play: string;
  handler: boolean;
  hosts: Record<string, HostTaskResult>;
}

export interface RunReport {
  tool: 'ewsplay';
  version: string;
  playbook: string;
  inventory: string[];
  site?: string;
  startedAt: string;
  finishedAt?: string;
  durationMs?: number;
  check: boolean;
  diff: boolean;
  interrupted: boolean;
  tasks: TaskReport[];
  /** Each step (top-level entry of a play) and its outcome, in playbook order. */
  steps?: StepReport[];
  stats: Record<string, HostStats>;
  exitCode?: number;
}
