// assert: every expression in `that` must hold (evaluated like `when:`); fails with fail_msg otherwise.
import { pyTruthy } from '../template/python.js';
import { fail } from './kit.js';
import type { Module } from './module.js';

/** `when:` truth: Python truthiness, and the strings Ansible reads as false. */
function holds(value: unknown): boolean {
  if (typeof value === 'string')
    return !['', 'false', 'no', 'off', '0', 'n', 'f'].includes(value.trim().toLowerCase());
  return pyTruthy(value);
}

const MESSAGE = {
  anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
} as const;

export const assertModule: Module = {
  name: 'assert',
  summary: 'Fail unless every given expression holds',
  args: {
    type: 'object',
    additionalProperties: false,
    required: ['that'],
    not: { properties: { fail_msg: true, msg: true }, required: ['fail_msg', 'msg'] },
    properties: {
      that: {
        description: 'Expressions as in `when:` (e.g. "result.rc == 0", "\'ok\' in out.stdout")',
        anyOf: [
          { type: 'string', minLength: 1 },
          { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
        ],
      },
      fail_msg: { description: 'The message when an expression is false', ...MESSAGE },
      msg: { description: 'Same as fail_msg', ...MESSAGE },
      success_msg: { description: 'The message when all hold', ...MESSAGE },
      quiet: { type: 'boolean', default: false, description: 'Show no message on success' },
    },
  },
  check: 'full',
  async run(ctx, args) {
    const that = Array.isArray(args.that) ? args.that.map(String) : [String(args.that)];
    const text = (m: unknown) => ctx.secrets.mask(Array.isArray(m) ? m.join('\n') : String(m));
    for (const expression of that) {
      if (holds(ctx.template.evaluate(expression, ctx.vars))) continue;
      const custom = args.fail_msg ?? args.msg;
      return fail(custom === undefined ? `Assertion failed: ${ctx.secrets.mask(expression)}` : text(custom), {
        assertion: expression,
        evaluated_to: false,
      });
    }
    if (args.quiet === true) return { changed: false };
    return {
      changed: false,
      msg: args.success_msg === undefined ? 'All assertions passed' : text(args.success_msg),
    };
  },
};
