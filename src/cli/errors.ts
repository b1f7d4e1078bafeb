// Turns any error into a message for people and an exit code. Stack traces only with EWSPLAY_DEBUG=1.
import { readInputTextSync } from '../core/input-file.js';
import { ExitCode, formatProblems, UsageError, UserError } from '../core/problems.js';

export function reportError(e: unknown, mask: (s: string) => string = (s) => s): number {
  if (e instanceof UserError) {
    // Many problems of one file read it once.
    const sources = new Map<string, string | undefined>();
    const text = formatProblems(e.problems, (file) => {
      if (!sources.has(file)) sources.set(file, sourceText(file));
      return sources.get(file);
    });
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

/** A file's text for the snippet under a problem; none for a file that is missing, huge or not a file. */
function sourceText(file: string): string | undefined {
  try {
    return readInputTextSync(file);
  } catch {
    return undefined;
  }
}
