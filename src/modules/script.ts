// script: copies a control-node script to a fresh temp directory on the host (mode 0700), runs it there with
// its arguments through the host's shell, and removes it, as Ansible's script does. creates/removes are tested
// first (one round trip that also makes the temp directory), so a guarded script is neither sent nor run.
import { posix } from 'node:path';
import { shq } from '../core/shell-quote.js';
import { fail } from './kit.js';
import type { Module, ModuleResult } from './module.js';
import { execOn, readControlFile, writeFile } from './remote.js';
import { outputFields, shlexSplit } from './run-command.js';

/** Where the first shell word of `s` ends (quotes and backslashes as shlex reads them). */
export function firstWordEnd(s: string): number {
  let i = 0;
  let quote: string | undefined;
  for (; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"') i++;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '\\') i++;
    else if (/\s/.test(c)) break;
  }
  return i;
}

const MARK = 'ewsplay-script:';

export const scriptModule: Module = {
  name: 'script',
  summary: 'Copy a control-node script to the host, run it with its arguments, remove it (creates, removes)',
  freeForm: 'cmd',
  commandLine: true,
  args: {
    type: 'object',
    additionalProperties: false,
    required: ['cmd'],
    properties: {
      cmd: {
        type: 'string',
        minLength: 1,
        description:
          "The script (a control-node path, relative to the playbook: its files/ folder first) and its arguments, which the host's shell reads as written",
      },
      creates: {
        type: 'string',
        minLength: 1,
        description: 'A path on the host: when it exists, the script is not run (the task is skipped)',
      },
      removes: {
        type: 'string',
        minLength: 1,
        description:
          'A path on the host: when it does not exist, the script is not run (the task is skipped)',
      },
      chdir: {
        type: 'string',
        minLength: 1,
        description: 'Change into this directory (an absolute path) on the host before running the script',
      },
      executable: {
        type: 'string',
        minLength: 1,
        description: 'The program to run the script with (e.g. /bin/bash or python3), instead of its #! line',
      },
    },
  },
  check: 'probe',
  async run(ctx, args) {
    const cmd = String(args.cmd).trim();
    let parts: string[];
    try {
      parts = shlexSplit(cmd);
    } catch (e) {
      return fail(`cannot split the script line: ${(e as Error).message}`);
    }
    const source = parts[0];
    if (!source) return fail('give the script to run');
    const creates = typeof args.creates === 'string' ? args.creates : undefined;
    const removes = typeof args.removes === 'string' ? args.removes : undefined;
    const chdir = typeof args.chdir === 'string' ? args.chdir : undefined;
    const executable = typeof args.executable === 'string' ? args.executable : undefined;
    // As Ansible: a relative chdir would depend on the remote user's login directory.
    if (chdir && !chdir.startsWith('/'))
      return fail(`chdir ${chdir} must be an absolute path for a Unix-aware remote node`);
    const { content } = await readControlFile(ctx, source, 'files');
    if (ctx.check && !creates && !removes)
      // As Ansible: the script may do anything, so without creates/removes nothing can be predicted.
      return { changed: false, skipped: true, msg: 'Check mode is not supported for this task.' };

    // One round trip: the guards (as Ansible tests them: plain paths, no glob, no chdir), then a temp dir.
    const probe = [
      ...(creates ? [`[ -e ${shq(creates)} ] && { echo ${MARK}exists; exit 0; }`] : []),
      ...(removes ? [`[ -e ${shq(removes)} ] || { echo ${MARK}absent; exit 0; }`] : []),
      ctx.check
        ? `echo ${MARK}run`
        : `d=$(mktemp -d "\${TMPDIR:-/tmp}/ewsplay-script.XXXXXX") || exit 1; echo "${MARK}dir=$d"`,
    ].join('\n');
    const p = await execOn(ctx, probe);
    const said = p.stdout
      .split('\n')
      .find((l) => l.startsWith(MARK))
      ?.slice(MARK.length);
    if (said === undefined)
      throw new Error(`cannot prepare the script on the host: ${p.stderr.trim() || `exit ${p.rc}`}`);
    if (said === 'exists')
      return { changed: false, skipped: true, msg: `${creates} exists, matching creates option` };
    if (said === 'absent')
      return { changed: false, skipped: true, msg: `${removes} does not exist, matching removes option` };
    if (ctx.check) return { changed: true, msg: 'the script would run (it is not run in check mode)' };

    const dir = said.slice('dir='.length);
    // The script keeps its name (a tool may print $0), made safe for the shell line.
    const remote = posix.join(dir, posix.basename(source).replace(/[^\w.+-]/g, '_') || 'script');
    const removeDir = `rm -rf -- ${shq(dir)}`;
    try {
      await writeFile(ctx, remote, content, { mode: '0700' });
      // The arguments reach the host's shell as written (Ansible's script keeps their quoting).
      const rest = cmd.slice(firstWordEnd(cmd));
      const line = `${executable ? `${executable} ` : ''}${shq(remote)}${rest}`;
      const warnings =
        ctx.secrets.mask(rest) === rest
          ? []
          : [
              "the script's arguments hold a secret value, which every user of the host sees in its process list; pass it in the environment (environment:) instead",
            ];
      const script = [
        `trap ${shq(removeDir)} EXIT`,
        ...(chdir ? [`cd ${shq(chdir)} || exit 1`] : []),
        line,
      ].join('\n');
      const r = await execOn(ctx, script);
      const data = outputFields(r.rc, r.stdout, r.stderr);
      const out: ModuleResult = { changed: true, data, ...(warnings.length ? { warnings } : {}) };
      if (r.timedOut) {
        // A killed shell runs no trap: clean up from here.
        await execOn(ctx, removeDir).catch(() => undefined);
        return { ...out, failed: true, msg: `timed out after ${ctx.timeoutMs / 1000}s` };
      }
      if (r.rc !== 0) return { ...out, failed: true, msg: 'non-zero return code' };
      return out;
    } catch (e) {
      await execOn(ctx, removeDir).catch(() => undefined);
      throw e;
    }
  },
};
