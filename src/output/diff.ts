// Unified diffs for --diff, colored on a terminal.
import { createTwoFilesPatch } from 'diff';
import type { FileDiff } from '../modules/module.js';
import { color } from './style.js';

export function renderDiff(d: FileDiff, useColor: boolean): string {
  const patch = createTwoFilesPatch(`${d.path} (before)`, `${d.path} (after)`, d.before, d.after, '', '', {
    context: 3,
  });
  const lines = patch.split('\n').slice(1); // drop the "=====" separator line
  if (!useColor) return lines.join('\n').trimEnd();
  return lines
    .map((l) => {
      if (l.startsWith('+') && !l.startsWith('+++')) return color.green(l);
      if (l.startsWith('-') && !l.startsWith('---')) return color.red(l);
      if (l.startsWith('@@')) return color.cyan(l);
      return l;
    })
    .join('\n')
    .trimEnd();
}
