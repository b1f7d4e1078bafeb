// The ewsplay command line run inside the test process (no node start-up per case): output captured, the
// exit code read back, the working directory set for the call. Calls must not overlap (they share stdout).
import { main } from '../../src/cli/main.js';

export interface CliOutcome {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export async function runCli(args: string[], cwd: string): Promise<CliOutcome> {
  const out: string[] = [];
  const err: string[] = [];
  const text = (chunk: unknown) =>
    typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString();
  const writeOut = process.stdout.write;
  const writeErr = process.stderr.write;
  process.stdout.write = ((chunk: unknown) => out.push(text(chunk)) > 0) as typeof process.stdout.write;
  process.stderr.write = ((chunk: unknown) => err.push(text(chunk)) > 0) as typeof process.stderr.write;
  const before = process.cwd();
  process.chdir(cwd);
  process.exitCode = 0;
  const started = performance.now();
  try {
    await main(args);
  } finally {
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
    process.chdir(before);
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { code, stdout: out.join(''), stderr: err.join(''), ms: performance.now() - started };
}

/** A stack trace or an internal error in output: what no user mistake may ever print. */
export function crashSigns(output: string): string | undefined {
  const stack = /^\s{4}at .+$/m.exec(output);
  if (stack) return `stack trace line: ${stack[0]}`;
  if (/internal error/i.test(output)) return 'internal error';
  if (/Cannot read propert|is not a function|undefined \(reading|Symbol\(/.test(output))
    return 'a JavaScript error message';
  return undefined;
}
