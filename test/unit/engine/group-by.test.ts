// group_by changes the run's in-memory inventory: later plays target the groups it made.
import { describe, expect, it } from 'vitest';
import { Scratch } from './harness.js';

describe('group_by', () => {
  it('puts each host in the group its key names; a later play targets the group and its parent', async () => {
    const s = new Scratch(['a', 'b', 'c']);
    const { events } = await s.run(`
- hosts: all
  gather_facts: false
  tasks:
    - name: by tier
      group_by:
        key: "tier {{ 'front' if inventory_hostname != 'c' else 'back' }}"
        parents: [tiers]
    - name: again
      group_by: key="tier {{ 'front' if inventory_hostname != 'c' else 'back' }}" parents=tiers
- hosts: tier-front
  gather_facts: false
  tasks:
    - name: front
      debug: { msg: "{{ group_names | join(',') }}" }
- hosts: tiers
  gather_facts: false
  tasks:
    - name: all tiers
      debug: { msg: "{{ groups['tiers'] | join(',') }}" }
`);
    for (const h of ['a', 'b', 'c']) {
      expect(events.statusOf('by tier', h)).toBe('changed');
      expect(events.statusOf('again', h)).toBe('ok');
    }
    expect(events.events.filter((e) => e.task === 'front').map((e) => e.host)).toEqual(['a', 'b']);
    expect(events.resultOf('front', 'a')?.msg).toBe('tier-front,tiers');
    expect(events.events.filter((e) => e.task === 'all tiers').map((e) => e.host)).toEqual(['a', 'b', 'c']);
  });

  it('refuses a group named like a host', async () => {
    const s = new Scratch(['a', 'b']);
    const { events } = await s.run(`
- hosts: a
  gather_facts: false
  tasks:
    - name: clash
      group_by: { key: b }
`);
    expect(events.statusOf('clash', 'a')).toBe('failed');
    expect(events.resultOf('clash', 'a')?.msg).toContain("'b' is a host of the inventory");
  });
});
