// Loading inventories: Ansible's variable precedence, group_vars/host_vars, several sources, inventory
// directories, magic variables, host ranges and ports in host keys.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  expandHostRange,
  HostRangeError,
  parseAddress,
  parseHostKey,
} from '../../../src/inventory/host-range.js';
import { loadInventory } from '../../../src/inventory/inventory.js';

const fixtures = join(import.meta.dirname, '../../fixtures/inventory');

function scratch(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ewsplay-inventory-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

describe('variable precedence (Ansible order)', () => {
  const source = join(fixtures, 'precedence/hosts.yml');

  it('all < parent < child < host, then group_vars/all, group_vars/<group>, host_vars', async () => {
    const inv = await loadInventory([source]);
    expect(inv.hostVars('h1')).toMatchObject({
      v_all: 'all',
      v_parent: 'parent',
      v_child: 'child',
      v_host: 'host',
      // group_vars/all wins over an inline var of a child group: Ansible merges every inline group var first.
      v_gv_all: 'group_vars-all',
      v_gv_child: 'group_vars-child',
      v_hv: 'host_vars',
    });
    // h2 has no inline vars and no host_vars file: the group_vars file of its group is the last word.
    expect(inv.hostVars('h2')).toMatchObject({ v_host: 'child', v_hv: 'group_vars-child' });
  });

  it('groups of equal depth merge by name; deeper groups win; ansible_group_priority reorders equals', async () => {
    const inv = await loadInventory([source]);
    // alpha (depth 1) < zeta (depth 2, under diamond): depth beats the alphabet.
    expect(inv.hostVars('h1').v_alpha).toBe('zeta');
    // alpha, gamma, beta all at depth 1: beta has priority 10, so it merges last.
    expect(inv.hostVars('h1').v_prio).toBe('beta');
    expect(inv.hostVars('h1')).not.toHaveProperty('ansible_group_priority');
  });

  it('tells where the winning value was written', async () => {
    const inv = await loadInventory([source]);
    expect(inv.varSource('h1', 'v_hv')).toEqual({
      file: join(fixtures, 'precedence/host_vars/h1.yml'),
      line: 1,
      col: 1,
    });
    expect(inv.varSource('h1', 'v_child')).toEqual({ file: source, line: 25, col: 13 });
  });

  it('merged vars are computed once per host and shared by hosts of the same groups', async () => {
    const inv = await loadInventory([source]);
    expect(inv.hostVars('h1')).toBe(inv.hostVars('h1'));
  });
});

describe('sources', () => {
  it('an inventory directory reads every inventory file in it, and its group_vars/ and host_vars/', async () => {
    const inv = await loadInventory([join(fixtures, 'vars-dir')]);
    expect(inv.hosts()).toEqual(['web01', 'web02', 'web03', 'db01', 'mon01']);
    expect(inv.groupsOf('web01')).toEqual(['monitoring', 'web']);
    // group_vars/web/ is a directory: its files merge in name order, and they beat the inline group var.
    expect(inv.hostVars('web02')).toMatchObject({
      from_file: 'web-extra',
      from_inline: 'web-file',
      tls: true,
    });
    expect(inv.hostVars('web02').http_port).toBe(8080);
    expect(inv.hostVars('web01')).toMatchObject({ http_port: 8443, from_file: 'web01', dns: '192.0.2.53' });
    expect(inv.hostVars('db01')).toMatchObject({ db_engine: 'postgres', from_file: 'db' });
  });

  it('several -i sources merge; group_vars of every source apply to every host', async () => {
    // Expectations recorded from ansible-inventory -i a/hosts.yml -i b/hosts.yml --host h1 (ansible-core 2.14).
    const dir = scratch({
      'a/hosts.yml': 'all:\n  children:\n    child:\n      hosts:\n        h1:\n          x_host: a-inline\n',
      'a/group_vars/child.yml': 'v1: a-child-file\nv2: a-child-file\n',
      'b/hosts.yml': 'web:\n  hosts:\n    h1:\n      x_host: b-inline\n    h2:\n',
      'b/group_vars/all.yml': 'v1: b-all-file\n',
      'b/group_vars/web.yml': 'v2: b-web-file\n',
    });
    const inv = await loadInventory([join(dir, 'a/hosts.yml'), join(dir, 'b/hosts.yml')]);
    expect(inv.hostVars('h1')).toEqual({ v1: 'a-child-file', v2: 'b-web-file', x_host: 'b-inline' });
    expect(inv.hostVars('h2')).toEqual({ v1: 'b-all-file', v2: 'b-web-file' });
    expect(inv.magicVars('h1')).toMatchObject({
      inventory_file: join(dir, 'a/hosts.yml'),
      inventory_dir: join(dir, 'a'),
      group_names: ['child', 'web'],
      groups: { all: ['h1', 'h2'], ungrouped: [], child: ['h1'], web: ['h1', 'h2'] },
    });
  });

  it('a comma-separated host list is a source, as with ansible -i host1,host2', async () => {
    const inv = await loadInventory(['alpha.example.com,beta.example.com:2222,']);
    expect(inv.hosts()).toEqual(['alpha.example.com', 'beta.example.com']);
    expect(inv.hostVars('beta.example.com')).toEqual({ ansible_port: 2222 });
    expect(inv.groupsOf('alpha.example.com')).toEqual(['ungrouped']);
  });

  it('inventory/local.yml holds localhost with the local connection', async () => {
    const inv = await loadInventory([join(import.meta.dirname, '../../../inventory/local.yml')]);
    expect(inv.hosts()).toEqual(['localhost']);
    expect(inv.hostVars('localhost')).toEqual({ ansible_connection: 'local' });
  });

  it('an empty inventory file is an inventory without hosts', async () => {
    const dir = scratch({ 'hosts.yml': '# nothing yet\n' });
    const inv = await loadInventory([join(dir, 'hosts.yml')]);
    expect(inv.hosts()).toEqual([]);
    expect(inv.match('all')).toEqual([]);
  });
});

describe('hosts and groups', () => {
  it('magic variables', async () => {
    const inv = await loadInventory([join(fixtures, 'basic/hosts.yml')]);
    expect(inv.magicVars('web01.example.com')).toMatchObject({
      inventory_hostname: 'web01.example.com',
      inventory_hostname_short: 'web01',
      group_names: ['dbservers', 'web'],
      inventory_file: join(fixtures, 'basic/hosts.yml'),
      inventory_dir: join(fixtures, 'basic'),
    });
    expect(inv.magicVars('10.0.0.9').inventory_hostname_short).toBe('10.0.0.9');
    expect((inv.magicVars('mx1.example.com').groups as Record<string, string[]>).mail).toEqual([
      'mx1.example.com',
      'mx2.example.com',
      'imap-a.example.com',
      'imap-b.example.com',
      'imap-c.example.com',
    ]);
    expect(inv.groupsOf('imap-a.example.com')).toEqual(['imap', 'mail']);
    expect(inv.groupsOf('jump.example.com')).toEqual(['ungrouped']);
  });

  it('source() points at the host key', async () => {
    const inv = await loadInventory([join(fixtures, 'basic/hosts.yml')]);
    expect(inv.source('web02.example.com')).toEqual({
      file: join(fixtures, 'basic/hosts.yml'),
      line: 27,
      col: 9,
    });
    expect(inv.source('10.0.0.9')).toMatchObject({ line: 12, col: 5 });
  });

  it('YAML 1.1 scalars read as Ansible reads them', async () => {
    const dir = scratch({
      'hosts.yml':
        'all:\n  vars: { a: yes, b: off, c: 0644, d: y, e: 2024-01-31, f: "0644" }\n  hosts: { h: }\n',
    });
    const inv = await loadInventory([join(dir, 'hosts.yml')]);
    expect(inv.hostVars('h')).toEqual({ a: true, b: false, c: 420, d: 'y', e: '2024-01-31', f: '0644' });
  });
});

describe('host keys', () => {
  it.each([
    ['web[01:03].example.com', ['web01.example.com', 'web02.example.com', 'web03.example.com']],
    ['db-[a:c]', ['db-a', 'db-b', 'db-c']],
    ['node[0:20:10]', ['node0', 'node10', 'node20']],
    ['r[1:2]-s[a:b]', ['r1-sa', 'r1-sb', 'r2-sa', 'r2-sb']],
    ['n[:2]', ['n0', 'n1', 'n2']],
    ['plain.example.com', ['plain.example.com']],
  ])('%s', (key, names) => {
    expect(expandHostRange(key)).toEqual(names);
  });

  it.each([
    ['web[1:2:3:4]', /begin:end or begin:end:step/],
    ['web[01:5]', /equal-length/],
    ['web[c:a]', /begin <= end/],
    ['web[1:]', /specify end/],
  ])('%s is refused', (key, message) => {
    expect(() => expandHostRange(key)).toThrow(HostRangeError);
    expect(() => expandHostRange(key)).toThrow(message);
  });

  it('a port written in the key becomes ansible_port', () => {
    expect(parseHostKey('web[1:2].example.com:2222')).toEqual({
      names: ['web1.example.com', 'web2.example.com'],
      port: 2222,
    });
    expect(parseHostKey('[::1]:2200')).toEqual({ names: ['::1'], port: 2200 });
    expect(parseHostKey('10.0.0.1')).toEqual({ names: ['10.0.0.1'] });
  });

  // ASCII names take a cheaper regex than non-ASCII ones: both must apply Ansible's label rules.
  it.each([
    ['web01.example.com:2222', { host: 'web01.example.com', port: 2222 }],
    ['Web_01', { host: 'Web_01' }],
    ['hôte.exemple.fr:22', { host: 'hôte.exemple.fr', port: 22 }],
    ['сервер-1', { host: 'сервер-1' }],
    ['web-', undefined],
    ['сервер_', undefined],
    ['a..b', undefined],
    ['tab\there', undefined],
  ])('address %j', (text, expected) => {
    expect(parseAddress(text)).toEqual(expected);
  });
});
