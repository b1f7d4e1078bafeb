// pause runs once per task for the whole batch (as Ansible's pause, which bypasses the host loop), and
// every host gets its registered result.
import { describe, expect, it } from 'vitest';
import { Collector, Scratch } from './harness.js';

describe('pause in a play', () => {
  it('waits once for all hosts, not once per host; the operator is asked once', async () => {
    const s = new Scratch(['alpha', 'beta', 'gamma']);
    const t0 = Date.now();
    const events = new Collector();
    events.answers.push(true);
    const { report } = await s.run(
      `- hosts: all
  gather_facts: false
  tasks:
    - name: settle
      pause: { seconds: 1 }
      register: waited
    - name: ask
      pause: { prompt: "Is the dashboard green?" }
    - name: every host has the result
      assert: { that: ["waited.stdout == 'Paused for 1 seconds'"] }
`,
      { interactive: true },
      events,
    );
    // It did pause (once for the batch: one `settle` result, below, not one per host).
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(events.events.filter((e) => e.task === 'settle').map((e) => e.host)).toEqual(['alpha']);
    expect(events.questions).toHaveLength(1);
    expect(events.questions[0]).toContain('Is the dashboard green?');
    for (const h of ['alpha', 'beta', 'gamma'])
      expect(events.statusOf('every host has the result', h)).toBe('ok');
    expect(Object.values(report.stats).every((st) => st.failed === 0)).toBe(true);
  });
});
