// pause: waits a number of seconds or minutes, or until the operator at the terminal says to go on, as
// Ansible's pause. It runs once per task for the whole batch, not once per host (the module is `runOnce`,
// as Ansible's pause bypasses the host loop); its result is given to every host. Never changed.
// Deviations on purpose: the operator answers the prompt through ewsplay's one operator question (y to go
// on), so `user_input` holds that answer's meaning ('' when confirmed), not free text; and without a
// terminal a prompt fails at once instead of waiting for input that cannot come.
import { setTimeout as sleep } from 'node:timers/promises';
import { fail } from './kit.js';
import type { Module } from './module.js';

const DEFAULT_PROMPT = 'Press enter to continue, Ctrl+C to interrupt';

/** Ansible's timestamp form: 2024-05-01 12:00:00.123456 (local time). */
function stamp(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds() * 1000, 6)}`;
}

const number = (description: string) =>
  ({
    description,
    anyOf: [{ type: 'number' }, { type: 'string', pattern: '^\\s*-?\\d+(\\.\\d+)?\\s*$' }],
  }) as const;

export const pauseModule: Module = {
  name: 'pause',
  summary: 'Wait some seconds or minutes, or until the operator goes on (once per task, not per host)',
  runOnce: true,
  args: {
    type: 'object',
    additionalProperties: false,
    not: { properties: { seconds: true, minutes: true }, required: ['seconds', 'minutes'] },
    properties: {
      seconds: number('Seconds to wait (0 or less waits 1 second, as in Ansible)'),
      minutes: number('Minutes to wait (0 or less waits 1 second, as in Ansible)'),
      prompt: {
        type: 'string',
        description: 'Text shown while waiting; without seconds/minutes, the question the operator answers',
      },
      echo: {
        type: 'boolean',
        default: true,
        description: "Accepted for Ansible's sake: the operator's answer is a yes/no, never captured as text",
      },
    },
  },
  check: 'full',
  async run(ctx, args) {
    const started = new Date();
    const prompt = typeof args.prompt === 'string' ? args.prompt : undefined;
    const done = (data: Record<string, unknown>) => {
      const stop = new Date();
      return {
        start: stamp(started),
        stop: stamp(stop),
        delta: Math.round((stop.getTime() - started.getTime()) / 1000),
        echo: args.echo !== false,
        ...data,
      };
    };
    const amount = args.seconds ?? args.minutes;
    if (amount !== undefined) {
      const n = Number(amount);
      const ms = n <= 0 ? 1000 : args.seconds !== undefined ? n * 1000 : n * 60_000;
      // The engine ends a task at its timeout: say so now rather than fail midway.
      if (ms > ctx.timeoutMs)
        return fail(
          `a pause of ${ms / 1000}s is longer than the task's timeout of ${ctx.timeoutMs / 1000}s: give the task a larger timeout: (or --task-timeout)`,
        );
      await sleep(ms, undefined, { signal: ctx.signal }).catch(() => undefined);
      if (ctx.signal.aborted) return fail('the pause was interrupted');
      const how = args.seconds !== undefined ? `${n} seconds` : `${n} minutes`;
      return {
        changed: false,
        msg: prompt ?? `Paused for ${how}`,
        data: done({ stdout: `Paused for ${how}`, user_input: '' }),
      };
    }
    const question = prompt ?? DEFAULT_PROMPT;
    if (!ctx.interactive)
      return fail(
        `pause waits for the operator ("${question}"), and this run has no terminal to ask on: run ewsplay interactively, or give the pause seconds: or minutes:`,
      );
    const goOn = await ctx.confirm(`${question}\n(answer y to continue)`);
    if (!goOn) return fail('the operator did not continue: the run stops here');
    return { changed: false, data: done({ stdout: 'Paused', user_input: '' }) };
  },
};
