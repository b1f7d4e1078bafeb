import { describe, expect, it } from 'vitest';
import { pauseModule } from '../../../src/modules/pause.js';
import { argsValidator, makeContext } from './context.js';

describe('pause', () => {
  it('waits the seconds given, never changed, with start/stop/delta as Ansible registers them', async () => {
    const t0 = Date.now();
    const r = await pauseModule.run(makeContext(), { seconds: 1 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    expect(r).toMatchObject({
      changed: false,
      data: { stdout: 'Paused for 1 seconds', user_input: '', echo: true, delta: 1 },
    });
    expect(r.data?.start).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
    expect(r.failed).toBeUndefined();
  });

  it('0 or less waits one second, as in Ansible; a prompt with seconds is only shown', async () => {
    const t0 = Date.now();
    const r = await pauseModule.run(makeContext(), { seconds: '0', prompt: 'settling' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    expect(r).toMatchObject({ changed: false, msg: 'settling' });
  });

  it('a pause longer than the task timeout fails at once and says how to fix it', async () => {
    const t0 = Date.now();
    const r = await pauseModule.run(makeContext({ timeoutMs: 60_000 }), { minutes: 2 });
    expect(Date.now() - t0).toBeLessThan(500);
    expect(r).toMatchObject({
      failed: true,
      msg: expect.stringMatching(/longer than the task's timeout.*timeout:/),
    });
  });

  it('is interrupted by the run being stopped', async () => {
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 50);
    const r = await pauseModule.run(makeContext({ signal: abort.signal }), { seconds: 20 });
    expect(r).toMatchObject({ failed: true, msg: 'the pause was interrupted' });
  });

  it('without a terminal, a prompt fails at once with what to do instead of hanging', async () => {
    const r = await pauseModule.run(makeContext(), { prompt: 'Check the dashboard' });
    expect(r).toMatchObject({ changed: false, failed: true });
    expect(r.msg).toContain('Check the dashboard');
    expect(r.msg).toMatch(/run ewsplay interactively, or give the pause seconds/);
    const bare = await pauseModule.run(makeContext(), {});
    expect(bare.msg).toContain('Press enter to continue');
  });

  it('on a terminal, asks the operator: yes goes on, no stops the run', async () => {
    const asked: string[] = [];
    const ctx = (answer: boolean) =>
      makeContext({
        interactive: true,
        confirm: async (q) => {
          asked.push(q);
          return answer;
        },
      });
    expect(await pauseModule.run(ctx(true), { prompt: 'Go on?' })).toMatchObject({
      changed: false,
      data: { user_input: '' },
    });
    expect(asked[0]).toMatch(/^Go on\?\n/);
    expect(await pauseModule.run(ctx(false), {})).toMatchObject({
      failed: true,
      msg: expect.stringMatching(/did not continue/),
    });
  });

  it('runs once per task for the batch, and seconds and minutes do not go together', () => {
    expect(pauseModule.runOnce).toBe(true);
    const valid = argsValidator(pauseModule);
    expect(valid({ seconds: 5 })).toBe(true);
    expect(valid({ minutes: '2', prompt: 'x', echo: false })).toBe(true);
    expect(valid({ seconds: 5, minutes: 1 })).toBe(false);
    expect(valid({ seconds: 'soon' })).toBe(false);
  });
});
