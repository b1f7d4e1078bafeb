// Operator prompts share one terminal: hosts of one run, and the runs of several sites at once (a rollout
// with --serial above 1), must ask one question at a time.
import { describe, expect, it } from 'vitest';
import type { TaskInfo } from '../../../src/engine/results.js';
import { Collector, Scratch } from './harness.js';

/** Answers yes after a pause, recording how many questions were open at once. */
class SlowOperator extends Collector {
  static open = 0;
  static maxOpen = 0;
  override async confirm(t: TaskInfo, h: string, q: string): Promise<boolean> {
    SlowOperator.open++;
    SlowOperator.maxOpen = Math.max(SlowOperator.maxOpen, SlowOperator.open);
    await new Promise((r) => setTimeout(r, 30));
    SlowOperator.open--;
    this.answers.push(true);
    return super.confirm(t, h, q);
  }
}

const PLAYBOOK = `
- hosts: all
  gather_facts: false
  tasks:
    - name: hand step
      manual:
        instructions: "Do the thing on {{ inventory_hostname }}"
`;

describe('operator prompts', () => {
  it('two sites running at once ask one question at a time, every host of each', async () => {
    const sites = [new Scratch(['a1', 'a2', 'a3']), new Scratch(['b1', 'b2', 'b3'])];
    const operators = sites.map(() => new SlowOperator());
    const runs = await Promise.all(
      sites.map((site, i) => site.run(PLAYBOOK, { interactive: true }, operators[i])),
    );
    expect(SlowOperator.maxOpen).toBe(1);
    for (const [i, op] of operators.entries()) {
      expect(op.questions).toHaveLength(3);
      expect(runs[i]?.report.exitCode ?? 0).toBe(0);
    }
    expect(operators[0]?.questions.join('\n')).toContain('Do the thing on a2');
    expect(operators[1]?.questions.join('\n')).toContain('Do the thing on b3');
  });
});
