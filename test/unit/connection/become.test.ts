import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { LocalConnection } from '../../../src/connection/local.js';

const hasSudo = (() => {
  try {
    execFileSync('sudo', ['-n', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.runIf(hasSudo)('become with a password when sudo does not ask for one', () => {
  it('never hands the password to the command as input', async () => {
    const conn = new LocalConnection('local');
    const r = await conn.exec('cat', { stdin: 'payload', become: { password: 'pw-must-not-leak' } });
    expect(r.rc).toBe(0);
    expect(r.stdout).toBe('payload');
  });

  it('keeps the password out of argv', async () => {
    const conn = new LocalConnection('local');
    const r = await conn.exec('ps -eo args', { become: { password: 'pw-must-not-leak' } });
    expect(r.stdout).not.toContain('pw-must-not-leak');
  });
});
