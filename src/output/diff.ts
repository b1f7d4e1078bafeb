// Unified diffs for --diff, colored on a terminal.
import { createRequire } from 'node:module';
import type * as Diff from 'diff';
import type { FileDiff } from '../core/file-diff.js';
import { color } from './style.js';

// Loaded on the first diff: most runs have no --diff, and loading it costs ~13 ms of every start-up.
let diffLib: typeof Diff | undefined;

export function renderDiff(d: FileDiff, useColor: boolean): string {
  diffLib ??= createRequire(import.meta.url)('diff') as typeof Diff;
  const patch = diffLib.createTwoFilesPatch(
    `${d.path} (before)`,
    `${d.path} (after)`,
    d.before,
    d.after,
    '',
    '',
    {
      context: 3,
    },
  );
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
