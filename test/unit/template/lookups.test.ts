// lookup()/query()/q() with Ansible's env, file, vars, items and list lookups. Expected values follow
// Ansible's lookup documentation: lookup() joins string results with commas (wantlist=True or query() keep
// the list), the items lookup flattens one level, the list lookup returns its terms as given, the vars
// lookup errors on an unknown name unless default= is given.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secrets } from '../../../src/core/secrets.js';
import { checkTemplateSyntax, createTemplar } from '../../../src/template/templar.js';

const secrets = new Secrets();
const t = createTemplar({ secrets });
let dir = '';
const vars = () => ({
  playbook_dir: dir,
  variablename: 'hello',
  myvar: 'ename',
  nested: { sub_var: 12 },
  n: 5,
});
const ev = (expr: string) => t.evaluate(expr, vars());

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ewsplay-lookups-'));
  await writeFile(join(dir, 'motd.txt'), '  hello\n\n');
  await writeFile(join(dir, 'db_password.txt'), 'Sup3r-s3cret\n');
  await writeFile(
    join(dir, 'deploy'),
    '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAB3NzaC1yc2EAAAADAQABAAABAQ\n-----END OPENSSH PRIVATE KEY-----\n',
  );
  process.env.EWSPLAY_LOOKUP_A = 'a';
  process.env.EWSPLAY_LOOKUP_B = 'b';
});
afterAll(async () => {
  await rm(dir, { recursive: true });
  delete process.env.EWSPLAY_LOOKUP_A;
  delete process.env.EWSPLAY_LOOKUP_B;
});

describe('lookups', () => {
  it('env: one value, several joined with commas, a list with query or wantlist', () => {
    expect(ev("lookup('env', 'EWSPLAY_LOOKUP_A')")).toBe('a');
    expect(ev("lookup('env', 'EWSPLAY_LOOKUP_A', 'EWSPLAY_LOOKUP_B')")).toBe('a,b');
    expect(ev("query('env', 'EWSPLAY_LOOKUP_A', 'EWSPLAY_LOOKUP_B')")).toEqual(['a', 'b']);
    expect(ev("lookup('env', 'EWSPLAY_LOOKUP_A', wantlist=True)")).toEqual(['a']);
    expect(ev("lookup('env', 'EWSPLAY_LOOKUP_UNSET', default='d')")).toBe('d');
    expect(ev("lookup('ansible.builtin.env', 'EWSPLAY_LOOKUP_B')")).toBe('b');
  });

  it('file: relative to the playbook directory, trailing whitespace stripped (rstrip, lstrip options)', () => {
    expect(ev("lookup('file', 'motd.txt')")).toBe('  hello');
    expect(ev("lookup('file', 'motd.txt', lstrip=True)")).toBe('hello');
    expect(ev("lookup('file', 'motd.txt', rstrip=False)")).toBe('  hello\n\n');
    expect(ev("q('file', 'motd.txt')")).toEqual(['  hello']);
    expect(() => ev("lookup('file', 'missing.txt')")).toThrow(/could not find 'missing.txt'/);
    expect(ev("lookup('file', 'missing.txt', errors='ignore')")).toBeNull();
    expect(ev("query('file', 'missing.txt', errors='ignore')")).toEqual([]);
  });

  it('file: a secret file (by its name, or a private key) is masked like other secrets', () => {
    expect(ev("lookup('file', 'db_password.txt')")).toBe('Sup3r-s3cret');
    expect(secrets.mask('pw=Sup3r-s3cret')).toBe('pw=********');
    ev("lookup('file', 'deploy')");
    expect(secrets.mask('AAAAB3NzaC1yc2EAAAADAQABAAABAQ')).toBe('********');
    ev("lookup('file', 'motd.txt')");
    expect(secrets.mask('hello')).toBe('hello');
  });

  it("vars: a variable by a computed name, Ansible's examples", () => {
    expect(ev("lookup('vars', 'variabl' + myvar)")).toBe('hello');
    expect(ev("lookup('vars', 'variablnotename', default='')")).toBe('');
    expect(() => ev("q('vars', 'variabl' + 'notename')")).toThrow(
      "lookup('vars'): no variable found with this name: variablnotename",
    );
    expect(ev("lookup('vars', 'nested').sub_var")).toBe(12);
    expect(ev("lookup('vars', 'n')")).toBe(5);
    expect(ev("query('vars', 'variablename', 'n')")).toEqual(['hello', 5]);
    expect(ev("lookup('vars', 'variablename', 'n')")).toEqual(['hello', 5]);
  });

  it('items flattens one level; list returns its terms as given', () => {
    // The top-level list [1, [2, 3]] is flattened into the terms; the [2, 3] inside it is not.
    expect(ev("query('items', [1, [2, 3]], 4)")).toEqual([1, [2, 3], 4]);
    expect(ev("query('items', ['a', 'b'])")).toEqual(['a', 'b']);
    expect(ev("lookup('items', ['a', 'b'])")).toBe('a,b');
    expect(ev("query('list', 1, [2, 3], 4)")).toEqual([1, [2, 3], 4]);
    expect(ev("lookup('list', [1, 2])")).toEqual([1, 2]);
  });

  it('an unknown lookup is named, with the ones ewsplay has, at run time and at validation', () => {
    expect(() => ev("lookup('password', '/tmp/x')")).toThrow(
      "there is no lookup named 'password' (ewsplay has env, file, items, list, vars)",
    );
    expect(checkTemplateSyntax("{{ q('pipe', 'date') }}")).toBe(
      "template error: there is no lookup named 'pipe' (ewsplay has env, file, items, list, vars) (line 1)",
    );
    expect(checkTemplateSyntax("{{ lookup('env', 'HOME') ~ query('vars', 'x') | join }}")).toBeUndefined();
    expect(() => ev("lookup('env', 'X', errors='loud')")).toThrow(
      "errors must be strict, warn or ignore, got 'loud'",
    );
  });
});
