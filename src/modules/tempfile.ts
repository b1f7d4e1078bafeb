// tempfile: a new temporary file or directory on the host, readable by its creator only (0600 / 0700), named
// <prefix><random><suffix> in `path` or the host's temporary directory ($TMPDIR, else /tmp), as Python's
// mkstemp/mkdtemp name them. Always changed (Ansible's behaviour: every run makes a new one).
//
// Check mode: Ansible's tempfile has no check mode support, so the task is skipped there (and registers no
// path); the same here. A later task that uses the path needs `when: tmp.path is defined` in check mode,
// as with Ansible.
import { shq } from '../core/shell-quote.js';
import { defineModule, fail } from './kit.js';
import type { ModuleResult } from './module.js';
import { execOn } from './remote.js';

/** The script that creates the entry without racing another process (noclobber / mkdir) and prints its path. */
export function tempfileScript(opts: {
  state: 'file' | 'directory';
  path?: string;
  prefix: string;
  suffix: string;
}): string {
  const dir =
    opts.path === undefined
      ? // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a JS template
        'd="${TMPDIR:-/tmp}"'
      : opts.path === '~' || opts.path.startsWith('~/')
        ? `d="$HOME"${shq(opts.path.slice(1))}`
        : `d=${shq(opts.path)}`;
  const create =
    opts.state === 'directory' ? 'mkdir -m 700 "$p" 2>/dev/null' : '( set -C; : > "$p" ) 2>/dev/null';
  return [
    dir,
    '[ -d "$d" ] || { echo "$d is not a directory: give path an existing directory" >&2; exit 3; }',
    'umask 077',
    'n=0',
    'while [ $n -lt 100 ]; do',
    "  r=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \\n')",
    `  p="\${d%/}/"${shq(opts.prefix)}"$r"${shq(opts.suffix)}`,
    `  if ${create}; then echo "$p"; exit 0; fi`,
    '  [ -w "$d" ] || { echo "cannot create in $d: permission denied" >&2; exit 4; }',
    '  n=$((n+1))',
    'done',
    'echo "no free temporary name in $d after 100 tries" >&2; exit 5',
  ].join('\n');
}

/** The arguments as the schema below declares them (defaults applied). */
type TempfileArgs = { state: 'file' | 'directory'; path?: string; prefix: string; suffix: string };

export const tempfileModule = defineModule<TempfileArgs>({
  name: 'tempfile',
  summary: 'Create a new temporary file or directory on the host (registers its path; always changed)',
  args: {
    type: 'object',
    additionalProperties: false,
    properties: {
      state: {
        type: 'string',
        enum: ['file', 'directory'],
        default: 'file',
        description: 'Whether to create a file or a directory',
      },
      path: {
        type: 'string',
        minLength: 1,
        description: "The directory to create it in (default: the host's temporary directory)",
      },
      prefix: { type: 'string', default: 'ansible.', description: 'Start of the name' },
      suffix: { type: 'string', default: '', description: 'End of the name' },
    },
  },
  check: {
    skip: 'check mode: tempfile does not run in check mode (as in Ansible), so no path is registered',
  },
  async run(ctx, args): Promise<ModuleResult> {
    const { prefix, suffix, state } = args;
    if (prefix.includes('/') || suffix.includes('/'))
      return fail('prefix and suffix must not contain /: give the directory as path');
    const r = await execOn(
      ctx,
      tempfileScript({
        state,
        prefix,
        suffix,
        ...(args.path !== undefined ? { path: args.path } : {}),
      }),
    );
    if (r.rc !== 0) return fail(`cannot create a temporary ${state}: ${r.stderr.trim() || `exit ${r.rc}`}`);
    const path = r.stdout.trim();
    return { changed: true, msg: `created ${path}`, data: { path, state } };
  },
});
