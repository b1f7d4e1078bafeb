// Progress as the live output shows it: a task's on its host line (calendar_sync: mailboxes done of total,
// batch n of N, failures so far, time left) and a rollout's on its status line (sites done of total).
import type { RolloutProgress, TaskProgress } from '../core/progress.js';

/** A duration as people read it: 8s, 1m05s, 2h03m. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** The time left at the rate so far; undefined before anything is done, or when everything is. */
export function timeLeft(done: number, total: number, startedAt: number, now: number): number | undefined {
  if (done <= 0 || done >= total || now <= startedAt) return undefined;
  return ((now - startedAt) / done) * (total - done);
}

function left(done: number, total: number, startedAt: number, now: number): string[] {
  const ms = timeLeft(done, total, startedAt, now);
  return ms === undefined ? [] : [`about ${duration(ms)} left`];
}

/** `1250 of 5000 mailboxes · batch 26 of 100 · 3 failed · about 1m32s left` */
export function taskProgressText(p: TaskProgress, now = Date.now()): string {
  return [
    `${p.done} of ${p.total} ${p.unit}`,
    ...(p.batch ? [`batch ${p.batch.n} of ${p.batch.of}`] : []),
    `${p.failed ?? 0} failed`,
    ...left(p.done, p.total, p.startedAt, now),
  ].join(' · ');
}

/**
 * `ROLLOUT 37 of 100 sites done · 2 failed · running: berlin, lyon (+8) · about 1m20s left`, cut to `width`
 * columns (a status line must not wrap).
 */
export function rolloutProgressText(p: RolloutProgress, now = Date.now(), width = 100): string {
  const shown = p.running.slice(0, 3);
  const more = p.running.length - shown.length;
  const text = [
    `ROLLOUT ${p.done} of ${p.total} sites done`,
    `${p.failed} failed`,
    ...(p.running.length ? [`running: ${shown.join(', ')}${more > 0 ? ` (+${more})` : ''}`] : []),
    ...left(p.done, p.total, p.startedAt, now),
  ].join(' · ');
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}
