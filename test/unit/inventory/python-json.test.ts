// Python's floats in ansible-inventory's JSON: values read from INI as Python literals keep a mark where they
// were written as floats, and pythonJson writes numbers as Python's json.dumps does. The expected texts
// are what Python 3.11 prints (repr, json.dumps(indent=4)); golden.test.ts checks the same against the
// real ansible-inventory.
import { describe, expect, it } from 'vitest';
import { pythonFloatText } from '../../../src/inventory/python-floats.js';
import { pythonJson } from '../../../src/inventory/python-json.js';
import { parsePythonLiteral } from '../../../src/inventory/python-literal.js';

describe('pythonFloatText', () => {
  it.each([
    [1000, '1000.0'],
    [-2, '-2.0'],
    [0, '0.0'],
    [0.1, '0.1'],
    [1.5, '1.5'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [1.25e-7, '1.25e-07'],
    [123456789012345.6, '123456789012345.6'],
    [1e15, '1000000000000000.0'],
    [1e16, '1e+16'],
    [1.5e16, '1.5e+16'],
    [1e300, '1e+300'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
    [Number.NEGATIVE_INFINITY, '-Infinity'],
  ])('%d is %s', (n, text) => {
    expect(pythonFloatText(n)).toBe(text);
  });
});

describe('INI values written as floats', () => {
  it.each([
    ['1e3', 1000, true],
    ['1_000.0', 1000, true],
    ['-2e0', -2, true],
    ['1.', 1, true],
    ['7', 7, false],
    ['0x10', 16, false],
    ['0o17', 15, false],
    ["'1.0'", '1.0', false],
    ['[1.0]', [1], false],
  ])('%s', (text, value, float) => {
    expect(parsePythonLiteral(text)).toEqual({ value, float });
  });

  it('are marked inside lists, tuples, sets and dicts, at any depth, and printed as Python prints them', () => {
    const { value } = parsePythonLiteral("{'a': 2.0, 'b': [1e3, 2, (0.5e1,)], 'c': {1.0, 3}, 'd': 4}");
    expect(value).toEqual({ a: 2, b: [1000, 2, [5]], c: [1, 3], d: 4 });
    expect(pythonJson(value)).toBe(
      [
        '{',
        '    "a": 2.0,',
        '    "b": [',
        '        1000.0,',
        '        2,',
        '        [',
        '            5.0',
        '        ]',
        '    ],',
        '    "c": [',
        '        1.0,',
        '        3',
        '    ],',
        '    "d": 4',
        '}',
      ].join('\n'),
    );
  });

  it('a list after a float inside it is not taken for a float', () => {
    const { value, float } = parsePythonLiteral('[[1.0], 2]');
    expect(float).toBe(false);
    expect(pythonJson(value, 0).replace(/\n/g, '')).toBe('[[1.0],2]');
  });
});

describe('pythonJson', () => {
  it('lays out like JSON.stringify(value, null, 4) where every number is an integer', () => {
    const value = { s: 'a "q" \\ é \u0001\n', n: null, t: true, l: [], o: {}, x: [1, { y: [2, 'z'] }] };
    expect(pythonJson(value)).toBe(JSON.stringify(value, null, 4));
  });

  it('writes numbers that are not integers as Python floats, and integers in full', () => {
    expect(pythonJson([0.00001, 2.5, 1e21, -0.5])).toBe(
      '[\n    1e-05,\n    2.5,\n    1000000000000000000000,\n    -0.5\n]',
    );
  });
});
