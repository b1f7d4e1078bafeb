// raw: sends a command line through the connection as it is: no quoting, no guards, no module machinery
// (what Ansible uses to bootstrap hosts, and what works on network devices and Windows shells). As Ansible's
// raw, it never runs in check mode (unless the task says check_mode: false) and always reports changed.
import { shq } from '../core/shell-quote.js';
import { defineModule } from './kit.js';
import { outputFields } from './run-command.js';

/** The arguments as the schema below declares them. */
type RawArgs = { free_form: string; executable?: string };

export const rawModule = defineModule<RawArgs>({
  name: 'raw',
  summary: 'Send a command line through the connection as it is (no quoting, no module machinery)',
  freeForm: 'free_form',
  commandLine: true,
  args: {
    type: 'object',
    additionalProperties: false,
    required: ['free_form'],
    properties: {
      free_form: { type: 'string', minLength: 1, description: 'The command line, sent unchanged' },
      executable: {
        type: 'string',
        minLength: 1,
        description: 'The shell to run the line with (absolute path): the line becomes its -c argument',
      },
    },
  },
  check: {
    skip: 'check mode: raw never runs in check mode (as in Ansible); give the task check_mode: false to run it anyway',
  },
  async run(ctx, args) {
    const cmd = args.free_form;
    const { executable } = args;
    const warnings: string[] = [];
    // Ansible's raw ignores the environment keyword (there is no module wrapper to set it); so do we.
    if (ctx.env && Object.keys(ctx.env).length > 0)
      warnings.push('raw does not support the environment keyword: it was not applied (as in Ansible)');
    if (ctx.secrets.mask(cmd) !== cmd)
      warnings.push(
        "the command line holds a secret value: a program it starts with the secret among its arguments shows it in the host's process list",
      );
    const r = await ctx.conn.exec(executable ? `${shq(executable)} -c ${shq(cmd)}` : cmd, {
      timeoutMs: ctx.timeoutMs,
      signal: ctx.signal,
      ...(ctx.become ? { become: ctx.become } : {}),
    });
    // Ansible's raw keeps stdout as the command printed it (no stripping); the _lines are split.
    const data = outputFields(r.rc, r.stdout, r.stderr);
    const warn = warnings.length > 0 ? { warnings } : {};
    if (r.timedOut)
      return { changed: true, failed: true, msg: `timed out after ${ctx.timeoutMs / 1000}s`, data, ...warn };
    if (r.rc !== 0) return { changed: true, failed: true, msg: 'non-zero return code', data, ...warn };
    return { changed: true, data, ...warn };
  },
});
