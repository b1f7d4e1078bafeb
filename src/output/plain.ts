// Plain line output (not a TTY, or --output plain): Ansible's familiar TASK/ok/changed lines.
import { createInterface } from 'node:readline/promises';
import type { RunListener } from '../engine/events.js';
import type { HostTaskResult, RunReport, TaskInfo } from '../engine/results.js';
import { renderDiff } from './diff.js';
import { failureDetails, hostLine, indent, itemLines, showsMessage } from './format.js';
import { banner, renderRecap } from './recap.js';
import { color, statusColor } from './style.js';

export interface OutputOptions {
  stream: NodeJS.WriteStream;
  color: boolean;
  diff: boolean;
  /** -v: show messages of ok results and per-item lines too. */
  verbose: number;
}

export class PlainOutput implements RunListener {
  constructor(private readonly o: OutputOptions) {}

  private write(s: string): void {
    this.o.stream.write(`${s}\n`);
  }

  playStart(name: string, _hosts: string[], check: boolean): void {
    this.write(`\n${this.bold(banner(`PLAY [${name}]${check ? ' (check mode)' : ''}`))}`);
  }

  taskStart(task: TaskInfo): void {
    this.write(`\n${this.bold(banner(`${task.handler ? 'RUNNING HANDLER' : 'TASK'} [${task.name}]`))}`);
  }

  hostResult(_task: TaskInfo, host: string, r: HostTaskResult): void {
    const paint = this.o.color ? statusColor(r.status) : (s: string) => s;
    for (const [i, l] of itemLines(host, r).entries()) {
      this.write(paint(l));
      const item = r.items![i]!;
      if (showsMessage(item, this.o.verbose)) this.write(indent(item.msg!));
    }
    this.write(paint(hostLine(host, r)));
    for (const l of failureDetails(r)) this.write(indent(l));
    // A one-line message of a change is already on the changed line.
    const onLine = r.status === 'changed' && !r.msg?.includes('\n');
    if (!r.items && !onLine && showsMessage(r, this.o.verbose)) this.write(indent(r.msg!));
    for (const w of r.warnings ?? [])
      this.write(this.o.color ? color.magenta(`[WARNING]: ${w}`) : `[WARNING]: ${w}`);
    // A diff is in the result only where --diff or the task's `diff:` asked for it.
    for (const d of r.diff ?? []) this.write(renderDiff(d, this.o.color));
  }

  async taskEnd(): Promise<void> {}

  warn(message: string): void {
    this.write(this.o.color ? color.magenta(`[WARNING]: ${message}`) : `[WARNING]: ${message}`);
  }

  async confirm(_task: TaskInfo, host: string, question: string): Promise<boolean> {
    this.write(`\n[${host}] ${question}`);
    const rl = createInterface({ input: process.stdin, output: this.o.stream });
    try {
      const answer = await rl.question('Done? [y/N] ');
      return /^y(es)?$/i.test(answer.trim());
    } finally {
      rl.close();
    }
  }

  runEnd(report: RunReport): void {
    this.write(`\n${renderRecap(report.stats, this.o.color)}`);
    if (report.interrupted) this.write('(interrupted: the run was stopped before it finished)');
  }

  private bold(s: string): string {
    return this.o.color ? color.bold(s) : s;
  }
}
