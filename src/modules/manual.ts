// manual: a step a person must do. `verify:` tasks decide whether it is already done, so a repeated run
// reports ok without asking; otherwise an operator at a TTY is shown the instructions and confirms, and a
// non-interactive run fails with the instructions. Every string it returns passes the secret masker.
// Some effects take time to show (Exchange applies a role assignment after minutes): `retries` re-runs the
// verify tasks after the operator's confirmation, waiting `delay` seconds, doubled each time.

import { setTimeout as sleep } from 'node:timers/promises';
import type { Node } from '../core/model.js';
import { MASK } from '../core/secrets.js';
import { defineModule, fail, planned } from './kit.js';
import type { Module, ModuleContext, ModuleResult } from './module.js';

interface Field {
  label: string;
  value: unknown;
  secret?: boolean;
}

const DEFAULT_PROMPT = 'Confirm when the step is done.';
const BY_HAND = 'Run ewsplay interactively, or do the step by hand, then re-run.';

/** The fields as an aligned two-column table; secret values are masked whatever they are. */
function fieldTable(fields: Field[]): string {
  const width = Math.max(...fields.map((f) => f.label.length));
  return fields
    .map((f) => {
      const value = f.secret ? MASK : typeof f.value === 'string' ? f.value : JSON.stringify(f.value);
      return `  ${f.label.padEnd(width)}  ${value}`;
    })
    .join('\n');
}

/** What the operator reads: the instructions, then the fields. */
/** manual's arguments, as its schema declares them (defaults applied). */
interface ManualArgs {
  instructions: string;
  fields?: Field[];
  verify?: Node[];
  retries: number;
  delay: number;
  confirm_prompt?: string;
}

function stepText(args: ManualArgs): string {
  const fields = args.fields ?? [];
  const text = args.instructions.trimEnd();
  return fields.length ? `${text}\n\n${fieldTable(fields)}` : text;
}

type Verification = { verified: true } | { verified: false; why: string };

/**
 * Runs the verify tasks. They prove the step done only if at least one of them really ran: tasks skipped
 * (by `when:`, or command/shell in check mode) prove nothing.
 */
async function verify(ctx: ModuleContext, nodes: Node[]): Promise<Verification> {
  const { ok, results } = await ctx.runTasks(nodes);
  const failed = results.filter((r) => r.failed);
  if (!ok || failed.length)
    return {
      verified: false,
      why: failed.map((r) => r.msg ?? 'a verify task failed').join('; ') || 'verify failed',
    };
  if (!results.some((r) => !r.skipped)) return { verified: false, why: 'every verify task was skipped' };
  return { verified: true };
}

export const manualModule: Module = defineModule<ManualArgs>({
  name: 'manual',
  summary: 'A step a person must do: shows the instructions, asks for confirmation, verifies with tasks',
  taskListArgs: ['verify'],
  args: {
    type: 'object',
    additionalProperties: false,
    required: ['instructions'],
    properties: {
      instructions: {
        type: 'string',
        minLength: 1,
        description: 'What the operator must do (rendered from variables; secret values are masked)',
      },
      fields: {
        type: 'array',
        description: 'Values the operator needs, shown as a table',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['label', 'value'],
          properties: {
            label: { type: 'string', minLength: 1 },
            value: { anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] },
            secret: { type: 'boolean', default: false, description: 'Show the value masked' },
          },
        },
      },
      verify: {
        type: 'array',
        description:
          'Tasks that pass when the step is done (run first, and again after the operator confirms; in check mode they run in check mode: give read-only probes check_mode: false)',
      },
      retries: {
        type: 'integer',
        minimum: 0,
        default: 0,
        description: 'After the operator confirms: verify again this many times while it still fails',
      },
      delay: {
        type: 'integer',
        minimum: 0,
        default: 10,
        description: 'Seconds before the first of those retries; doubled after each',
      },
      confirm_prompt: {
        type: 'string',
        minLength: 1,
        description: `The question asked (default: "${DEFAULT_PROMPT}")`,
      },
    },
  },
  check: 'full',
  async run(ctx, args) {
    const mask = (s: string) => ctx.secrets.mask(s);
    const nodes = args.verify;
    const step = mask(stepText(args));
    const result = (r: ModuleResult & { data: Record<string, unknown> }): ModuleResult => ({
      ...r,
      ...(r.msg ? { msg: mask(r.msg) } : {}),
    });

    let first: Verification | undefined;
    if (nodes) {
      first = await verify(ctx, nodes);
      if (first.verified)
        return result({ changed: false, msg: 'already done (verified)', data: { verified: true } });
    }
    const notYet = first && !first.verified ? `verify: ${first.why}` : undefined;
    const prediction = result({
      changed: true,
      msg: `would ask the operator to: ${step}`,
      data: { verified: false, ...(notYet ? { verify_msg: mask(notYet) } : {}) },
    });
    return planned(prediction, async () => {
      if (!ctx.interactive)
        return result(fail(`${step}\n\n${notYet ? `(${notYet})\n` : ''}${BY_HAND}`, { verified: false }));

      // The output shows the question text before it reads the answer, so the instructions go in it.
      const prompt = args.confirm_prompt ?? DEFAULT_PROMPT;
      const confirmed = await ctx.confirm(mask(`${step}\n\n${prompt}`));
      if (!confirmed)
        return result(fail('the operator did not confirm the step', { verified: false, confirmed: false }));
      if (!nodes)
        return result({
          changed: true,
          msg: 'done by the operator (not verified)',
          data: { confirmed: true },
        });
      let second = await verify(ctx, nodes);
      const { retries, delay } = args;
      for (let attempt = 0; !second.verified && attempt < retries; attempt++) {
        const waitMs = delay * 1000 * 2 ** attempt;
        ctx.log(
          mask(
            `manual: verify still fails (${second.why}); retry ${attempt + 1}/${retries} in ${waitMs / 1000} s`,
          ),
        );
        await sleep(waitMs, undefined, { signal: ctx.signal });
        second = await verify(ctx, nodes);
      }
      if (second.verified)
        return result({
          changed: true,
          msg: 'done by the operator, verified',
          data: { verified: true, confirmed: true },
        });
      return result(
        fail(
          `the operator confirmed, but verify still fails${retries > 0 ? ` after ${retries} retries` : ''}: ${second.why}`,
          { verified: false, confirmed: true },
        ),
      );
    });
  },
});
