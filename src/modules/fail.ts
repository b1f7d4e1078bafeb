// fail: stops the host with a message (usually under `when:`).
import { fail } from './kit.js';
import type { Module } from './module.js';

export const failModule: Module = {
  name: 'fail',
  summary: 'Fail the host with a message',
  args: {
    type: 'object',
    additionalProperties: false,
    properties: {
      msg: { type: 'string', description: 'Why the run stops (rendered from variables)' },
    },
  },
  check: 'full',
  async run(ctx, args) {
    const msg = typeof args.msg === 'string' ? args.msg : 'Failed as requested from task';
    return fail(ctx.secrets.mask(msg));
  },
};
