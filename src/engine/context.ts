// State shared by the play runner and the task runner for one run of one playbook.
import type { Connection } from '../connection/connection.js';
import type { Playbook, Vars } from '../core/model.js';
import type { Secrets } from '../core/secrets.js';
import type { TemplateApi } from '../core/template-api.js';
import type { Inventory } from '../inventory/inventory.js';
import type { ConnectOptions, EarlyConnections } from './early-connections.js';
import type { RunListener } from './events.js';
import type { HostStats, RunReport } from './results.js';
import type { TagFilter } from './tags.js';

/** How the run connects (timeouts, host keys, -u/-k/-c/--ssh-*-args) is ConnectOptions, said once there. */
export interface RunOptions extends ConnectOptions {
  check: boolean;
  diff: boolean;
  forks: number;
  limit?: string;
  tags: TagFilter;
  extraVars: Vars;
  startAtTask?: string;
  forceHandlers: boolean;
  /** Operator prompts allowed (stdin and stdout are TTYs). */
  interactive: boolean;
  /** Default per-task timeout in seconds (a task's `timeout:` overrides). */
  taskTimeoutSec: number;
  /** --step: asked before each task; 'no' leaves the task out, 'continue' stops asking. */
  step?: (task: string) => Promise<'no' | 'yes' | 'continue'>;
  /** -b, --become-user, -K: defaults below playbook keywords and variables, as in Ansible. */
  become?: { enabled?: boolean; user?: string; password?: string };
  /** Control-node directory for per-site state (calendar_sync outcomes, ...). */
  stateDir: string;
  site?: string;
  /** Per step id, the hosts it is left out for (--resume: done on them before); skipped for all: reported so. */
  skipSteps?: ReadonlyMap<string, ReadonlySet<string>>;
  /** --resume was given: the playbook sees it as ewsplay_resume (calendar_sync retries failed mailboxes). */
  resume?: boolean;
}

export interface HostState {
  /** set_fact and registered values: they outlive the play, like Ansible's host facts. */
  facts: Vars;
  /**
   * Names in `facts` that include_vars loaded from the author's files: rendered when read, as play vars
   * are. Every other fact is host data (a module's result, set_fact's rendered value), never rendered.
   */
  authored: Set<string>;
  /** The last failed task and its result (ansible_failed_task / ansible_failed_result in rescue). */
  lastFailure?: { task: Vars; result: Vars };
  failed: boolean;
  unreachable: boolean;
  /** meta end_host / end_batch / end_play: the host sits out the rest of the play, not failed. */
  ended?: boolean;
  notified: Set<string>;
  connection?: Promise<Connection>;
}

export function newHostState(): HostState {
  return { facts: {}, authored: new Set(), failed: false, unreachable: false, notified: new Set() };
}

/** Stores variables on a host; `authored` lists the names whose values an author wrote (include_vars). */
export function setFacts(state: HostState, values: Vars, authored: Iterable<string> = []): void {
  const keep = new Set(authored);
  for (const k of Object.keys(values)) {
    state.facts[k] = values[k];
    if (keep.has(k)) state.authored.add(k);
    else state.authored.delete(k);
  }
}

/** The host's include_vars values (rendered when read). */
export function authoredFacts(state: HostState): Vars {
  const out: Vars = {};
  for (const k of state.authored) out[k] = state.facts[k];
  return out;
}

/** The host's data: registered results, set_fact and gathered facts (never rendered). */
export function hostData(state: HostState): Vars {
  const out: Vars = {};
  for (const k of Object.keys(state.facts)) if (!state.authored.has(k)) out[k] = state.facts[k];
  return out;
}

export interface RunContext {
  playbook: Playbook;
  inventory: Inventory;
  options: RunOptions;
  templar: TemplateApi;
  secrets: Secrets;
  listener: RunListener;
  hosts: Map<string, HostState>;
  /**
   * Connections besides each host's own, kept for the run: delegate_to targets outside the plays
   * (localhost ...), and hosts reached the way a play's connection / remote_user / port say.
   */
  extraConnections: Map<string, Promise<Connection>>;
  /** Connections opened while the playbook loaded, taken when a host first connects. */
  early?: EarlyConnections;
  stats: Map<string, HostStats>;
  report: RunReport;
  /** Aborted on Ctrl-C: every pending remote call stops. */
  abort: AbortController;
  /** The vars_files of the current play, loaded once per play. */
  playVarsFiles: Vars;
  /** Loads a vars file (vault-aware): vars_files and include_vars. */
  loadVarsFile: (file: string) => Promise<Vars>;
  playbookDir: string;
}
