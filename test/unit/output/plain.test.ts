// What the plain output shows of a result's message: debug's at the default verbosity (as Ansible), other
// modules' from -v on, never a skipped or failed task's twice.
import { describe, expect, it } from 'vitest';

import type { HostTaskResult, TaskInfo } from '../../../src/engine/results.js';
import { PlainOutput } from '../../../src/output/plain.js';

const task: TaskInfo = {
  name: 't',
  module: 'debug',
  pos: { file: 'p.yml', line: 1, col: 1 },
  handler: false,
  play: 0,
};

function shown(verbose: number, r: Omit<HostTaskResult, 'durationMs'>): string {
  let out = '';
  const write = (s: string) => {
    out += s;
    return true;
  };
  const stream = { write } as unknown as NodeJS.WriteStream;
  new PlainOutput({ stream, color: false, diff: false, verbose }).hostResult(task, 'h1', {
    ...r,
    durationMs: 1,
  });
  return out;
}

describe('plain output messages', () => {
  it("shows debug's message without -v, and hides it below its verbosity", () => {
    expect(shown(0, { status: 'ok', changed: false, msg: 'hello\nworld', verbosity: 0 })).toBe(
      'ok: [h1]\n  hello\n  world\n',
    );
    expect(shown(0, { status: 'ok', changed: false, msg: 'deep', verbosity: 2 })).toBe('ok: [h1]\n');
    expect(shown(2, { status: 'ok', changed: false, msg: 'deep', verbosity: 2 })).toContain('  deep');
  });

  it("shows other modules' messages from -v on", () => {
    expect(shown(0, { status: 'ok', changed: false, msg: 'line present' })).toBe('ok: [h1]\n');
    expect(shown(1, { status: 'ok', changed: false, msg: 'line present' })).toBe(
      'ok: [h1]\n  line present\n',
    );
  });

  it("shows each loop item's debug message under its item line", () => {
    const out = shown(0, {
      status: 'ok',
      changed: false,
      msg: 'All items completed',
      items: [
        { label: 'a', status: 'ok', msg: 'got a', verbosity: 0 },
        { label: 'b', status: 'skipped' },
      ],
    });
    expect(out).toBe('ok: [h1] => (item=a)\n  got a\nskipping: [h1] => (item=b)\nok: [h1]\n');
  });
});

describe('plain output of a failed command', () => {
  it('shows cmd, rc and the end of stdout and stderr under the fatal line, as Ansible shows the result', () => {
    const stdout = Array.from({ length: 25 }, (_, i) => `line ${i + 1}`).join('\n');
    const out = shown(0, {
      status: 'failed',
      changed: true,
      msg: 'non-zero return code',
      data: { cmd: ['ls', '/nope'], rc: 2, stdout, stderr: 'ls: cannot access /nope\n' },
    });
    expect(out).toContain('fatal: [h1]: FAILED! => non-zero return code\n  cmd: ls /nope\n  rc: 2\n');
    expect(out).toContain('  stdout: (last 20 of 25 lines)\n    line 6\n');
    expect(out).not.toContain('line 5\n');
    expect(out).toContain('  stderr:\n    ls: cannot access /nope\n');
  });

  it('adds nothing to a failure without command output', () => {
    expect(shown(0, { status: 'failed', changed: false, msg: 'boom' })).toBe(
      'fatal: [h1]: FAILED! => boom\n',
    );
  });
});
