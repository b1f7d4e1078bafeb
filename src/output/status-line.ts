// A status line under scrolling output on a terminal: a rollout's sites done of total under the sites'
// own lines. While attached, every write to the given streams goes above it: the line is cleared before the
// write and drawn again after a write that ends a line (listr2 takes over the streams the same way). It is
// redrawn every second too, so the time left it shows stays current.
import type { RolloutProgress } from '../core/progress.js';
import { rolloutProgressText } from './progress.js';
import { color } from './style.js';

const CLEAR = '\r\x1b[2K';

type Write = NodeJS.WriteStream['write'];

export class StatusLine {
  private shown = false;
  private restore: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private draw: (s: string) => boolean;

  /** `render` gives the line for a width in columns (it must not be wider: a wrapped line cannot be cleared). */
  constructor(
    private readonly term: NodeJS.WriteStream,
    private readonly render: (columns: number) => string,
  ) {
    this.draw = term.write.bind(term) as (s: string) => boolean;
  }

  attach(streams: NodeJS.WriteStream[] = [this.term]): void {
    for (const stream of new Set([this.term, ...streams])) {
      const original = stream.write;
      const write = original.bind(stream) as (...args: unknown[]) => boolean;
      if (stream === this.term) this.draw = write;
      stream.write = ((chunk: unknown, ...rest: unknown[]) => {
        this.hide();
        const ok = write(chunk, ...rest);
        const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : '';
        if (text.endsWith('\n')) this.show();
        return ok;
      }) as Write;
      this.restore.push(() => {
        stream.write = original;
      });
    }
    this.timer = setInterval(() => this.update(), 1000);
    this.timer.unref();
    this.show();
  }

  /** Draws the line again (its content comes from `render`). */
  update(): void {
    this.hide();
    this.show();
  }

  detach(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.hide();
    for (const r of this.restore.splice(0)) r();
  }

  private hide(): void {
    if (!this.shown) return;
    this.shown = false;
    this.draw(CLEAR);
  }

  private show(): void {
    if (this.shown) return;
    const text = this.render(Math.max(20, (this.term.columns || 80) - 1));
    if (!text) return;
    this.shown = true;
    this.draw(text);
  }
}

/** A rollout's status line: `progress` takes the rollout's events; attach and detach `line` around the run. */
export function rolloutStatusLine(
  term: NodeJS.WriteStream,
  colored: boolean,
): { line: StatusLine; progress(p: RolloutProgress): void } {
  let latest: RolloutProgress | undefined;
  const line = new StatusLine(term, (width) => {
    if (!latest) return '';
    const text = rolloutProgressText(latest, Date.now(), width);
    return colored ? color.bold(text) : text;
  });
  return {
    line,
    progress(p) {
      latest = p;
      line.update();
    },
  };
}
