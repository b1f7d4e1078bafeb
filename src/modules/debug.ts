// debug: shows a message (rendered by the engine) or the value of a variable, as Ansible does. Never changed.
import { TemplateError } from '../template/errors.js';
import type { Module } from './module.js';

/** A value as the output shows it: strings as they are, everything else as JSON. */
function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export const debugModule: Module = {
  name: 'debug',
  summary: 'Show a message or the value of a variable (never changed)',
  args: {
    type: 'object',
    additionalProperties: false,
    not: { properties: { msg: true, var: true }, required: ['msg', 'var'] },
    properties: {
      msg: { description: 'The message to show (any value; strings are rendered from variables)' },
      var: {
        type: 'string',
        minLength: 1,
        description: "A variable name or expression whose value is shown (e.g. 'result.stdout_lines')",
      },
      verbosity: {
        type: 'integer',
        minimum: 0,
        description: 'Show the message only from this many -v on (default 0: always)',
      },
    },
  },
  check: 'full',
  async run(ctx, args) {
    // Ansible prints debug's message at the default verbosity: it is what the task is for.
    const verbosity = typeof args.verbosity === 'number' ? args.verbosity : 0;
    if (typeof args.var === 'string') {
      let value: unknown;
      try {
        value = ctx.template.evaluate(args.var, ctx.vars);
      } catch (e) {
        // Ansible shows this instead of failing, so a debug task can probe whether something is set.
        if (!(e instanceof TemplateError) || e.variable === undefined) throw e;
        value = 'VARIABLE IS NOT DEFINED!';
      }
      return {
        changed: false,
        msg: ctx.secrets.mask(`${args.var}: ${show(value)}`),
        data: { [args.var]: value },
        verbosity,
      };
    }
    return { changed: false, msg: ctx.secrets.mask(show(args.msg ?? 'Hello world!')), verbosity };
  },
};
