// Host patterns resolve as Ansible resolves them: each expectation below was recorded from
// `ansible PATTERN -i test/fixtures/inventory/basic/hosts.yml --list-hosts` (ansible-core 2.14).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/core/problems.js';
import { type Inventory, loadInventory } from '../../../src/inventory/inventory.js';
import { splitHostPattern } from '../../../src/inventory/patterns.js';

const basic = join(import.meta.dirname, '../../fixtures/inventory/basic/hosts.yml');
const ALL =
  'jump.example.com 10.0.0.9 web01.example.com web02.example.com web03.example.com www.example.com db1.example.com mx1.example.com mx2.example.com imap-a.example.com imap-b.example.com imap-c.example.com';
const WEB = 'web01.example.com web02.example.com web03.example.com www.example.com';
const NOT_WEB =
  'jump.example.com 10.0.0.9 db1.example.com mx1.example.com mx2.example.com imap-a.example.com imap-b.example.com imap-c.example.com';
const MAIL = 'mx1.example.com mx2.example.com imap-a.example.com imap-b.example.com imap-c.example.com';

const recorded: [string, string][] = [
  ['all', ALL],
  ['*', ALL],
  ['web*', WEB],
  ['web', WEB],
  ['web:dbservers', `${WEB} db1.example.com`],
  ['web,dbservers', `${WEB} db1.example.com`],
  ['web:&dbservers', 'web01.example.com'],
  ['all:!web', NOT_WEB],
  ['~(mx|imap)', MAIL],
  ['~web0[12]', 'web01.example.com web02.example.com'],
  ['mail', MAIL],
  ['mail:!imap', 'mx1.example.com mx2.example.com'],
  ['&web', WEB],
  ['!web', NOT_WEB],
  ['web[0]', 'web01.example.com'],
  ['web[1:2]', 'web02.example.com web03.example.com'],
  ['web[-1]', 'www.example.com'],
  ['web[2:]', 'web03.example.com www.example.com'],
  ['localhost', 'localhost'],
  ['127.0.0.1', '127.0.0.1'],
  ['nosuch', ''],
  [
    '*.example.com:!mail',
    'jump.example.com web01.example.com web02.example.com web03.example.com www.example.com db1.example.com',
  ],
  ['mx1.example.com', 'mx1.example.com'],
  ['db*:web[0]', 'db1.example.com web01.example.com'],
  ['ungrouped', 'jump.example.com 10.0.0.9'],
  ['10.0.0.9', '10.0.0.9'],
  ['imap-[ab].example.com', 'imap-a.example.com imap-b.example.com'],
  ['imap-[!a]*', 'imap-b.example.com imap-c.example.com'],
  ['web0?.example.com', 'web01.example.com web02.example.com web03.example.com'],
];

describe('host patterns', () => {
  let inv: Inventory;
  beforeAll(async () => {
    inv = await loadInventory([basic]);
  });

  // A fresh inventory per pattern, as each recorded `ansible` run was: the first pattern naming localhost
  // decides the implicit host's name for the rest of a run.
  it.each(recorded)('%s', async (pattern, expected) => {
    expect((await loadInventory([basic])).match(pattern).join(' ')).toBe(expected);
  });

  it('hosts() lists every host in the order of the pattern all', () => {
    expect(inv.hosts().join(' ')).toBe(ALL);
    expect(inv.hosts()).not.toContain('localhost');
  });

  it('--limit @file reads one pattern per line', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ewsplay-limit-')), 'retry');
    writeFileSync(file, 'mx2.example.com\n\n  imap\n');
    expect(inv.match(`@${file}`)).toEqual([
      'mx2.example.com',
      'imap-a.example.com',
      'imap-b.example.com',
      'imap-c.example.com',
    ]);
    expect(inv.match(`web:@${file}`)).toContain('mx2.example.com');
    expect(() => inv.match('@/no/such/limit-file')).toThrow(UsageError);
  });

  it('a bad regular expression is a usage error, not a crash', () => {
    expect(() => inv.match('~(web')).toThrow(/invalid host list pattern/);
  });

  it('a subscript past the end says so', () => {
    expect(() => inv.match('web[9]')).toThrow(/no hosts matched the subscripted pattern/);
  });

  it('the implicit localhost connects locally and still gets the vars of all', () => {
    expect(inv.hostVars('localhost')).toMatchObject({
      ansible_connection: 'local',
      ntp_server: 'ntp.example.com',
    });
    expect(inv.magicVars('localhost')).toMatchObject({ inventory_hostname: 'localhost', group_names: [] });
  });
});

describe('splitting patterns', () => {
  it.each([
    ['a:b', ['a', 'b']],
    ['a,b:c', ['a', 'b:c']],
    ['web[1:3]:db', ['web[1:3]', 'db']],
    ['host.example.com:2222', ['host.example.com:2222']],
    ['[::1]:22', ['[::1]:22']],
    ['a:&b:!c', ['a', '&b', '!c']],
    [' a , b ', ['a', 'b']],
  ])('%s', (pattern, parts) => {
    expect(splitHostPattern(pattern)).toEqual(parts);
  });
});
