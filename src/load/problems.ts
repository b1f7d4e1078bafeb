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
    const line = text?.split(/\r?\n/)[p.line - 1];
    if (line !== undefined) {
      const gutter = `${p.line} | `;
      out.push(`  ${gutter}${line}`);
      out.push(`  ${' '.repeat(gutter.length)}${' '.repeat(Math.max(0, p.col - 1))}^`);
    }
    if (p.hint) out.push(`  hint: ${p.hint}`);
  }
  return out.join('\n');
}
