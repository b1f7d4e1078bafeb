// Live progress on a terminal with listr2: each task is a tree node with one child per host, resolved
// as the engine reports results. Play headers, diffs and the recap are printed between the trees.
import { createInterface } from 'node:readline/promises';
import { Listr, type ListrTaskWrapper } from 'listr2';
import type { TaskProgress } from '../core/progress.js';
import type { RunListener } from '../engine/events.js';
import type { HostTaskResult, RunReport, TaskInfo } from '../engine/results.js';
import { renderDiff } from './diff.js';
import { failureDetails, firstLine, shortStatus, showsMessage } from './format.js';
import type { OutputOptions } from './plain.js';
import { taskProgressText } from './progress.js';
import { banner, renderRecap } from './recap.js';
import { color, statusColor } from './style.js';

interface Pending {
  resolve(r: HostTaskResult): void;
  result: Promise<HostTaskResult>;
  wrapper?: ListrTaskWrapper<unknown, never, never>;
}

/** A loop item under its host's line: `changed: (item=x)`, with its message when failed or shown. */
function itemLine(i: NonNullable<HostTaskResult['items']>[number], verbose: number): string {
  const paint = statusColor(i.status);
  const msg = i.msg && (i.status === 'failed' || showsMessage(i, verbose)) ? `: ${firstLine(i.msg)}` : '';
  return paint(`${i.status === 'skipped' ? 'skipped' : i.status}: (item=${i.label})${msg}`);
}

export class ListrOutput implements RunListener {
  private pending = new Map<string, Pending>();
  private running: Promise<unknown> | undefined;
  private results: [string, HostTaskResult][] = [];
  /** When each host's line last showed its task's progress. */
  private progressShown = new Map<string, number>();

  constructor(private readonly o: OutputOptions) {}

  private write(s: string): void {
    this.o.stream.write(`${s}\n`);
  }

  playStart(name: string, hosts: string[], check: boolean): void {
    this.write(
      color.bold(banner(`PLAY [${name}]${check ? ' (check mode)' : ''}`)) +
        color.dim(` ${hosts.length} host(s)`),
    );
  }

  taskStart(task: TaskInfo, hosts: string[]): void {
    this.pending = new Map();
    this.results = [];
    this.progressShown = new Map();
    for (const h of hosts) {
      let resolve!: (r: HostTaskResult) => void;
      const result = new Promise<HostTaskResult>((r) => {
        resolve = r;
      });
      this.pending.set(h, { resolve, result });
    }
    // One line per host under the task's header: its status in words and colour (ok / changed / skipped /
    // failed), a loop's items beneath it, the failure's output after the tree (taskEnd).
    this.write(color.bold(banner(`${task.handler ? 'RUNNING HANDLER' : 'TASK'} [${task.name}]`)));
    const list = new Listr<unknown, 'default', 'simple'>(
      hosts.map((host) => ({
        title: host,
        task: async (_c, ht) => {
          const p = this.pending.get(host)!;
          p.wrapper = ht as unknown as Pending['wrapper'];
          const r = await p.result;
          const paint = statusColor(r.status);
          const who = r.delegatedTo ? `${host} -> ${r.delegatedTo}` : host;
          const failed = (r.status === 'failed' && !r.ignored) || r.status === 'unreachable';
          const detail =
            r.msg && (r.status === 'failed' || r.status === 'unreachable') ? `: ${firstLine(r.msg)}` : '';
          const title = `${who} ${paint(shortStatus(r) + detail)}${color.dim(` ${r.durationMs} ms`)}`;
          // Under the host's line: a loop's items, or the message (debug's, or any with -v).
          if (r.items?.length) ht.output = r.items.map((i) => itemLine(i, this.o.verbose)).join('\n');
          else if (showsMessage(r, this.o.verbose)) ht.output = r.msg!;
          if (r.status === 'skipped') {
            ht.skip(title);
            return;
          }
          ht.title = title;
          // An empty error marks the line failed (✖) without repeating the message under it.
          if (failed) throw new Error('');
        },
        rendererOptions: { persistentOutput: true as const },
      })),
      {
        concurrent: true,
        exitOnError: false,
        rendererOptions: {
          collapseErrors: false,
          showErrorMessage: false,
          collapseSkips: true,
          suffixSkips: false,
        },
      },
    );
    this.running = list.run().catch(() => undefined);
  }

  /** A running task's progress on its host's line, until the result replaces it. */
  progress(_task: TaskInfo, host: string, p: TaskProgress): void {
    const wrapper = this.pending.get(host)?.wrapper;
    if (!wrapper) return;
    // Each title change redraws the tree: at most ten a second per host, and always the last count.
    const now = Date.now();
    if (p.done < p.total && now - (this.progressShown.get(host) ?? 0) < 100) return;
    this.progressShown.set(host, now);
    wrapper.title = `${host} ${color.dim(taskProgressText(p, now))}`;
  }

  hostResult(_task: TaskInfo, host: string, result: HostTaskResult): void {
    this.results.push([host, result]);
    this.pending.get(host)?.resolve(result);
  }

  async taskEnd(): Promise<void> {
    await this.running;
    for (const [host, r] of this.results) {
      for (const w of r.warnings ?? []) this.write(color.magenta(`  [WARNING] ${host}: ${w}`));
      const details = failureDetails(r);
      if (details.length > 0)
        this.write(color.dim(`  ${host}:\n${details.map((l) => `    ${l}`).join('\n')}`));
      for (const d of r.diff ?? []) this.write(renderDiff(d, this.o.color));
    }
  }

  warn(message: string): void {
    this.write(color.magenta(`[WARNING]: ${message}`));
  }

  async confirm(_task: TaskInfo, host: string, question: string): Promise<boolean> {
    // The question is shown as the host node's output inside the live tree; the answer is read from stdin.
    const p = this.pending.get(host);
    if (p?.wrapper) {
      p.wrapper.output = question;
      p.wrapper.title = `${host} ${color.yellow('waiting for the operator: type y and Enter when done')}`;
    } else {
      this.write(`[${host}] ${question}`);
    }
    const rl = createInterface({ input: process.stdin, terminal: false });
    try {
      const answer = await rl.question('');
      return /^y(es)?$/i.test(answer.trim());
    } finally {
      rl.close();
      if (p?.wrapper) p.wrapper.title = host;
    }
  }

  runEnd(report: RunReport): void {
    this.write(`\n${renderRecap(report.stats, this.o.color)}`);
    if (report.interrupted) this.write(color.red('(interrupted: the run was stopped before it finished)'));
  }
}
