// What a task's `loop:` (or with_*, or an include's loop) rendered to must be a list of at most
// MAX_LOOP_ITEMS items: a loop of millions would hold the run (and its output and report) for hours.
import { MAX_LOOP_ITEMS } from '../core/bounds.js';

/** Why `items` cannot be looped over, or undefined when it can. `show` renders a value for the message. */
export function loopItemsProblem(items: unknown, show: (value: unknown) => string): string | undefined {
  if (!Array.isArray(items)) return `loop must be a list, got ${kindOf(items)}: ${show(items)}`;
  if (items.length > MAX_LOOP_ITEMS)
    return `loop over ${items.length.toLocaleString('en')} items is over the limit of ${MAX_LOOP_ITEMS.toLocaleString('en')} items per task: split the work or loop over less`;
  return undefined;
}

function kindOf(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  return typeof v === 'object' ? 'mapping' : typeof v;
}
