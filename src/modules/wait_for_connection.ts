// wait_for_connection: waits until the host answers over its connection again (after a reboot, or for a
// machine still starting), as Ansible's action of that name does: it connects and runs a trivial command,
// and on any failure drops the connection and tries a new one every `sleep` seconds until `timeout`.
// The engine does not connect first (connection: 'self'), so a host that does not answer yet is not
// unreachable at once; when the time is up the task fails (Ansible's outcome), with the last error.
// Ansible skips it in check mode; so do we.
import { setTimeout as sleep } from 'node:timers/promises';
import { defineModule, fail } from './kit.js';
import { PING } from './ping.js';
import { taskExecOptions } from './remote.js';

const seconds = (description: string, fallback: number) =>
  ({ type: 'number', minimum: 0, default: fallback, description }) as const;

/** The arguments as the schema below declares them (defaults applied), in seconds. */
type WaitArgs = { timeout: number; delay: number; sleep: number; connect_timeout: number };

export const waitForConnectionModule = defineModule<WaitArgs>({
  name: 'wait_for_connection',
  summary: 'Wait until the host answers over its connection again (reconnecting until the timeout)',
  args: {
    type: 'object',
    additionalProperties: false,
    properties: {
      timeout: seconds('Give up after this many seconds', 600),
      delay: seconds('Seconds to wait before the first attempt', 0),
      sleep: seconds('Seconds between attempts', 1),
      connect_timeout: seconds('Seconds one connection attempt may take', 5),
    },
  },
  connection: 'self',
  check: { skip: 'wait_for_connection is skipped in check mode' },
  async run(ctx, args) {
    const connect = ctx.connect;
    if (!connect) throw new Error('internal error: wait_for_connection runs without ctx.connect');
    const delaySec = args.delay;
    const sleepMs = args.sleep * 1000;
    const connectTimeoutMs = Math.max(1, args.connect_timeout * 1000);
    // The task's own timeout bounds the wait too (the engine stops the task then): give up just before it.
    const timeoutSec = Math.min(args.timeout, Math.max(0, ctx.timeoutMs / 1000 - delaySec - 1));
    const started = performance.now();
    const elapsed = () => Math.floor((performance.now() - started) / 1000);

    if (delaySec > 0) await sleep(delaySec * 1000, undefined, { signal: ctx.signal });
    const deadline = performance.now() + timeoutSec * 1000;
    let lastError = 'no attempt was made (timeout 0)';
    for (;;) {
      try {
        // Every attempt on a new connection, as Ansible resets it before each: the cached one may be dead
        // (the host rebooted), and each opening is bounded by connect_timeout.
        const conn = await connect({ fresh: true, connectTimeoutMs });
        const r = await conn.exec(PING, {
          ...taskExecOptions(ctx),
          timeoutMs: Math.max(connectTimeoutMs, deadline - performance.now()),
        });
        if (r.rc === 0 && r.stdout.includes('pong')) return { changed: false, data: { elapsed: elapsed() } };
        lastError = `the test command '${PING}' exited ${r.rc}${r.stderr.trim() ? `: ${r.stderr.trim()}` : ''}`;
      } catch (e) {
        if (ctx.signal.aborted) throw e;
        lastError = e instanceof Error ? e.message : String(e);
      }
      const left = deadline - performance.now();
      if (left <= 0) break;
      // The last attempt is made at the deadline.
      await sleep(Math.min(sleepMs, left), undefined, { signal: ctx.signal });
    }
    return fail(
      ctx.secrets.mask(`timed out after ${timeoutSec}s waiting for the host to answer: ${lastError}`),
      { elapsed: elapsed() },
    );
  },
});
