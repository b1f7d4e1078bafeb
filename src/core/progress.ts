// Progress of long work, as events: a module reports how far a task is on its host (ModuleContext.progress),
// the engine passes it to the output (RunListener.progress), a rollout reports its sites the same way; only
// the output layer decides how (or whether) it is shown. Nobody but the output prints.

/** How far a task is on one host: calendar_sync's mailboxes done of total, batch n of N. */
export interface TaskProgress {
  /** What is counted, plural ("mailboxes"). */
  unit: string;
  /** Units finished so far in this run (successes and failures). */
  done: number;
  /** Units this run has to do. */
  total: number;
  /** Units that failed so far (counted in `done`). */
  failed?: number;
  /** The batch running now (1-based) of how many. */
  batch?: { n: number; of: number };
  /** When the counted work started (ms since the epoch): the time left is estimated from it. */
  startedAt: number;
}

/** How far a rollout is: sites done of total. */
export interface RolloutProgress {
  total: number;
  /** Sites finished (whatever their result), including those not run (canary failed, --max-fail-sites). */
  done: number;
  /** Sites that ended failed, unreachable, locked, in error or interrupted. */
  failed: number;
  /** Sites running now, in the order they started. */
  running: string[];
  /** When the rollout started to run sites (ms since the epoch). */
  startedAt: number;
}
