// What command and shell share: the creates/removes/chdir guard, decided on the host in the same round trip
// as the command itself, and Ansible's result fields (rc, stdout, stdout_lines, start/end/delta, ...).
import { randomBytes } from 'node:crypto';
import { shq } from '../core/shell-quote.js';
import { fail } from './kit.js';
import type { ModuleContext, ModuleResult } from './module.js';
import { taskExecOptions } from './remote.js';

export interface CommandSpec {
  /** The sh script that runs the user's command (already quoted as needed). */
  script: string;
  /** What the result's `cmd` shows: the argv list (command) or the string (shell), as Ansible does. */
  shown: string | string[];
  chdir?: string;
  creates?: string;
  removes?: string;
  stdin?: string;
  stripEmptyEnds: boolean;
}

/** Arguments command and shell both take (JSON Schema properties). */
export const GUARD_PROPERTIES = {
  chdir: { type: 'string', minLength: 1, description: 'Change into this directory on the host first' },
  creates: {
    type: 'string',
    minLength: 1,
    description: 'A path or glob (relative to chdir): when it exists, the command is not run',
  },
  removes: {
    type: 'string',
    minLength: 1,
    description: 'A path or glob (relative to chdir): when it does not exist, the command is not run',
  },
  stdin: { type: 'string', description: "Text written to the command's standard input" },
  stdin_add_newline: {
    type: 'boolean',
    default: true,
    description: 'Append a newline to stdin',
  },
  strip_empty_ends: {
    type: 'boolean',
    default: true,
    description: 'Strip trailing newlines from stdout and stderr',
  },
} as const;

export function commandSpec(
  args: Record<string, unknown>,
  script: string,
  shown: string | string[],
): CommandSpec {
  const spec: CommandSpec = { script, shown, stripEmptyEnds: args.strip_empty_ends !== false };
  for (const key of ['chdir', 'creates', 'removes'] as const)
    if (typeof args[key] === 'string') spec[key] = args[key];
  if (typeof args.stdin === 'string')
    spec.stdin = args.stdin_add_newline === false ? args.stdin : `${args.stdin}\n`;
  return spec;
}

/**
 * Quotes a glob for sh so that only its wildcards (* ? [...]) stay active: every other character,
 * shell metacharacters included, is literal.
 */
export function quoteGlob(pattern: string): string {
  return pattern
    .split(/([*?]|\[[^\]/]*\])/)
    .map((part, i) => (i % 2 === 1 ? part : part === '' ? '' : shq(part)))
    .join('');
}

type Outcome = 'nochdir' | 'exists' | 'absent' | 'would-run';

/** The guard lines: each early exit prints `<nonce>:<outcome>` (a line the command itself cannot print). */
function guardLines(spec: CommandSpec, nonce: string): string[] {
  const say = (o: Outcome) => `printf '%s\\n' '${nonce}:${o}'; exit 0`;
  const lines: string[] = [];
  if (spec.chdir) lines.push(`cd ${shq(spec.chdir)} 2>/dev/null || { ${say('nochdir')}; }`);
  // Ansible tests `creates`/`removes` with glob.glob, where a dangling link does not count.
  if (spec.creates)
    lines.push(`for f in ${quoteGlob(spec.creates)}; do if [ -e "$f" ]; then ${say('exists')}; fi; done`);
  if (spec.removes)
    lines.push(
      `found=; for f in ${quoteGlob(spec.removes)}; do [ -e "$f" ] && found=1; done`,
      `[ -n "$found" ] || { ${say('absent')}; }`,
    );
  // The user's shell line runs in this same shell: leave it no variables of ours.
  if (spec.creates || spec.removes) lines.push('unset f found');
  return lines;
}

/** Ansible's timestamp form: 2024-05-01 12:00:00.123456 (local time). */
function stamp(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds() * 1000, 6)}`;
}

/** Ansible's duration form: 0:00:01.234000. */
function delta(ms: number): string {
  const s = Math.floor(ms / 1000);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${Math.floor(s / 3600)}:${p(Math.floor(s / 60) % 60)}:${p(s % 60)}.${p((ms % 1000) * 1000, 6)}`;
}

const lines = (s: string) => (s === '' ? [] : s.replace(/\r?\n$/, '').split(/\r?\n/));

/** Ansible's output fields of a command result (command, shell, raw, script): the _lines split the text. */
export function outputFields(rc: number, stdout: string, stderr: string) {
  return { rc, stdout, stderr, stdout_lines: lines(stdout), stderr_lines: lines(stderr) };
}

function notRun(spec: CommandSpec, outcome: Exclude<Outcome, 'would-run'>, check: boolean): ModuleResult {
  const did = check ? 'Would not run' : 'Did not run';
  if (outcome === 'nochdir') return fail(`cannot change into ${spec.chdir}: no such directory`);
  const because = outcome === 'exists' ? `'${spec.creates}' exists` : `'${spec.removes}' does not exist`;
  const stdout = `skipped, since ${outcome === 'exists' ? `${spec.creates} exists` : `${spec.removes} does not exist`}`;
  return {
    changed: false,
    msg: `${did} command since ${because}`,
    data: { cmd: spec.shown, rc: 0, stdout, stderr: '', stdout_lines: [stdout], stderr_lines: [] },
  };
}

/**
 * Runs a command task: creates/removes/chdir are decided on the host in the same round trip. In check mode the
 * outcome is predicted from creates/removes (a read-only probe); without them it cannot be predicted.
 */
export async function runCommandTask(ctx: ModuleContext, spec: CommandSpec): Promise<ModuleResult> {
  // A program's arguments are visible to every user of the host (ps, /proc): a secret never goes there.
  // command's argv is known, so it is refused; a shell line may hand it to builtins only, so it is a warning.
  if (Array.isArray(spec.shown) && spec.shown.some((word) => ctx.secrets.mask(word) !== word))
    return fail(
      "refusing to run: a secret value is among the program's arguments, which every user of the host sees in its process list; pass it on stdin (stdin:) or in the environment (environment:) instead",
      { cmd: spec.shown },
    );
  const warnings =
    ctx.secrets.mask(spec.script) === spec.script
      ? []
      : [
          "the shell line holds a secret value: a program it starts with the secret among its arguments shows it in the host's process list; pass it on stdin (stdin:) or in the environment (environment:)",
        ];
  const withWarnings = (r: ModuleResult): ModuleResult => (warnings.length ? { ...r, warnings } : r);
  const nonce = randomBytes(12).toString('hex');
  const guard = guardLines(spec, nonce);
  const exec = (script: string, stdin?: string) =>
    ctx.conn.exec(script, { ...taskExecOptions(ctx), ...(stdin !== undefined ? { stdin } : {}) });
  const outcomeOf = (stdout: string): Outcome | undefined =>
    stdout.startsWith(`${nonce}:`) ? (stdout.slice(nonce.length + 1).trim() as Outcome) : undefined;

  if (ctx.check) {
    if (!spec.creates && !spec.removes)
      // Ansible's fields too (rc 0, empty output), so a later `when: result.rc == 0` reads as it does there.
      return {
        changed: false,
        skipped: true,
        msg: 'check mode: cannot predict',
        data: { cmd: spec.shown, ...outputFields(0, '', '') },
      };
    const r = await exec([...guard, `printf '%s\\n' '${nonce}:would-run'`].join('\n'));
    if (r.timedOut) return fail(`timed out after ${ctx.timeoutMs / 1000}s`);
    const outcome = outcomeOf(r.stdout);
    if (outcome === undefined)
      throw new Error(`cannot check creates/removes: ${r.stderr.trim() || `exit ${r.rc}`}`);
    // A chdir that an earlier task would create is missing in check mode: nothing exists below it yet.
    if (outcome === 'nochdir' && spec.removes) return withWarnings(notRun(spec, 'absent', true));
    if (outcome !== 'would-run' && outcome !== 'nochdir') return withWarnings(notRun(spec, outcome, true));
    return withWarnings({
      changed: true,
      msg: 'Command would have run if not in check mode',
      data: { cmd: spec.shown },
    });
  }

  const script = guard.length ? [...guard, spec.script].join('\n') : spec.script;
  const started = new Date();
  const r = await exec(script, spec.stdin);
  const ended = new Date();
  const outcome = outcomeOf(r.stdout);
  if (outcome && outcome !== 'would-run') return withWarnings(notRun(spec, outcome, false));
  const strip = (s: string) => (spec.stripEmptyEnds ? s.replace(/[\r\n]+$/, '') : s);
  const stdout = strip(r.stdout);
  const stderr = strip(r.stderr);
  const data = {
    cmd: spec.shown,
    ...outputFields(r.rc, stdout, stderr),
    start: stamp(started),
    end: stamp(ended),
    delta: delta(ended.getTime() - started.getTime()),
  };
  if (r.timedOut)
    return withWarnings({
      changed: true,
      failed: true,
      msg: `timed out after ${ctx.timeoutMs / 1000}s`,
      data,
    });
  if (r.rc !== 0) return withWarnings({ changed: true, failed: true, msg: 'non-zero return code', data });
  return withWarnings({ changed: true, data });
}

/** Splits a command line as Python's shlex.split does (POSIX mode, no comments): what Ansible's command does. */
export function shlexSplit(s: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false; // '' is a word when quoted ("")
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && (s[i + 1] === '"' || s[i + 1] === '\\')) word += s[++i];
      else word += c;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      inWord = true;
      if (c === "'" || c === '"') quote = c;
      else if (c === '\\') {
        if (i + 1 >= s.length) throw new Error('no escaped character after the final backslash');
        word += s[++i];
      } else word += c;
    }
  }
  if (quote) throw new Error(`no closing quotation (${quote}) in the command line`);
  if (inWord) words.push(word);
  return words;
}
