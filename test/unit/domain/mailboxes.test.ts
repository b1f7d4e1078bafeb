import { describe, expect, it } from 'vitest';
import {
  inlineMailboxes,
  mailboxProblems,
  mailboxSyntaxProblem,
  parseMailboxFile,
} from '../../../src/modules/mailboxes.js';

describe('mailboxSyntaxProblem', () => {
  it.each([
    'ivan.petrov@corp.example',
    'Ivan.Petrov@Corp.Example',
    "o'neil@x.example",
    'a+tag@x.example',
    '$HOME@x.example',
    'a`id`b@x.example',
    'x{y}|z~@sub.x.example',
  ])('accepts %s', (address) => {
    expect(mailboxSyntaxProblem(address)).toBeUndefined();
  });

  it.each([
    ['', /empty/],
    ['plainname', /no '@'/],
    ['@x.example', /nothing before/],
    ["a'b@x", /two labels/],
    ['$(id)@x.example', /"\(" is not allowed/],
    ['a b@x.example', /white space/],
    ['.a@x.example', /dots/],
    ['a..b@x.example', /dots/],
    ['a.@x.example', /dots/],
    ['"quoted"@x.example', /quoted local parts/],
    ['a@b@x.example', /quoted local parts and a second/],
    ['иван@x.example', /non-ASCII/],
    ['a@-x.example', /invalid label "-x"/],
    ['a@x..example', /invalid label ""/],
    ['a@[127.0.0.1]', /invalid label/],
    [`${'a'.repeat(65)}@x.example`, /64/],
  ])('refuses %j', (address, why) => {
    expect(mailboxSyntaxProblem(address)).toMatch(why);
  });
});

describe('parseMailboxFile', () => {
  it('reads one address per line with comments, keeping case', () => {
    const text =
      '# migration wave 1\nIvan.Petrov@corp.example\n\n  anna@corp.example   # boss\r\nx#y@corp.example\n';
    const { entries, problems } = parseMailboxFile(text, 'wave1.txt');
    expect(problems).toEqual([]);
    expect(entries).toEqual([
      { address: 'Ivan.Petrov@corp.example', source: 'wave1.txt', line: 2 },
      { address: 'anna@corp.example', source: 'wave1.txt', line: 4 },
      { address: 'x#y@corp.example', source: 'wave1.txt', line: 5 },
    ]);
  });

  it('reads the email column of a CSV, whatever its position, with quoted fields', () => {
    const text = 'name,Email,dept\n"Petrov, Ivan",Ivan.Petrov@corp.example,IT\nAnna,"anna@corp.example",HR\n';
    const { entries } = parseMailboxFile(text, 'users.csv');
    expect(entries.map((e) => [e.address, e.line])).toEqual([
      ['Ivan.Petrov@corp.example', 2],
      ['anna@corp.example', 3],
    ]);
  });

  it('takes the first column of a semicolon CSV without an email header', () => {
    const text = '\uFEFFaddress;name\nanna@corp.example;Anna\n';
    expect(parseMailboxFile(text, 'u.csv').entries.map((e) => e.address)).toEqual(['anna@corp.example']);
  });

  it('reports rows without an address and open quotes by line', () => {
    const text = 'email,name\n,Nobody\n"anna@corp.example,Anna\n';
    expect(parseMailboxFile(text, 'u.csv').problems).toEqual([
      'u.csv:2: no address in column 1',
      'u.csv:3: unbalanced double quote',
    ]);
  });
});

describe('mailboxProblems', () => {
  it('names both addresses that differ only in case, and exact duplicates', () => {
    const entries = parseMailboxFile(
      'Ivan.Petrov@corp.example\nanna@corp.example\nivan.petrov@corp.example\nanna@corp.example\n',
      'm.txt',
    ).entries;
    expect(mailboxProblems(entries)).toEqual([
      'm.txt:3: ivan.petrov@corp.example and Ivan.Petrov@corp.example (m.txt:1) differ only in case: addresses are case-sensitive, keep the one spelled as in Exchange',
      'm.txt:4: anna@corp.example is listed twice (first at m.txt:2)',
    ]);
  });

  it('positions inline entries by index', () => {
    expect(mailboxProblems(inlineMailboxes(['ok@x.example', '$(id)@x']))).toEqual([
      'mailboxes[1]: "$(id)@x" is not a valid address: the character "(" is not allowed before the \'@\'',
    ]);
  });
});
