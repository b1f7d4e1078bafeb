// slurp: registers a file of the host as base64 `content`, as Ansible's slurp does. Read-only: never changed,
// and it runs in check mode too. One round trip, through the shell so that become applies (fetch reads
// privileged files the same way).
import { shq } from '../core/shell-quote.js';
import { fail } from './kit.js';
import type { Module, ModuleContext } from './module.js';
import { execOn } from './remote.js';

const MARK = 'ewsplay-slurp:';

export type SlurpOutcome =
  | { ok: true; content: Buffer }
  | { ok: false; why: 'missing' | 'directory' | 'unreadable' };

/** Reads a whole file of the host through its shell (as the task's become user). */
export async function slurpRemote(ctx: ModuleContext, path: string): Promise<SlurpOutcome> {
  const script = [
    `p=${shq(path)}`,
    `[ -e "$p" ] || { echo ${MARK}missing; exit 0; }`,
    `[ -d "$p" ] && { echo ${MARK}directory; exit 0; }`,
    `[ -r "$p" ] || { echo ${MARK}unreadable; exit 0; }`,
    `echo ${MARK}content`,
    'if command -v base64 >/dev/null 2>&1; then base64 < "$p"; else openssl base64 < "$p"; fi',
  ].join('\n');
  const r = await execOn(ctx, script);
  const nl = r.stdout.indexOf('\n');
  const head = r.stdout.slice(0, nl < 0 ? undefined : nl);
  if (r.rc !== 0 || !head.startsWith(MARK))
    throw new Error(`cannot read ${path}: ${r.stderr.trim() || `exit ${r.rc}`}`);
  const what = head.slice(MARK.length);
  if (what === 'missing' || what === 'directory' || what === 'unreadable') return { ok: false, why: what };
  return { ok: true, content: Buffer.from(r.stdout.slice(nl + 1).replace(/\s+/g, ''), 'base64') };
}

export const slurpModule: Module = {
  name: 'slurp',
  summary: 'Register a file of the host as base64 content (never changed; runs in check mode)',
  aliases: { path: 'src' },
  args: {
    type: 'object',
    additionalProperties: false,
    required: ['src'],
    properties: {
      src: { type: 'string', minLength: 1, description: 'The file on the host to read' },
    },
  },
  check: 'full',
  async run(ctx, args) {
    const src = String(args.src);
    const r = await slurpRemote(ctx, src);
    // Ansible's messages, word for word.
    if (!r.ok)
      return fail(
        r.why === 'missing'
          ? `file not found: ${src}`
          : r.why === 'directory'
            ? `source is a directory and must be a file: ${src}`
            : `file is not readable: ${src}`,
      );
    return {
      changed: false,
      data: { content: r.content.toString('base64'), encoding: 'base64', source: src },
    };
  },
};
