// calendar_sync: step 4.3 of the procedure. Runs the vendor's sync_all.sh (one-way sync) or subscribe.sh
// (two-way subscription) in the deployer's directory for a validated list of mailboxes, in batches, every
// address shell-quoted. Each mailbox's outcome is kept on the control node in
// <stateDir>/<site>/calendar-sync.json, so a re-run skips what succeeded and retries what failed.
//
// Which mailboxes failed: the vendor's `subscriber` has no documented output format, so ewsplay does not
// parse it. A batch that exits 0 counts as done for all its mailboxes; a batch that exits non-zero is run
// again one mailbox at a time to tell which failed, and each single run's exit status decides; the result
// says so. (Re-running a mailbox that had already succeeded inside a failed batch is harmless: sync and
// subscribe are what the document tells an operator to simply run again.) A timed-out batch, a missing
// script, or "the input device is not a TTY" fail the whole batch without single runs: they would fail the
// same way for every mailbox.
//
// Step 4.4: "if it ended with errors, contact VK". A failure names each failed mailbox with the raw output
// of its run (kept in the state file too) and says so. A mailbox that failed in an earlier run is NOT run
// again on its own: a later run fails again, naming it with its earlier output, until the operator asks
// for the retry (retry_failed: true; the playbook sets it from --resume or sync_retry_failed).
//
// Check mode: reads the state file only, reports which mailboxes would run; no command, no state write.
//
// Thousands of mailboxes: progress (mailboxes done of total, batch n of N, failures) goes to the output as
// an event after every batch; outcomes are written to the state file at most once a second and when the
// task ends, so a run stays linear in the number of mailboxes (a state write is the whole file). A run
// killed outright (SIGKILL) can lose the outcomes of its last second: those mailboxes run again next time,
// which is harmless (see above).
import { stat } from 'node:fs/promises';
import type { ExecResult } from '../connection/connection.js';
import { outcomeFilePath, readOutcomeFile } from '../core/outcomes.js';
import { shq } from '../core/shell-quote.js';
import { writeFileAtomic } from '../util/write-file-atomic.js';
import { defineModule, fail, ok, planned } from './kit.js';
import { inlineMailboxes, type MailboxEntry, mailboxProblems, parseMailboxFile } from './mailboxes.js';
import type { ModuleContext, ModuleResult } from './module.js';
import { readControlFile, taskExecOptions } from './remote.js';

type Operation = 'sync' | 'subscribe';

const SCRIPTS: Record<Operation, string> = { sync: 'sync_all.sh', subscribe: 'subscribe.sh' };
const OPERATION_NAMES: Record<string, Operation> = {
  sync: 'sync',
  sync_all: 'sync',
  subscribe: 'subscribe',
  subscribe_to_all: 'subscribe',
};
const NOT_A_TTY = 'the input device is not a TTY';
const MISSING_SCRIPT = 'ewsplay-missing-script';

export interface MailboxOutcome {
  status: 'done' | 'failed';
  /** ISO time of the attempt. */
  at: string;
  host: string;
  error?: string;
  /** The raw output of the failed run (its end, when long): what VK asks for. */
  output?: string;
}

export interface SyncState {
  version: 1;
  operations: Partial<Record<Operation, Record<string, MailboxOutcome>>>;
}

export interface BatchReport {
  mailboxes: string[];
  rc: number;
  output: string;
}

/** The state file of a site: an outcome file (core/outcomes.ts), which a rollout copies into its state. */
export function stateFile(stateDir: string, site: string): string {
  return outcomeFilePath(stateDir, site, 'calendar-sync');
}

export async function readSyncState(path: string): Promise<SyncState> {
  return (await readOutcomeFile<MailboxOutcome>(path, 'calendar_sync')) as SyncState;
}

// Several hosts of a run may record outcomes in the same site file: updates are serialized per file.
const fileLocks = new Map<string, Promise<unknown>>();
/** The state this process last wrote to each file, kept while the file is as it left it (mtime, size). */
const written = new Map<string, { state: SyncState; mtimeMs: number; size: number }>();

/** Merges outcomes into the state file (read, merge, atomic write) under a per-file lock. */
export function recordOutcomes(
  path: string,
  operation: Operation,
  outcomes: Record<string, MailboxOutcome>,
): Promise<void> {
  const previous = fileLocks.get(path) ?? Promise.resolve();
  const next = previous
    .catch(() => {})
    .then(async () => {
      // Not parsed again when nobody changed it since our last write (a sync writes it many times).
      const before = await stat(path).catch(() => undefined);
      const mine = written.get(path);
      const state =
        mine && before && before.mtimeMs === mine.mtimeMs && before.size === mine.size
          ? mine.state
          : await readSyncState(path);
      written.delete(path);
      const ops = state.operations[operation] ?? {};
      state.operations[operation] = ops;
      Object.assign(ops, outcomes);
      await writeFileAtomic(path, `${JSON.stringify(state, null, 2)}\n`);
      const after = await stat(path);
      written.set(path, { state, mtimeMs: after.mtimeMs, size: after.size });
    });
  fileLocks.set(path, next);
  return next.finally(() => {
    if (fileLocks.get(path) === next) fileLocks.delete(path);
  });
}

/** The command that runs `script` in `dir` for `mailboxes` (exported for tests of its quoting). */
export function batchCommand(dir: string, script: string, mailboxes: readonly string[]): string {
  return [
    `cd ${shq(dir)} || { echo '${MISSING_SCRIPT}: cannot enter ${dir.replace(/'/g, '')}' >&2; exit 127; }`,
    `[ -f ${shq(script)} ] || { echo '${MISSING_SCRIPT}: no ${script} in ${dir.replace(/'/g, '')}' >&2; exit 127; }`,
    `exec sh ${shq(script)} ${mailboxes.map(shq).join(' ')}`,
  ].join('\n');
}

/** The arguments as the schema below declares them (defaults applied). */
type SchemaArgs = {
  operation: Operation | 'sync_all' | 'subscribe_to_all';
  mailboxes?: string[];
  mailboxes_file?: string;
  batch_size: number;
  force: boolean;
  retry_failed: boolean;
  script_dir: string;
  state_key?: string;
  pty: boolean;
};

/** The arguments as the module uses them: the operation's short name, the site resolved. */
interface SyncArgs {
  operation: Operation;
  mailboxes?: string[];
  mailboxes_file?: string;
  batch_size: number;
  force: boolean;
  retry_failed: boolean;
  script_dir: string;
  state_key: string;
  pty: boolean;
}

const SITE_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export const calendarSyncModule = defineModule<SchemaArgs>({
  name: 'calendar_sync',
  summary:
    "Run the vendor's sync_all.sh / subscribe.sh for validated mailboxes in batches, remembering each mailbox's outcome",
  args: {
    type: 'object',
    additionalProperties: false,
    required: ['operation'],
    oneOf: [
      { properties: { mailboxes: true }, required: ['mailboxes'] },
      { properties: { mailboxes_file: true }, required: ['mailboxes_file'] },
    ],
    properties: {
      operation: {
        type: 'string',
        enum: ['sync', 'subscribe', 'sync_all', 'subscribe_to_all'],
        description: 'sync (sync_all.sh: Exchange -> Mail) or subscribe (subscribe.sh: both ways)',
      },
      mailboxes: {
        type: 'array',
        items: { type: 'string' },
        description: 'Addresses, spelled exactly as in Exchange (case matters)',
      },
      mailboxes_file: {
        type: 'string',
        minLength: 1,
        description:
          'Control-node file: one address per line, or CSV with an email column (else the first); # comments',
      },
      batch_size: {
        type: 'integer',
        minimum: 1,
        maximum: 500,
        default: 50,
        description: 'Mailboxes per script run',
      },
      force: {
        type: 'boolean',
        default: false,
        description: 'Run mailboxes again even when the state file says they are done',
      },
      retry_failed: {
        type: 'boolean',
        default: false,
        description:
          'Run again the mailboxes that failed in an earlier run (without it they are named, with their output, and the task fails)',
      },
      script_dir: {
        type: 'string',
        minLength: 1,
        default: '/home/deployer',
        description: 'Directory holding sync_all.sh and subscribe.sh (the scripts run there)',
      },
      state_key: {
        type: 'string',
        pattern: SITE_RE.source,
        description: "Site name for the state file (default: the variable ewsplay_site, else 'default')",
      },
      pty: {
        type: 'boolean',
        default: false,
        description: 'Run with a pseudo-terminal (needed only when the scripts use `docker exec -t`)',
      },
    },
  },
  check: 'full',
  async run(ctx, rawArgs) {
    if (OPERATION_NAMES[rawArgs.operation] === undefined)
      return fail(
        `operation must be sync, subscribe, sync_all or subscribe_to_all (got ${JSON.stringify(rawArgs.operation)})`,
      );
    const args = normalized(ctx, rawArgs);
    if (!SITE_RE.test(args.state_key))
      return fail(
        `state_key ${JSON.stringify(args.state_key)} must be a plain name (letters, digits, . _ -)`,
      );
    const loaded = await loadMailboxes(ctx, args);
    if ('problem' in loaded) return fail(loaded.problem);
    const problems = mailboxProblems(loaded.entries);
    if (problems.length > 0)
      return fail(
        `${problems.length} invalid mailbox entr${problems.length === 1 ? 'y' : 'ies'}:\n${problems.join('\n')}`,
      );

    const all = loaded.entries.map((e) => e.address);
    const path = stateFile(ctx.stateDir, args.state_key);
    const previous = (await readSyncState(path)).operations[args.operation] ?? {};
    const skipped = args.force ? [] : all.filter((m) => previous[m]?.status === 'done');
    // Failed before and not asked to retry: named again with their earlier output, never run silently.
    const held = args.force || args.retry_failed ? [] : all.filter((m) => previous[m]?.status === 'failed');
    const left = new Set([...skipped, ...held]);
    const pending = all.filter((m) => !left.has(m));
    const script = SCRIPTS[args.operation];
    const base = { operation: args.operation, script: `${args.script_dir}/${script}`, state_file: path };
    const heldNote =
      held.length > 0
        ? `${held.length} mailbox${held.length === 1 ? '' : 'es'} failed in an earlier run and ${held.length === 1 ? 'is' : 'are'} not retried unless asked: ${held.join(', ')}`
        : '';

    const prediction: ModuleResult = {
      changed: pending.length > 0,
      msg:
        pending.length > 0
          ? `would ${args.operation} ${pending.length} mailbox${pending.length === 1 ? '' : 'es'}: ${pending.join(', ')}${heldNote ? `; ${heldNote}` : ''}`
          : all.length === 0
            ? 'no mailboxes given'
            : heldNote || `all ${all.length} mailboxes already done (state ${path})`,
      data: { ...base, pending, already_done: skipped, held_failed: held },
    };
    // The outcome file is named in every result from here on: a rollout copies it into the site's state.
    return planned({ ...prediction, outcomeFile: path }, async () => {
      if (pending.length === 0 && held.length === 0)
        return ok(
          all.length === 0
            ? 'no mailboxes given'
            : `all ${all.length} mailboxes already done (state ${path})`,
          {
            data: { ...base, done: [], failed: [], already_done: skipped },
            outcomeFile: path,
          },
        );
      const earlier = Object.fromEntries(held.map((m) => [m, previous[m] as MailboxOutcome]));
      return { ...(await runBatches(ctx, args, pending, skipped, path, base, earlier)), outcomeFile: path };
    });
  },
});

/** Step 4.4's advice, with how to ask for the retry. */
export const CONTACT_VK =
  "The vendor's procedure (step 4.4): when the sync ends with errors, contact VK and send them the raw output above (the run report has it all). Failed mailboxes are retried only when asked: run again with --resume, or with -e sync_retry_failed=true.";

/** How often, at most, a sync writes its state file while batches run (the file is written whole). */
const SAVE_EVERY_MS = 1000;

/** How much of a failed run's output goes into the message, per mailbox or batch (all of it is in details). */
const OUTPUT_IN_MSG = 1500;

function tail(text: string, max: number): string {
  const t = text.trimEnd();
  return t.length <= max ? t : `...${t.slice(t.length - max)}`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

async function runBatches(
  ctx: ModuleContext,
  args: SyncArgs,
  pending: string[],
  skipped: string[],
  path: string,
  base: Record<string, unknown>,
  earlier: Record<string, MailboxOutcome>,
): Promise<ModuleResult> {
  const script = SCRIPTS[args.operation];
  const batches: BatchReport[] = [];
  const done: string[] = [];
  const failed = new Map<string, string>();
  /** The raw output that shows each failure (a single run's, or its whole batch's). */
  const failedOutput = new Map<string, string>();
  const split: number[] = [];
  let fatal: string | undefined;

  const runOne = async (mailboxes: string[]): Promise<ExecResult> => {
    const r = await ctx.conn.exec(batchCommand(args.script_dir, script, mailboxes), {
      ...taskExecOptions(ctx),
      pty: args.pty,
    });
    batches.push({ mailboxes, rc: r.rc, output: joinOutput(r) });
    return r;
  };

  // Outcomes not written yet: written at most once a second while batches run, and when the task ends.
  let outcomes: Record<string, MailboxOutcome> = {};
  let unsaved = 0;
  let savedAt = Date.now();
  const save = async (now: boolean) => {
    if (unsaved === 0 || (!now && Date.now() - savedAt < SAVE_EVERY_MS)) return;
    const these = outcomes;
    outcomes = {};
    unsaved = 0;
    await recordOutcomes(path, args.operation, these);
    savedAt = Date.now();
  };
  const startedAt = Date.now();
  const batchCount = Math.ceil(pending.length / args.batch_size);
  const progress = (n: number) =>
    ctx.progress?.({
      unit: 'mailboxes',
      done: done.length + failed.size,
      total: pending.length,
      failed: failed.size,
      batch: { n, of: batchCount },
      startedAt,
    });

  progress(1);
  try {
    for (let i = 0; i < pending.length; i += args.batch_size) {
      await runBatch(pending.slice(i, i + args.batch_size));
      await save(false);
      progress(Math.min(i / args.batch_size + 2, batchCount));
    }
  } finally {
    await save(true);
  }

  async function runBatch(batch: string[]): Promise<void> {
    const record = (mailbox: string, error?: string, output?: string) => {
      const raw = output !== undefined ? ctx.secrets.mask(output) : undefined;
      outcomes[mailbox] = {
        status: error === undefined ? 'done' : 'failed',
        at: new Date().toISOString(),
        host: ctx.host,
        ...(error !== undefined ? { error } : {}),
        ...(error !== undefined && raw !== undefined ? { output: tail(raw, 4000) } : {}),
      };
      unsaved++;
      if (error === undefined) done.push(mailbox);
      else {
        failed.set(mailbox, error);
        if (raw !== undefined) failedOutput.set(mailbox, raw);
      }
    };
    if (fatal !== undefined) {
      for (const m of batch) failed.set(m, 'not run');
      return;
    }
    const r = await runOne(batch);
    const whole = wholeBatchFailure(r, args.script_dir, script);
    if (r.rc === 0) for (const m of batch) record(m);
    else if (whole !== undefined || batch.length === 1) {
      for (const m of batch) record(m, whole ?? `exit ${r.rc}`, joinOutput(r));
      if (whole !== undefined && !r.timedOut) fatal = whole;
    } else {
      ctx.log(
        `calendar_sync: batch of ${batch.length} exited ${r.rc}; running each of its mailboxes alone to tell which failed`,
      );
      split.push(batch.length);
      for (const m of batch) {
        const single = await runOne([m]);
        if (single.rc === 0) record(m);
        else
          record(
            m,
            wholeBatchFailure(single, args.script_dir, script) ?? `exit ${single.rc}`,
            joinOutput(single),
          );
      }
    }
  }

  const failedList = [...failed.keys()];
  const held = Object.keys(earlier);
  const data = { ...base, done, failed: failedList, already_done: skipped, held_failed: held };
  const details = {
    batches,
    failures: Object.fromEntries(failed),
    earlier_failures: earlier,
  };
  const splitNote = split.length
    ? ` (a batch that failed was run again one mailbox at a time to tell which failed: ${split.join(', ')} mailboxes)`
    : '';
  if (failedList.length === 0 && held.length === 0)
    return {
      changed: true,
      msg: `${args.operation}: ${done.length} mailbox${done.length === 1 ? '' : 'es'} done${skipped.length ? `, ${skipped.length} already done before` : ''}${splitNote}`,
      data,
      details,
    };
  const parts: string[] = [];
  if (failedList.length > 0) {
    const reason = fatal ? ` (${fatal})` : '';
    parts.push(
      `${args.operation} failed for ${failedList.length} of ${pending.length} mailboxes: ${failedList.join(', ')}${reason}; ${done.length} succeeded${splitNote}.`,
    );
    // One block per distinct output: a whole batch's failure shows once, not once per mailbox.
    const byOutput = new Map<string, string[]>();
    for (const m of failedList) {
      const out = failedOutput.get(m);
      if (out === undefined) continue;
      byOutput.set(out, [...(byOutput.get(out) ?? []), m]);
    }
    for (const [out, mailboxes] of byOutput)
      parts.push(
        `Output of the run for ${mailboxes.join(', ')}:\n${indent(tail(out, OUTPUT_IN_MSG) || '(none)')}`,
      );
  } else if (pending.length > 0) {
    parts.push(`${args.operation}: ${done.length} mailbox${done.length === 1 ? '' : 'es'} done${splitNote}.`);
  }
  if (held.length > 0) {
    parts.push(
      `${held.length} mailbox${held.length === 1 ? '' : 'es'} failed in an earlier run and ${held.length === 1 ? 'was' : 'were'} not run again: ${held.join(', ')}.`,
    );
    for (const m of held) {
      const e = earlier[m] as MailboxOutcome;
      parts.push(
        `Output of the earlier run for ${m} (${e.at}, ${e.error ?? 'failed'}):\n${indent(tail(e.output ?? '', OUTPUT_IN_MSG) || '(not recorded)')}`,
      );
    }
  }
  parts.push(CONTACT_VK);
  return {
    changed: done.length > 0,
    failed: true,
    msg: parts.join('\n'),
    data,
    details,
  };
}

/** A failure that is not about particular mailboxes, with a hint; undefined for an ordinary failure. */
function wholeBatchFailure(r: ExecResult, dir: string, script: string): string | undefined {
  const out = joinOutput(r);
  if (r.timedOut) return `timed out: raise the task's timeout`;
  if (out.includes(MISSING_SCRIPT))
    return `${script} is not in ${dir}: install the sync scripts first (step 4.1)`;
  if (out.includes(NOT_A_TTY))
    return `${NOT_A_TTY}: the script runs docker exec -t; install the scripts without -t or set pty: true`;
  return undefined;
}

function joinOutput(r: ExecResult): string {
  return [r.stdout, r.stderr]
    .filter((s) => s !== '')
    .join(r.stdout.endsWith('\n') || r.stdout === '' ? '' : '\n');
}

async function loadMailboxes(
  ctx: ModuleContext,
  args: SyncArgs,
): Promise<{ entries: MailboxEntry[] } | { problem: string }> {
  if (args.mailboxes) return { entries: inlineMailboxes(args.mailboxes) };
  if (!args.mailboxes_file) return { problem: 'give mailboxes or mailboxes_file' };
  const file = await readControlFile(ctx, args.mailboxes_file, 'files').catch((e: Error) => e);
  if (file instanceof Error) return { problem: `mailboxes_file: ${file.message}` };
  const { entries, problems } = parseMailboxFile(file.content.toString('utf8'), file.path);
  return problems.length > 0 ? { problem: problems.join('\n') } : { entries };
}

function normalized(ctx: ModuleContext, a: SchemaArgs): SyncArgs {
  return {
    ...a,
    operation: OPERATION_NAMES[a.operation] as Operation,
    script_dir: a.script_dir.replace(/(.)\/+$/, '$1'),
    state_key: String(a.state_key ?? ctx.vars.ewsplay_site ?? 'default'),
  };
}
