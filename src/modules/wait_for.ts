// wait_for: waits until a TCP port is open or closed, as seen FROM the host (through the connection's
// forwardOut, so the host needs no tool), or until a path exists or is gone (a small loop on the host).
// Read-only: never changed, and it runs the same in check mode.
import { setTimeout as sleep } from 'node:timers/promises';
import { shq } from '../core/shell-quote.js';
import { fail } from './kit.js';
import type { Module, ModuleResult } from './module.js';
import { portOpen, taskExecOptions } from './remote.js';

type Want = 'present' | 'absent';

const seconds = (description: string, fallback: number) =>
  ({ type: 'number', minimum: 0, default: fallback, description }) as const;

/** The loop that waits for a path on the host; exit 0 when it is as wanted, 1 when the time is up. */
export function pathWaitScript(path: string, want: Want, timeoutSec: number, sleepSec: number): string {
  const test = want === 'present' ? '[ -e "$p" ]' : '[ ! -e "$p" ]';
  return [
    `p=${shq(path)}`,
    `end=$(( $(date +%s) + ${Math.ceil(timeoutSec)} ))`,
    'while :; do',
    `  if ${test}; then exit 0; fi`,
    '  [ "$(date +%s)" -ge "$end" ] && exit 1',
    `  sleep ${sleepSec}`,
    'done',
  ].join('\n');
}

export const waitForModule: Module = {
  name: 'wait_for',
  summary:
    'Wait until a TCP port (seen from the host) is open or closed, or a path on the host appears or goes',
  args: {
    type: 'object',
    additionalProperties: false,
    oneOf: [
      { properties: { port: true }, required: ['port'] },
      { properties: { path: true }, required: ['path'] },
    ],
    properties: {
      host: {
        type: 'string',
        minLength: 1,
        default: '127.0.0.1',
        description: 'The address to connect to, from the target host',
      },
      port: { type: 'integer', minimum: 1, maximum: 65535, description: 'The TCP port' },
      path: { type: 'string', minLength: 1, description: 'A path on the host to wait for' },
      state: {
        type: 'string',
        enum: ['started', 'stopped', 'present', 'absent'],
        default: 'started',
        description:
          'started/present: the port accepts connections or the path exists; stopped/absent: the opposite',
      },
      timeout: seconds('Give up after this many seconds', 300),
      delay: seconds('Seconds to wait before the first check', 0),
      sleep: seconds('Seconds between checks', 1),
      connect_timeout: seconds('Seconds one connection attempt may take', 5),
      msg: { type: 'string', description: 'The message when the wait times out' },
    },
  },
  check: 'full',
  async run(ctx, args) {
    const want: Want = args.state === 'stopped' || args.state === 'absent' ? 'absent' : 'present';
    const delaySec = Number(args.delay ?? 0);
    const sleepSec = Number(args.sleep ?? 1);
    // The task's timeout bounds the wait too (the engine stops the task then).
    const timeoutSec = Math.min(
      Number(args.timeout ?? 300),
      Math.max(0, ctx.timeoutMs / 1000 - delaySec - 1),
    );
    const started = performance.now();
    const elapsed = () => Math.floor((performance.now() - started) / 1000);
    const host = typeof args.host === 'string' ? args.host : '127.0.0.1';
    const what =
      typeof args.path === 'string'
        ? `${args.path} to be ${want === 'present' ? 'present' : 'absent'}`
        : `${host}:${String(args.port)} to be ${want === 'present' ? 'open' : 'closed'}`;
    const timedOut = (): ModuleResult =>
      fail(
        ctx.secrets.mask(
          typeof args.msg === 'string' ? args.msg : `timed out after ${timeoutSec}s waiting for ${what}`,
        ),
        { elapsed: elapsed() },
      );

    if (delaySec > 0) await sleep(delaySec * 1000, undefined, { signal: ctx.signal });
    if (typeof args.path === 'string') {
      const r = await ctx.conn.exec(pathWaitScript(args.path, want, timeoutSec, sleepSec), {
        ...taskExecOptions(ctx),
        timeoutMs: (timeoutSec + sleepSec + 5) * 1000,
      });
      if (r.rc === 0) return { changed: false, data: { elapsed: elapsed(), path: args.path, state: want } };
      if (r.rc === 1 || r.timedOut) return timedOut();
      return fail(`cannot wait for ${args.path}: ${r.stderr.trim() || `exit ${r.rc}`}`);
    }

    const port = Number(args.port);
    const connectMs = Number(args.connect_timeout ?? 5) * 1000;
    const deadline = started + (delaySec + timeoutSec) * 1000;
    for (;;) {
      const attempt = Math.max(1, Math.min(connectMs, deadline - performance.now()));
      if ((await portOpen(ctx, host, port, attempt)) === (want === 'present'))
        return {
          changed: false,
          data: { elapsed: elapsed(), host, port, state: want === 'present' ? 'started' : 'stopped' },
        };
      const left = deadline - performance.now();
      if (left <= 0) return timedOut();
      // The last attempt is made at the deadline.
      await sleep(Math.min(sleepSec * 1000, left), undefined, { signal: ctx.signal });
    }
  },
};
