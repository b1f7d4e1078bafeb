// add_host: the module's reading of its arguments, and the in-memory inventory change the engine applies
// (Inventory.addDynamic): new host, groups, variables, and caches that follow the change.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInventory } from '../../../src/inventory/inventory.js';
import { addHostModule, groupList } from '../../../src/modules/add_host.js';
import { argsValidator, makeContext } from './context.js';

const pos = { file: 'play.yml', line: 3, col: 7 };

async function inventory(text: string) {
  const dir = mkdtempSync(join(tmpdir(), 'ewsplay-add-host-'));
  writeFileSync(join(dir, 'hosts.yml'), text);
  return loadInventory([join(dir, 'hosts.yml')]);
}

describe('add_host arguments', () => {
  it('splits name:port, takes groups as a list or comma-separated, and keeps every other argument as a variable', async () => {
    const r = await addHostModule.run(makeContext(), {
      name: '10.0.0.5:2201',
      groups: 'web, db,web',
      ansible_user: 'deploy',
      tier: 2,
    });
    expect(r.changed).toBe(false); // the engine decides once it applied the change
    expect(r.inventory).toEqual({
      host: '10.0.0.5',
      groups: ['web', 'db'],
      vars: { ansible_user: 'deploy', tier: 2, ansible_port: 2201 },
    });
    expect(groupList(['a', 'b', 'a'])).toEqual(['a', 'b']);
    expect(groupList(undefined)).toEqual([]);
  });

  it('an explicit ansible_port wins over the port in the name; an IPv6 address keeps its colons', async () => {
    const r = await addHostModule.run(makeContext(), { name: 'h:22', ansible_port: 2022 });
    expect(r.inventory?.vars).toEqual({ ansible_port: 2022 });
    const v6 = await addHostModule.run(makeContext(), { name: '[fe80::1]:2200' });
    expect(v6.inventory).toMatchObject({ host: 'fe80::1', vars: { ansible_port: 2200 } });
  });

  it('needs a name; takes any other argument', () => {
    const valid = argsValidator(addHostModule);
    expect(valid({ name: 'x', groups: ['a'], anything: { nested: true } })).toBe(true);
    expect(valid({ groups: 'a' })).toBe(false);
    expect(addHostModule.runOnce).toBe(true);
  });
});

describe('Inventory.addDynamic', () => {
  it('adds the host to its groups (out of ungrouped) and drops the cached patterns and variables', async () => {
    const inv = await inventory(
      'all:\n  vars: { v: all }\n  children:\n    web:\n      vars: { v: web }\n      hosts: { old: {} }\n',
    );
    expect(inv.match('web')).toEqual(['old']);
    expect(inv.match('all')).toEqual(['old']);
    expect(inv.hostVars('old').v).toBe('web');

    expect(
      inv.addDynamic({ host: 'new', groups: ['web', 'made'], vars: { ansible_host: '10.1.1.1' } }, pos),
    ).toBe(true);
    expect(inv.match('web')).toEqual(['old', 'new']);
    expect(inv.match('made')).toEqual(['new']);
    expect(inv.match('ungrouped')).toEqual([]);
    expect(inv.hostVars('new')).toMatchObject({ v: 'web', ansible_host: '10.1.1.1' });
    expect(inv.varSource('new', 'ansible_host')).toEqual(pos);
    expect(inv.groupsOf('new')).toEqual(['made', 'web']);
    expect(inv.magicVars('old').groups).toMatchObject({ made: ['new'], web: ['old', 'new'] });

    // The same again: nothing changes. New variables merge into the host's own.
    expect(inv.addDynamic({ host: 'new', groups: ['web'], vars: { ansible_host: '10.1.1.1' } }, pos)).toBe(
      false,
    );
    expect(inv.addDynamic({ host: 'new', groups: [], vars: { ansible_user: 'u' } }, pos)).toBe(true);
    expect(inv.hostVars('new')).toMatchObject({ ansible_host: '10.1.1.1', ansible_user: 'u' });
  });

  it('a host of no group lands in ungrouped; a group under parents is not a direct child of all', async () => {
    const inv = await inventory('all:\n  hosts: { a: {} }\n');
    inv.addDynamic({ host: 'lone', groups: [] }, pos);
    expect(inv.match('ungrouped')).toEqual(['a', 'lone']);
    expect(inv.addDynamic({ host: 'a', groups: ['child'], parents: ['parent'] }, pos)).toBe(true);
    expect(inv.group('parent')?.children).toEqual(['child']);
    expect(inv.group('all')?.children).not.toContain('child');
    expect(inv.match('parent')).toEqual(['a']);
    expect(inv.match('ungrouped')).toEqual(['lone']);
  });

  it('refuses a host named like a group, a group named like a host, and a cycle', async () => {
    const inv = await inventory('all:\n  children:\n    g:\n      hosts: { h: {} }\n');
    expect(() => inv.addDynamic({ host: 'g', groups: [] }, pos)).toThrow(/is a group/);
    expect(() => inv.addDynamic({ host: 'h', groups: ['h'] }, pos)).toThrow(/is a host/);
    inv.addDynamic({ host: 'h', groups: ['inner'], parents: ['g'] }, pos);
    expect(() => inv.addDynamic({ host: 'h', groups: ['g'], parents: ['inner'] }, pos)).toThrow(/cycle/);
  });
});
