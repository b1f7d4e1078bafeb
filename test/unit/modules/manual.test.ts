import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Secrets } from '../../../src/core/secrets.js';
import { manualModule } from '../../../src/modules/manual.js';
import type { ModuleContext, ModuleResult } from '../../../src/modules/module.js';
import { Collector, Scratch } from '../engine/harness.js';
import { argsValidator, makeContext, makeTempDir } from './context.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
});
afterEach(() => cleanup());

/** verify "tasks" that pass when the file `done` exists in the test directory. */
function fileVerify(): Pick<ModuleContext, 'runTasks'> & { runs: number } {
  const v = {
    runs: 0,
    runTasks: async (): Promise<{ ok: boolean; results: ModuleResult[] }> => {
      v.runs++;
      const ok = existsSync(join(dir, 'done'));
      return {
        ok,
        results: [ok ? { changed: false } : { changed: false, failed: true, msg: 'done is missing' }],
      };
    },
  };
  return v;
}

const secretsWith = (...values: string[]) => {
  const s = new Secrets();
  for (const v of values) s.add(v);
  return s;
};

const args = {
  instructions: 'Assign the ApplicationImpersonation role to svc-vk (password Sup3rS3cret).',
  fields: [
    { label: 'Account', value: 'svc-vk@corp.example' },
    { label: 'Password', value: 'Sup3rS3cret', secret: true },
    { label: 'Port', value: 443 },
  ],
  verify: [{ kind: 'task' }],
};

describe('manual', () => {
  it('retries the verification after the confirmation while the effect takes time to show', async () => {
    const verify = fileVerify();
    let confirmedAt = 0;
    const ctx = makeContext({
      runTasks: async () => {
        // The effect shows only on the third verification after the confirmation (as a role Exchange
        // applies after a while).
        if (confirmedAt > 0 && verify.runs - confirmedAt >= 2) await writeFile(join(dir, 'done'), '');
        return verify.runTasks([]);
      },
      interactive: true,
      confirm: async () => {
        confirmedAt = verify.runs;
        return true;
      },
    });
    const r = await manualModule.run(ctx, { ...args, retries: 3, delay: 0 });
    expect(r).toMatchObject({ changed: true, msg: 'done by the operator, verified' });
    expect(verify.runs).toBe(4); // before asking, after the confirmation, two retries
    expect(ctx.logs.filter((l) => /retry \d\/3/.test(l))).toHaveLength(2);

    // Never shows: the retries run out and say so.
    await cleanup();
    ({ dir, cleanup } = await makeTempDir());
    const never = fileVerify();
    const failed = await manualModule.run(
      makeContext({ runTasks: never.runTasks, interactive: true, confirm: async () => true }),
      { ...args, retries: 2, delay: 0 },
    );
    expect(failed).toMatchObject({ failed: true });
    expect(failed.msg).toBe(
      'the operator confirmed, but verify still fails after 2 retries: done is missing',
    );
    expect(never.runs).toBe(4);
  });

  it('verified: ok without asking', async () => {
    await writeFile(join(dir, 'done'), '');
    for (const check of [false, true]) {
      const r = await manualModule.run(
        makeContext({ runTasks: fileVerify().runTasks, check, interactive: true }),
        args,
      );
      expect(r).toEqual({ changed: false, msg: 'already done (verified)', data: { verified: true } });
    }
  });

  it('interactive: shows the instructions (secrets masked), waits for the operator, verifies again', async () => {
    const verify = fileVerify();
    const questions: string[] = [];
    const ctx = makeContext({
      runTasks: verify.runTasks,
      interactive: true,
      secrets: secretsWith('Sup3rS3cret'),
      confirm: async (q) => {
        questions.push(q);
        await writeFile(join(dir, 'done'), ''); // the operator does the step
        return true;
      },
    });
    const r = await manualModule.run(ctx, args);
    expect(r).toEqual({
      changed: true,
      msg: 'done by the operator, verified',
      data: { verified: true, confirmed: true },
    });
    expect(verify.runs).toBe(2);
    expect(questions).toEqual([
      [
        'Assign the ApplicationImpersonation role to svc-vk (password ********).',
        '',
        '  Account   svc-vk@corp.example',
        '  Password  ********',
        '  Port      443',
        '',
        'Confirm when the step is done.',
      ].join('\n'),
    ]);
    // Repeated run: verified, no question.
    expect((await manualModule.run(ctx, args)).changed).toBe(false);
    expect(questions).toHaveLength(1);
  });

  it('interactive: fails when the operator declines, or confirms but verify still fails', async () => {
    const declined = await manualModule.run(
      makeContext({ runTasks: fileVerify().runTasks, interactive: true, confirm: async () => false }),
      args,
    );
    expect(declined).toMatchObject({
      changed: false,
      failed: true,
      msg: 'the operator did not confirm the step',
    });
    const lied = await manualModule.run(
      makeContext({ runTasks: fileVerify().runTasks, interactive: true, confirm: async () => true }),
      { ...args, confirm_prompt: 'Type y when the role is assigned.' },
    );
    expect(lied).toMatchObject({
      failed: true,
      msg: 'the operator confirmed, but verify still fails: done is missing',
    });
  });

  it('non-interactive and not verified: fails with the instructions, masked', async () => {
    const r = await manualModule.run(
      makeContext({ runTasks: fileVerify().runTasks, secrets: secretsWith('Sup3rS3cret') }),
      args,
    );
    expect(r.failed).toBe(true);
    expect(r.msg).toContain('Assign the ApplicationImpersonation role to svc-vk (password ********).');
    expect(r.msg).toContain('(verify: done is missing)');
    expect(r.msg).toMatch(/Run ewsplay interactively, or do the step by hand, then re-run\.$/);
    expect(JSON.stringify(r)).not.toContain('Sup3rS3cret');
  });

  it('check mode, not verified: would ask, without asking', async () => {
    const r = await manualModule.run(
      makeContext({
        runTasks: fileVerify().runTasks,
        check: true,
        interactive: true,
        secrets: secretsWith('Sup3rS3cret'),
      }),
      args,
    );
    expect(r).toMatchObject({
      changed: true,
      data: { verified: false, verify_msg: 'verify: done is missing' },
    });
    expect(r.msg).toMatch(/^would ask the operator to: Assign the ApplicationImpersonation role/);
    expect(r.msg).not.toContain('Sup3rS3cret');
  });

  it('without verify: asks every time when interactive', async () => {
    const { verify: _v, ...plain } = args;
    const r = await manualModule.run(makeContext({ interactive: true, confirm: async () => true }), plain);
    expect(r).toEqual({
      changed: true,
      msg: 'done by the operator (not verified)',
      data: { confirmed: true },
    });
  });

  it('args: instructions required; fields well formed', () => {
    const valid = argsValidator(manualModule);
    expect(valid(args)).toBe(true);
    expect(valid({ fields: [] })).toBe(false);
    expect(valid({ instructions: 'x', fields: [{ label: 'a' }] })).toBe(false);
    expect(valid({ instructions: 'x', fields: [{ label: 'a', value: 'b', hidden: true }] })).toBe(false);
  });
});

describe('manual in a playbook (real verify tasks through the engine)', () => {
  const playbook = `
- hosts: all
  tasks:
    - name: role
      manual:
        instructions: "Create the file {{ marker }} on {{ inventory_hostname }}"
        verify:
          - name: probe
            command: test -f {{ marker }}
            check_mode: false
`;
  it('fails without a TTY, asks on one, then is ok without asking; check mode predicts', async () => {
    const s = new Scratch(['h']);
    const marker = join(s.hostDir('h'), 'role-assigned');
    const vars = { extraVars: { marker } };
    const check = await s.run(playbook, { ...vars, check: true });
    expect(check.events.resultOf('role', 'h')).toMatchObject({ status: 'changed' });

    const batch = await s.run(playbook, vars);
    const failed = batch.events.resultOf('role', 'h');
    expect(failed?.status).toBe('failed');
    expect(failed?.msg).toContain(`Create the file ${marker} on h`);

    const operator = new Collector();
    operator.answers.push(true);
    operator.confirm = async (_t, _h, q) => {
      operator.questions.push(q);
      await writeFile(marker, '');
      return true;
    };
    const asked = await s.run(playbook, { ...vars, interactive: true }, operator);
    expect(asked.events.resultOf('role', 'h')).toMatchObject({
      status: 'changed',
      msg: 'done by the operator, verified',
    });
    expect(operator.questions[0]).toContain(`Create the file ${marker} on h`);

    const again = await s.run(playbook, { ...vars, interactive: true });
    expect(again.events.resultOf('role', 'h')).toMatchObject({
      status: 'ok',
      msg: 'already done (verified)',
    });
    expect(again.events.questions).toEqual([]);
  });
});
