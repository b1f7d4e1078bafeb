// Turns any error into a message for people and an exit code. Stack traces only with EWSPLAY_DEBUG=1.
import { existsSync, readFileSync } from 'node:fs';
import { ExitCode, formatProblems, UsageError, UserError } from '../load/problems.js';

export function reportError(e: unknown, mask: (s: string) => string = (s) => s): number {
  if (e instanceof UserError) {
    const text = formatProblems(e.problems, (file) =>
      existsSync(file) ? readFileSync(file, 'utf8') : undefined,
    );
    const n = e.problems.length;
    process.stderr.write(`${mask(text)}\n${n > 1 ? `${n} problems found\n` : ''}`);
    return e.exitCode;
  }
  if (e instanceof UsageError) {
    process.stderr.write(`error: ${mask(e.message)}\n${e.hint ? `hint: ${mask(e.hint)}\n` : ''}`);
    return e.exitCode;
  }
  const message = e instanceof Error ? e.message : String(e);
  process.stderr.write(`internal error: ${mask(message)}\n`);
  if (process.env.EWSPLAY_DEBUG && e instanceof Error && e.stack) process.stderr.write(`${mask(e.stack)}\n`);
  else
    process.stderr.write(
      'This is a bug in ewsplay. Re-run with EWSPLAY_DEBUG=1 for details and report it.\n',
    );
  return ExitCode.internal;
}
