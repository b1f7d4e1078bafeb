// group_by: the change it asks of the in-memory inventory (the engine test covers later plays using it).
import { describe, expect, it } from 'vitest';
import { groupByModule } from '../../../src/modules/group_by.js';
import { argsValidator, makeContext } from './context.js';

describe('group_by', () => {
  it("puts the task's host in the key's group, spaces turned to dashes, under 'all' by default", async () => {
    const r = await groupByModule.run(makeContext({ host: 'web1' }), { key: 'os Debian 12' });
    expect(r.inventory).toEqual({ host: 'web1', groups: ['os-Debian-12'], parents: ['all'] });
    expect(r.data).toEqual({ add_group: 'os-Debian-12', parent_groups: ['all'] });
  });

  it('takes parents as one name or a list', async () => {
    const one = await groupByModule.run(makeContext({ host: 'h' }), { key: 'k', parents: 'linux boxes' });
    expect(one.inventory?.parents).toEqual(['linux-boxes']);
    const two = await groupByModule.run(makeContext({ host: 'h' }), { key: 'k', parents: ['a', 'b'] });
    expect(two.inventory?.parents).toEqual(['a', 'b']);
  });

  it('needs a key and takes nothing else; an empty rendered key fails', async () => {
    const valid = argsValidator(groupByModule);
    expect(valid({ key: 'x' })).toBe(true);
    expect(valid({ parents: 'x' })).toBe(false);
    expect(valid({ key: 'x', other: 1 })).toBe(false);
    const r = await groupByModule.run(makeContext(), { key: '  ' });
    expect(r).toMatchObject({ failed: true, msg: expect.stringContaining('empty group name') });
  });
});
