// The INI inventory's building blocks, against what Python gives for the same text (ast.literal_eval,
// shlex.split(comments=True)); the whole format is compared with ansible-inventory in golden.test.ts.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { shlexWords } from '../../../src/inventory/ini-inventory.js';
import { loadInventory } from '../../../src/inventory/inventory.js';
import { pythonLiteral } from '../../../src/inventory/python-literal.js';

describe('pythonLiteral (ast.literal_eval, else the text)', () => {
  it.each([
    ['42', 42],
    ['-7', -7],
    ['1.5', 1.5],
    ['1e3', 1000],
    ['0x1F', 31],
    ['0o17', 15],
    ['1_000', 1000],
    ['True', true],
    ['None', null],
    ["'a b'", 'a b'],
    ['"tab\\there"', 'tab\there'],
    ["'a' 'b'", 'ab'],
    ["[1, 'x', [2]]", [1, 'x', [2]]],
    ['(1, 2)', [1, 2]],
    ["{'k': 1, 'n': {'m': None}}", { k: 1, n: { m: null } }],
    ['42 # the answer', 42],
  ])('%s is a literal', (text, value) => {
    expect(pythonLiteral(text)).toEqual(value);
  });

  it.each(['yes', 'true', '0644', 'web01', '1abc', 'production # note', '[a, b]', "'unclosed", ''])(
    '%s stays text',
    (text) => {
      expect(pythonLiteral(text)).toBe(text);
    },
  );
});

describe('shlexWords (shlex.split with comments)', () => {
  it('splits on blanks, joins quoted parts, drops comments, keeps offsets', () => {
    expect(shlexWords(`web1 a="x y" b='p q'r c=d\\ e # comment`)).toEqual([
      { text: 'web1', offset: 0 },
      { text: 'a=x y', offset: 5 },
      { text: 'b=p qr', offset: 13 },
      { text: 'c=d e', offset: 22 },
    ]);
    expect(shlexWords('h k=v#c')).toEqual([
      { text: 'h', offset: 0 },
      { text: 'k=v', offset: 2 },
    ]);
  });

  it('refuses an unclosed quote', () => {
    expect(() => shlexWords('h k="v')).toThrow(/no closing quotation/);
  });
});

describe('INI and YAML files side by side in an inventory directory', () => {
  it("reads YAML and extension-less INI files; skips .ini files, as Ansible's INVENTORY_IGNORE_EXTS does", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ewsplay-ini-'));
    writeFileSync(join(dir, '01-hosts.ini'), '[web]\nweb1 port=1\n');
    writeFileSync(join(dir, '02-more.yml'), 'web:\n  hosts:\n    web2: { port: 2 }\n');
    writeFileSync(join(dir, '03-plain'), '[web]\nweb3 port=3\n');
    const inv = await loadInventory([dir]);
    expect(inv.hosts()).toEqual(['web2', 'web3']);
    expect(inv.hostVars('web3')).toMatchObject({ port: 3 });
  });
});
