// The module contract. Modules read the current state, compare, and act only when different and not in
// check mode. They never print: they return results, and the engine and output decide what is shown.
import type { Connection } from '../connection/connection.js';
import type { FileDiff } from '../core/file-diff.js';
import type { Node, Vars } from '../core/model.js';
import type { SourcePos } from '../core/problems.js';
import type { TaskProgress } from '../core/progress.js';
import type { Secrets } from '../core/secrets.js';
import type { TemplateApi } from '../core/template-api.js';
import type { DynamicChange } from '../inventory/inventory.js';

/** JSON Schema (draft 2020-12) of a module's arguments, after free-form normalization. */
export type ArgsSchema = Record<string, unknown>;

export interface ModuleResult {
  changed: boolean;
  failed?: boolean;
  skipped?: boolean;
  msg?: string;
  diff?: FileDiff[];
  /** Fields registered with `register:` (stdout, rc, stat, ...). */
  data?: Record<string, unknown>;
  /** set_fact, setup: variables to set on the host. They are data: never rendered as templates again. */
  facts?: Vars;
  /**
   * include_vars: variables an author wrote in a vars file on the control node, set on the host and rendered
   * when read (`x: "{{ y }}"` works as in play vars).
   */
  authoredVars?: Vars;
  /**
   * add_host and group_by: a change to the run's in-memory inventory. The engine applies it (unless the
   * result failed) and sets `changed` to whether the inventory changed, as Ansible's strategy does.
   */
  inventory?: DynamicChange;
  /**
   * The file on the control node in which the module keeps per-item outcomes between runs (core/outcomes.ts;
   * calendar_sync's per-mailbox state). The engine puts it in the run report; a rollout copies its outcomes
   * into the site's state, whichever module wrote it.
   */
  outcomeFile?: string;
  /** Extra human detail for reports (raw output of a batch, per-mailbox outcome, ...). */
  details?: unknown;
  /** The message is output for people (debug): shown when the run is at least this verbose (-v count). Other
   * messages are shown from -v on. */
  verbosity?: number;
  /** Warnings shown in output (e.g. "outside the vendor's scope"). */
  warnings?: string[];
}

export interface ModuleContext {
  host: string;
  conn: Connection;
  /**
   * True when the task runs in check mode (the engine resolves it once per task). Read by defineModule
   * (kit.ts) and by modules declared `check: 'probe'`; other modules return `planned(...)` instead.
   */
  check: boolean;
  /** True when --diff was given: modules that write files return `diff`. */
  diff: boolean;
  /** All variables visible to this task on this host (already merged). */
  vars: Vars;
  secrets: Secrets;
  signal: AbortSignal;
  /** Per-command timeout in ms (task `timeout:` or the default). */
  timeoutMs: number;
  /** The task's `environment:` (rendered): every command of the task runs with it; how secrets reach programs. */
  env?: Record<string, string>;
  /** become settings resolved for this task, or undefined. */
  become?: { user?: string; password?: string };
  template: TemplateApi;
  /** Directory of the playbook (relative `src:` of copy/template resolve here, then beside the task file). */
  baseDir: string;
  /** Where on the control node to keep state for this run's site (e.g. calendar_sync outcomes). */
  stateDir: string;
  /** Position of the task, for messages. */
  pos: SourcePos;
  /** True when ewsplay may prompt the user (stdin and stdout are a TTY). */
  interactive: boolean;
  /** Asks the user a yes/no question on the TTY (only when interactive). */
  confirm(question: string): Promise<boolean>;
  /**
   * Loads a control-node vars file as vars_files does (a vault is decrypted and its values become secrets).
   * Absent outside a run (module tests): include_vars then reads plain YAML.
   */
  loadVarsFile?: (file: string) => Promise<Vars>;
  /** Runs nested tasks (manual's `verify:`) on this host with the engine's full semantics. */
  runTasks(nodes: Node[], extraVars?: Vars): Promise<{ ok: boolean; results: ModuleResult[] }>;
  /** Debug log line (masked by the engine). */
  log(line: string): void;
  /**
   * How far a long task is on this host (calendar_sync: mailboxes done of total, batch n of N): an event the
   * engine hands to the output, which shows it live. The way a module tells progress, since it never
   * prints. Absent outside a run (module tests).
   */
  progress?(p: TaskProgress): void;
  /**
   * Modules with `connection: 'self'` (wait_for_connection): the host's connection, the cached one or, with
   * `fresh`, a new one that replaces it (the cached one closed), its opening bounded by `connectTimeoutMs`.
   */
  connect?: (opts?: { fresh?: boolean; connectTimeoutMs?: number }) => Promise<Connection>;
}

/**
 * A module. Write one with `defineModule` (kit.ts): its `run` then receives `A`, the arguments typed and with
 * the schema's defaults applied, and check mode is decided from `check`, not by the module.
 */
export interface Module<A = Record<string, unknown>> {
  name: string;
  /** One line, used by `ewsplay schema` docs and the README. */
  summary: string;
  /** JSON Schema of the args (validated at load time). */
  args: ArgsSchema;
  /** Free-form modules (command, shell, include_vars) accept a string: its words that are not key=value become this argument. */
  freeForm?: string;
  /**
   * The free form is a command line (command, shell, raw, script, as Ansible's FREEFORM_ACTIONS): only the
   * command options (creates=, chdir= ...) are taken out of it; `FOO=bar ./run` stays the command.
   */
  commandLine?: boolean;
  /** Other names of arguments, as Ansible documents them (alias -> argument): file's `dest` and `name` for `path`. */
  aliases?: Record<string, string>;
  /** Args holding nested task lists (manual's verify): the loader parses them as tasks. */
  taskListArgs?: string[];
  /**
   * Runs once per task for the batch, not once per host, as if the task said run_once: true (Ansible's
   * pause bypasses the host loop so): the batch's first host runs it, every host gets its result.
   */
  runOnce?: boolean;
  /**
   * 'self': the engine does not connect before running the module (ctx.conn refuses every call); the
   * module connects through ctx.connect, so a host that does not answer yet is not unreachable at once.
   */
  connection?: 'self';
  /**
   * What the module does in check mode. full: predicts exactly (it returns `planned(prediction, act)` and
   * the action runs only outside check mode); probe: reads `ctx.check` itself to predict via
   * creates/removes, else skips (command, shell, script); `{ skip }`: not run in check mode, the task is
   * skipped with this message (raw, uri). Only 'probe' modules read `ctx.check`.
   */
  check: 'full' | 'probe' | { skip: string };
  run(ctx: ModuleContext, args: A): Promise<ModuleResult>;
}
