// ping: Ansible's connection test. It proves more than a TCP or SSH handshake: a command runs on the host
// (as the become user when become is on) and answers. Returns `ping: <data>`; data=crash fails on purpose,
// as Ansible's does, to test failure handling. Changes nothing, so it runs in check mode too.
import { fail } from './kit.js';
import type { Module } from './module.js';
import { taskExecOptions } from './remote.js';

/** Answers the same in sh, PowerShell and cmd. */
export const PING = 'echo pong';

export const pingModule: Module = {
  name: 'ping',
  summary: 'Check that a command runs on the host and answers (Ansible ping); returns ping: pong',
  args: {
    type: 'object',
    additionalProperties: false,
    properties: {
      data: {
        type: 'string',
        default: 'pong',
        description: "What to return as 'ping'; 'crash' fails the task on purpose",
      },
    },
  },
  check: 'full',
  async run(ctx, args) {
    const data = typeof args.data === 'string' ? args.data : 'pong';
    if (data === 'crash') return fail('boom (ping data=crash)');
    const r = await ctx.conn.exec(PING, taskExecOptions(ctx));
    if (r.rc !== 0 || !r.stdout.includes('pong'))
      return fail(
        `the host did not answer the ping command (rc ${r.rc}): ${ctx.secrets.mask(r.stderr.trim() || r.stdout.trim())}`,
      );
    return { changed: false, data: { ping: data } };
  },
};
