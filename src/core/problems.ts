// User mistakes are reported as `file:line:col: message` with the source line and a caret,
// never as a stack trace. Every loader collects Problems and throws one UserError with all of them.

export interface SourcePos {
  file: string;
  /** 1-based */
  line: number;
  /** 1-based */
  col: number;
}

export interface Problem extends SourcePos {
  message: string;
  hint?: string;
}

/** Exit codes, documented in the README. */
export const ExitCode = {
  ok: 0,
  /** Internal error (a bug in ewsplay). */
  internal: 1,
  /** Usage or validation error in the user's files or command line. */
  usage: 2,
  /** At least one host failed. */
  hostFailed: 3,
  /** At least one host was unreachable (and none failed otherwise). */
  hostUnreachable: 4,
  /** Another run holds the lock of a site (see README: Rolling out to many sites). */
  locked: 5,
  /** The run was interrupted (Ctrl-C). */
  interrupted: 130,
} as const;

export class UserError extends Error {
  override name = 'UserError';
  readonly exitCode: number = ExitCode.usage;
  constructor(readonly problems: Problem[]) {
    super(problems.map((p) => `${p.file}:${p.line}:${p.col}: ${p.message}`).join('\n'));
  }
  static at(pos: SourcePos, message: string, hint?: string): UserError {
    return new UserError([{ ...pos, message, ...(hint ? { hint } : {}) }]);
  }
}

/** A mistake with no file position (CLI flags, missing files). */
export class UsageError extends Error {
  override name = 'UsageError';
  readonly exitCode: number = ExitCode.usage;
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** Renders problems with a source snippet and caret. `sources` maps file -> text (read lazily if absent). */
export function formatProblems(
  problems: Problem[],
  readSource: (file: string) => string | undefined,
): string {
  const out: string[] = [];
  for (const p of problems) {
    out.push(`${p.file}:${p.line}:${p.col}: ${p.message}`);
    const text = readSource(p.file);
    const full = text === undefined ? undefined : lineOf(text, p.line);
    if (full !== undefined) {
      // A long line (minified JSON, a huge flow list) is shown around the column, not whole.
      const start = full.length > SNIPPET_WIDTH ? Math.max(0, p.col - 1 - SNIPPET_WIDTH / 2) : 0;
      const line = full.slice(start, start + SNIPPET_WIDTH);
      const gutter = `${p.line} | ${start > 0 ? '…' : ''}`;
      out.push(`  ${gutter}${line}${start + SNIPPET_WIDTH < full.length ? '…' : ''}`);
      out.push(`  ${' '.repeat(gutter.length)}${' '.repeat(Math.max(0, p.col - 1 - start))}^`);
    }
    if (p.hint) out.push(`  hint: ${p.hint}`);
  }
  return out.join('\n');
}

const SNIPPET_WIDTH = 160;

/** The 1-based line of a text, without splitting all of it (inputs may hold 250,000 lines). */
function lineOf(text: string, line: number): string | undefined {
  let start = 0;
  for (let n = 1; n < line; n++) {
    const next = text.indexOf('\n', start);
    if (next < 0) return undefined;
    start = next + 1;
  }
  const end = text.indexOf('\n', start);
  return text.slice(start, end < 0 ? text.length : end).replace(/\r$/, '');
}
