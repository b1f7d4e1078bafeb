// The module kit: defaults declared once in the schema, rendered strings converted as Ansible converts
// them, and check mode decided from the module's declaration.
import { describe, expect, it } from 'vitest';
import { coerceArgs, defineModule, fail, ok, planned, settledThen } from '../../../src/modules/kit.js';
import { makeContext } from './context.js';

const schema = {
  type: 'object',
  properties: {
    port: { type: 'integer', default: 443 },
    ratio: { type: 'number' },
    force: { type: 'boolean', default: false },
    name: { type: 'string' },
    code: { anyOf: [{ type: 'integer' }, { type: 'string' }] },
  },
};

describe('module kit', () => {
  it('converts rendered strings to the declared whole number, number or boolean, and nothing else', () => {
    expect(coerceArgs(schema, { port: '42399', ratio: '0.5', force: 'yes', name: '7', code: '200' })).toEqual(
      { port: 42399, ratio: 0.5, force: true, name: '7', code: '200' },
    );
    expect(coerceArgs(schema, { port: 'many', force: 'maybe' })).toEqual({ port: 'many', force: 'maybe' });
  });

  it('gives run the schema defaults, and acts only outside check mode', async () => {
    const acted: unknown[] = [];
    const m = defineModule<{ port: number; force: boolean }>({
      name: 't',
      summary: 't',
      args: schema,
      check: 'full',
      async run(_ctx, args) {
        return planned({ changed: true, msg: 'would act', data: { ...args } }, async () => {
          acted.push(args);
          return { changed: true, msg: 'acted' };
        });
      },
    });
    expect(await m.run(makeContext({ check: true }), { force: true })).toEqual({
      changed: true,
      msg: 'would act',
      data: { port: 443, force: true },
    });
    expect(acted).toEqual([]);
    expect((await m.run(makeContext(), {})).msg).toBe('acted');
    expect(acted).toEqual([{ port: 443, force: false }]);
  });

  it('does not run a module declared check: { skip } in check mode', async () => {
    const m = defineModule<object>({
      name: 't',
      summary: 't',
      args: { type: 'object' },
      check: { skip: 'not in check mode' },
      run: async () => fail('ran'),
    });
    expect(await m.run(makeContext({ check: true }), {})).toEqual({
      changed: false,
      skipped: true,
      msg: 'not in check mode',
    });
    expect(ok('fine', { data: { a: 1 } })).toEqual({ changed: false, msg: 'fine', data: { a: 1 } });
    expect(fail('bad', { a: 1 })).toEqual({ changed: false, failed: true, msg: 'bad', data: { a: 1 } });
  });

  it('runs only the branch the task takes when the prediction is worked out apart (daemon-reload), and cleans up after either', async () => {
    const ran: string[] = [];
    const m = defineModule<object>({
      name: 't',
      summary: 't',
      args: { type: 'object' },
      check: 'full',
      run: async () =>
        settledThen(
          Promise.resolve(
            planned(
              async () => {
                ran.push('predict');
                return planned({ changed: true, msg: 'would start' }, async () =>
                  fail('acted in check mode'),
                );
              },
              async () => {
                ran.push('reload');
                return planned({ changed: true, msg: 'would start' }, async () => ({
                  changed: true,
                  msg: 'started',
                }));
              },
            ),
          ),
          async () => ran.push('cleanup'),
        ),
    });
    expect((await m.run(makeContext({ check: true }), {})).msg).toBe('would start');
    expect(ran).toEqual(['predict', 'cleanup']);
    ran.length = 0;
    expect((await m.run(makeContext(), {})).msg).toBe('started');
    expect(ran).toEqual(['reload', 'cleanup']);
  });
});
