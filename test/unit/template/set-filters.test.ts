// Ansible's set theory and list filters. Expected values are the examples of Ansible's filter documentation
// (union/intersect/difference/symmetric_difference pages, "Combining items from multiple lists: zip and
// zip_longest", product, subelements), in first-seen order (see set-filters.ts for why that order).
import { describe, expect, it } from 'vitest';
import { createTemplar } from '../../../src/template/templar.js';

const t = createTemplar();
const vars = {
  list1: [1, 2, 5, 1, 3, 4, 10],
  list2: [1, 2, 3, 4, 5, 11, 99],
  users: [
    { groups: [1, 2, 3], name: 'lola' },
    { name: 'fernando', groups: [2, 3, 4] },
  ],
  keys_list: ['one', 'two'],
  values_list: ['apple', 'orange'],
};
const ev = (expr: string) => t.evaluate(expr, vars);

describe('Ansible set and list filters', () => {
  const cases: [string, unknown][] = [
    ['list1 | union(list2)', [1, 2, 5, 3, 4, 10, 11, 99]],
    ['[1, 2, 5, 3, 4, 10] | intersect(list2)', [1, 2, 5, 3, 4]],
    ['list1 | difference(list2)', [10]],
    ['list1 | symmetric_difference(list2)', [10, 11, 99]],
    // Python equality: dicts whatever their key order, 1 == 1.0 == True.
    ["[{'a': 1, 'b': 2}, {'a': 3}] | difference([{'b': 2, 'a': 1}])", [{ a: 3 }]],
    ["['a', 'b', 'a'] | union([])", ['a', 'b']],
    ["['x'] | intersect(['y'])", []],
    [
      "[1, 2, 3, 4, 5, 6] | zip(['a', 'b', 'c', 'd', 'e', 'f']) | list",
      [
        [1, 'a'],
        [2, 'b'],
        [3, 'c'],
        [4, 'd'],
        [5, 'e'],
        [6, 'f'],
      ],
    ],
    [
      "[1, 2, 3] | zip(['a', 'b', 'c', 'd', 'e', 'f']) | list",
      [
        [1, 'a'],
        [2, 'b'],
        [3, 'c'],
      ],
    ],
    [
      "[1, 2, 3] | zip_longest(['a', 'b', 'c', 'd', 'e', 'f'], [21, 22, 23], fillvalue='X') | list",
      [
        [1, 'a', 21],
        [2, 'b', 22],
        [3, 'c', 23],
        ['X', 'd', 'X'],
        ['X', 'e', 'X'],
        ['X', 'f', 'X'],
      ],
    ],
    [
      "[1] | zip_longest(['a', 'b']) | list",
      [
        [1, 'a'],
        [null, 'b'],
      ],
    ],
    [
      "['foo', 'bar'] | product(['com']) | list",
      [
        ['foo', 'com'],
        ['bar', 'com'],
      ],
    ],
    [
      "[1, 2] | product(['a', 'b']) | list",
      [
        [1, 'a'],
        [1, 'b'],
        [2, 'a'],
        [2, 'b'],
      ],
    ],
    [
      '[0, 1] | product(repeat=2) | list',
      [
        [0, 0],
        [0, 1],
        [1, 0],
        [1, 1],
      ],
    ],
    [
      "users | subelements('groups', skip_missing=True)",
      [
        [{ groups: [1, 2, 3], name: 'lola' }, 1],
        [{ groups: [1, 2, 3], name: 'lola' }, 2],
        [{ groups: [1, 2, 3], name: 'lola' }, 3],
        [{ name: 'fernando', groups: [2, 3, 4] }, 2],
        [{ name: 'fernando', groups: [2, 3, 4] }, 3],
        [{ name: 'fernando', groups: [2, 3, 4] }, 4],
      ],
    ],
    ["users | subelements('keys', skip_missing=true)", []],
    // The usual way to build a mapping from two lists; `dict` as a filter is community.general's.
    ['dict(keys_list | zip(values_list))', { one: 'apple', two: 'orange' }],
    ['keys_list | zip(values_list) | dict', { one: 'apple', two: 'orange' }],
    ['dict(a=1, b=2)', { a: 1, b: 2 }],
    ["dict([['a', 1]], b=2)", { a: 1, b: 2 }],
  ];
  it.each(cases)('%s', (expr, want) => {
    expect(ev(expr)).toEqual(want);
  });

  it('errors name the filter and say what it expected', () => {
    expect(() => ev('list1 | union')).toThrow('union: give the second list: list1 | union(list2)');
    expect(() => ev('5 | difference([1])')).toThrow('difference: expected a list, got 5');
    expect(() => ev("users | subelements('nope')")).toThrow(
      "subelements: could not find 'nope' key in iterated item {'groups': [1, 2, 3], 'name': 'lola'}",
    );
    expect(() => ev("users | subelements('name')")).toThrow(
      "subelements: the key 'name' should point to a list, got 'lola'",
    );
    expect(() => ev("'x' | subelements('a')")).toThrow(
      'subelements: obj must be a list of dicts or a nested dict',
    );
    expect(() => ev('[[1, 2, 3]] | dict')).toThrow(
      'dict: item #0 must be a [key, value] pair, got [1, 2, 3]',
    );
    expect(() => ev('[1] | product(repeat=-1)')).toThrow('product: repeat must be a whole number, got -1');
  });
});
