// Live progress on a terminal with listr2: each task is a tree node with one child per host, resolved
// as the engine reports results. Play headers, diffs and the recap are printed between the trees.
import { createInterface } from 'node:readline/promises';
import { Listr, type ListrTaskWrapper } from 'listr2';
import type { RunListener } from '../engine/events.js';
import type { HostTaskResult, RunReport, TaskInfo } from '../engine/results.js';
import { renderDiff } from './diff.js';
import { firstLine, shortStatus, showsMessage } from './format.js';
import type { OutputOptions } from './plain.js';
import { banner, renderRecap } from './recap.js';
import { color, statusColor } from './style.js';

interface Pending {
  resolve(r: HostTaskResult): void;
  result: Promise<HostTaskResult>;
  wrapper?: ListrTaskWrapper<unknown, never, never>;
}

export class ListrOutput implements RunListener {
  private pending = new Map<string, Pending>();
  private running: Promise<unknown> | undefined;
  private results: [string, HostTaskResult][] = [];

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
    for (const h of hosts) {
      let resolve!: (r: HostTaskResult) => void;
      const result = new Promise<HostTaskResult>((r) => {
        resolve = r;
      });
      this.pending.set(h, { resolve, result });
    }
    const title = `${task.handler ? 'handler: ' : ''}${task.name}`;
    const list = new Listr(
      [
        {
          title,
          task: (_ctx, t) =>
            t.newListr(
              hosts.map((host) => ({
                title: host,
                task: async (_c, ht) => {
                  const p = this.pending.get(host)!;
                  p.wrapper = ht as never;
                  const r = await p.result;
                  const paint = statusColor(r.status);
                  const detail = r.msg && r.status !== 'ok' ? color.dim(` ${firstLine(r.msg)}`) : '';
                  ht.title = `${host} ${paint(shortStatus(r))}${color.dim(` ${r.durationMs} ms`)}${detail}`;
                  if (r.status === 'skipped') ht.skip(ht.title);
                  if ((r.status === 'failed' && !r.ignored) || r.status === 'unreachable') {
                    throw new Error(
                      `${host}: ${r.status === 'unreachable' ? 'UNREACHABLE' : 'FAILED'}: ${r.msg ?? ''}`,
                    );
                  }
                },
              })),
              { concurrent: true, exitOnError: false },
            ),
        },
      ],
      {
        exitOnError: false,
        rendererOptions: {
          collapseSubtasks: false,
          collapseErrors: false,
          showErrorMessage: true,
          collapseSkips: false,
        },
      },
    );
    this.running = list.run().catch(() => undefined);
  }

  hostResult(_task: TaskInfo, host: string, result: HostTaskResult): void {
    this.results.push([host, result]);
    this.pending.get(host)?.resolve(result);
  }

  async taskEnd(): Promise<void> {
    await this.running;
    for (const [host, r] of this.results) {
      for (const w of r.warnings ?? []) this.write(color.magenta(`  [WARNING] ${host}: ${w}`));
      for (const item of r.items ?? [])
        if (showsMessage(item, this.o.verbose)) this.write(`  ${host} (item=${item.label}): ${item.msg}`);
      if (!r.items && showsMessage(r, this.o.verbose)) this.write(`  ${host}: ${r.msg}`);
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
