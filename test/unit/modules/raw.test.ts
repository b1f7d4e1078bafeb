import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Secrets } from '../../../src/core/secrets.js';
import { rawModule } from '../../../src/modules/raw.js';
import { argsValidator, makeContext, makeTempDir, snapshotTree } from './context.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
});
afterEach(() => cleanup());

describe('raw', () => {
  it('sends the line as it is: the shell sees pipes, redirections and variables; always changed', async () => {
    const out = join(dir, 'out');
    const r = await rawModule.run(makeContext(), {
      free_form: `X=raw; echo "$X" | tr a-z A-Z > ${out}; cat ${out}; echo err >&2`,
    });
    expect(r).toMatchObject({ changed: true });
    expect(r.failed).toBeUndefined();
    // Ansible's raw keeps the output as printed; the _lines are split.
    expect(r.data).toEqual({
      rc: 0,
      stdout: 'RAW\n',
      stderr: 'err\n',
      stdout_lines: ['RAW'],
      stderr_lines: ['err'],
    });
  });

  it('a non-zero exit fails with the rc, as Ansible does', async () => {
    const r = await rawModule.run(makeContext(), { free_form: 'echo nope; exit 3' });
    expect(r).toMatchObject({ changed: true, failed: true, msg: 'non-zero return code' });
    expect(r.data).toMatchObject({ rc: 3, stdout_lines: ['nope'] });
  });

  it('executable runs the line with that shell', async () => {
    const r = await rawModule.run(makeContext(), {
      free_form: 'echo "$0"',
      executable: '/bin/sh',
    });
    expect(r.data?.stdout).toBe('/bin/sh\n');
  });

  it('check mode skips it and says how to run it anyway, touching nothing', async () => {
    const marker = join(dir, 'ran');
    const before = await snapshotTree(dir);
    const r = await rawModule.run(makeContext({ check: true }), { free_form: `touch ${marker}` });
    expect(r).toMatchObject({ changed: false, skipped: true });
    expect(r.msg).toContain('check_mode: false');
    expect(existsSync(marker)).toBe(false);
    expect(await snapshotTree(dir)).toEqual(before);
  });

  it("ignores the task's environment with a warning, as Ansible's raw does", async () => {
    const r = await rawModule.run(makeContext({ env: { RAW_TEST_VAR: 'set' } }), {
      free_form: 'echo "[$RAW_TEST_VAR]"',
    });
    expect(r.data?.stdout).toBe('[]\n');
    expect(r.warnings?.[0]).toMatch(/environment keyword/);
  });

  it('warns when the line holds a secret', async () => {
    const secrets = new Secrets();
    secrets.add('hunter2-secret');
    const r = await rawModule.run(makeContext({ secrets }), { free_form: 'true hunter2-secret' });
    expect(r.warnings?.[0]).toMatch(/secret value/);
  });

  it('takes only the line and executable', () => {
    const valid = argsValidator(rawModule);
    expect(valid({ free_form: 'uptime', executable: '/bin/bash' })).toBe(true);
    expect(valid({ free_form: 'uptime', chdir: '/tmp' })).toBe(false);
    expect(valid({})).toBe(false);
  });
});
