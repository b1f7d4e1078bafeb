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
