// Progress as the live output shows it: a task's counts on its host line (calendar_sync), a rollout's sites
// on a status line kept under the lines written meanwhile.
import { describe, expect, it } from 'vitest';
import { duration, rolloutProgressText, taskProgressText, timeLeft } from '../../../src/output/progress.js';
import { rolloutStatusLine } from '../../../src/output/status-line.js';

describe('progress text', () => {
  it('says durations as people read them', () => {
    expect(duration(0)).toBe('0s');
    expect(duration(8_400)).toBe('8s');
    expect(duration(65_000)).toBe('1m05s');
    expect(duration(3_780_000)).toBe('1h03m');
  });

  it('estimates the time left from the rate so far, once something is done and until all is', () => {
    expect(timeLeft(0, 10, 0, 5_000)).toBeUndefined();
    expect(timeLeft(10, 10, 0, 5_000)).toBeUndefined();
    expect(timeLeft(1250, 5000, 1_000, 31_000)).toBe(90_000);
  });

  it("shows a sync's mailboxes done of total, batch n of N, failures so far and the time left", () => {
    const p = { unit: 'mailboxes', total: 5000, batch: { n: 26, of: 100 }, startedAt: 1_000 };
    expect(taskProgressText({ ...p, done: 1250, failed: 3 }, 31_000)).toBe(
      '1250 of 5000 mailboxes · batch 26 of 100 · 3 failed · about 1m30s left',
    );
    expect(taskProgressText({ ...p, done: 0, batch: { n: 1, of: 100 } }, 1_500)).toBe(
      '0 of 5000 mailboxes · batch 1 of 100 · 0 failed',
    );
    expect(taskProgressText({ unit: 'items', done: 2, total: 4, startedAt: 0 }, 4_000)).toBe(
      '2 of 4 items · 0 failed · about 4s left',
    );
  });

  it("shows a rollout's sites done of total, failures, the running sites and the time left, within a width", () => {
    const running = ['berlin', 'lyon', 'paris', 'rome', 'oslo'];
    const p = { total: 100, done: 37, failed: 2, running, startedAt: 0 };
    expect(rolloutProgressText(p, 37_000)).toBe(
      'ROLLOUT 37 of 100 sites done · 2 failed · running: berlin, lyon, paris (+2) · about 1m03s left',
    );
    expect(rolloutProgressText({ ...p, done: 0, running: [] }, 1_000)).toBe(
      'ROLLOUT 0 of 100 sites done · 2 failed',
    );
    const cut = rolloutProgressText(p, 37_000, 40);
    expect(cut).toHaveLength(40);
    expect(cut).toMatch(/^ROLLOUT 37 of 100 sites done · 2 failed.*…$/);
  });
});

describe('status line', () => {
  /** A terminal that records what is written to it. */
  const terminal = () => {
    const writes: string[] = [];
    const term = {
      isTTY: true,
      columns: 80,
      write(s: string) {
        writes.push(s);
        return true;
      },
    } as unknown as NodeJS.WriteStream;
    return { term, writes };
  };

  it('stays under the lines written meanwhile, on any attached stream, and is gone when detached', () => {
    const { term, writes } = terminal();
    const other = terminal();
    const status = rolloutStatusLine(term, false);
    const original = term.write;
    status.line.attach([term, other.term]);
    expect(writes).toEqual([]); // nothing to show before the first event
    status.progress({ total: 3, done: 0, failed: 0, running: ['a'], startedAt: Date.now() });
    expect(writes).toEqual(['ROLLOUT 0 of 3 sites done · 0 failed · running: a']);
    writes.length = 0;
    term.write('[a] TASK [x]\n');
    expect(writes).toEqual([
      '\r\x1b[2K',
      '[a] TASK [x]\n',
      'ROLLOUT 0 of 3 sites done · 0 failed · running: a',
    ]);
    writes.length = 0;
    // A warning on stderr: the line is cleared on the terminal first and drawn again after.
    other.term.write('[WARNING]: w\n');
    expect(writes).toEqual(['\r\x1b[2K', 'ROLLOUT 0 of 3 sites done · 0 failed · running: a']);
    expect(other.writes).toEqual(['[WARNING]: w\n']);
    writes.length = 0;
    // A partial line is not followed by the status line (it would be glued to it).
    term.write('part');
    expect(writes).toEqual(['\r\x1b[2K', 'part']);
    term.write('ial\n');
    expect(writes.at(-1)).toMatch(/^ROLLOUT 0 of 3/);
    writes.length = 0;
    status.line.detach();
    expect(writes).toEqual(['\r\x1b[2K']);
    expect(term.write).toBe(original);
    term.write('after\n');
    expect(writes).toEqual(['\r\x1b[2K', 'after\n']);
  });
});
