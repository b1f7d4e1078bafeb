// Ctrl-C (SIGINT) and SIGTERM during a run over SSH: the run stops within seconds, the command running on
// the host is killed, the report is written and marked interrupted, exit code 130, and the site lock is
// released so the next run can start.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SshdLab, startSshdLab } from '../../src/lab/sshd.js';

const BIN = resolve(import.meta.dirname, '../../bin/ewsplay.js');
let lab: SshdLab;

beforeAll(async () => {
  lab = await startSshdLab(2, { prefix: 'int' });
});
afterAll(async () => {
  await lab?.stop();
});

function waitFor(child: ChildProcess, text: RegExp, out: { s: string }): Promise<void> {
  return new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error(`never printed ${text}: ${out.s}`)), 20_000);
    const check = () => {
      if (text.test(out.s)) {
        clearTimeout(t);
        res();
      }
    };
    child.stdout?.on('data', check);
  });
}

describe.each(['SIGINT', 'SIGTERM'] as const)('%s during a run', (signal) => {
  it('stops the run and the remote command, writes an interrupted report, releases the lock', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ewsplay-int-'));
    const marker = `sleep 37.${signal === 'SIGINT' ? 1 : 2}`;
    writeFileSync(
      join(dir, 'play.yml'),
      `- hosts: all\n  tasks:\n    - name: long\n      command: ${marker}\n    - name: after\n      debug: { msg: never }\n`,
    );
    // The inventory in the project directory: its runs, state and lock go under dir/.ewsplay.
    writeFileSync(join(dir, 'inventory.yml'), readFileSync(lab.inventoryFile, 'utf8'));
    const out = { s: '' };
    const child = spawn(
      process.execPath,
      [BIN, 'run', 'play.yml', '-i', 'inventory.yml', '--output', 'plain'],
      {
        cwd: dir,
        env: { ...process.env, HOME: dir },
      },
    );
    child.stdout.on('data', (d) => {
      out.s += d;
    });
    child.stderr.on('data', (d) => {
      out.s += d;
    });
    await waitFor(child, /TASK \[long\]/, out);
    // Both hosts run the command before the signal.
    for (let i = 0; i < 50 && spawnSync('pgrep', ['-fc', marker]).stdout.toString().trim() !== '2'; i++)
      await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    child.kill(signal);
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code, out.s).toBe(130);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(out.s).not.toContain('never');
    await new Promise((r) => setTimeout(r, 300));
    expect(spawnSync('pgrep', ['-f', marker]).stdout.toString().trim(), 'remote commands killed').toBe('');
    const runs = join(dir, '.ewsplay', 'runs');
    const site = readdirSync(runs)[0]!;
    const reports = readdirSync(join(runs, site)).filter((f) => f.endsWith('.json'));
    expect(reports).toHaveLength(1);
    const report = JSON.parse(readFileSync(join(runs, site, reports[0]!), 'utf8')) as {
      interrupted: boolean;
    };
    expect(report.interrupted).toBe(true);
    expect(existsSync(join(dir, '.ewsplay', 'locks', `${site}.lock`))).toBe(false);
  });
});
