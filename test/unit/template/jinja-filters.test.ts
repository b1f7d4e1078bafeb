// Jinja's built-in filters that nunjucks lacks or implements otherwise. Expected values are what Jinja 3 /
// Python 3 return for the same input (from their documentation: the filter examples, str.center, round()'s
// note on 2.675, the printf-style formatting section).
import { describe, expect, it } from 'vitest';
import { checkTemplateSyntax, createTemplar } from '../../../src/template/templar.js';

const t = createTemplar();
const vars = {
  greeting: 'Hello',
  name: 'World',
  users: [
    { name: 'bo', age: 30 },
    { name: 'al', age: 25 },
    { name: 'cy', age: 30 },
  ],
  cfg: { b: 2, A: 3, a: 1 },
};
const ev = (expr: string) => t.evaluate(expr, vars);

describe('Jinja filters nunjucks lacks or gets wrong', () => {
  const cases: [string, unknown][] = [
    // format: Python's % operator.
    ['"%s, %s!" | format(greeting, name)', 'Hello, World!'],
    [
      "'%(language)s has %(number)03d quote types.' | format(language='Python', number=2)",
      'Python has 002 quote types.',
    ],
    ["'%05.2f' | format(3.14159)", '03.14'],
    ["'%5d|%-5d|' | format(42, 42)", '   42|42   |'],
    ["'%x %#x %X %o' | format(255, 255, 255, 8)", 'ff 0xff FF 10'],
    ["'%+d % d' | format(5, 5)", '+5  5'],
    ["'%e' | format(12345.678)", '1.234568e+04'],
    ["'%g %g %g' | format(0.00001, 123456789, 1.5)", '1e-05 1.23457e+08 1.5'],
    ["'%.3s|%r|%%' | format('abcdef', 'a')", "abc|'a'|%"],
    ["'%s' | format([1, 'a'])", "[1, 'a']"],
    ["'%d' | format(3.7)", '3'],
    ["'%.2f' | format(2.675)", '2.67'],
    // abs
    ['-3 | abs', 3],
    ['-2.5 | abs', 2.5],
    // round: Python's round (ties to even), or ceil/floor at a precision.
    ['42.55 | round', 43],
    ["42.55 | round(1, 'floor')", 42.5],
    ["42.51 | round(1, 'ceil')", 42.6],
    ['2.675 | round(2)', 2.67],
    ['2.5 | round', 2],
    ['0.5 | round', 0],
    ['1.5 | round', 2],
    ['1.23456 | round(precision=3)', 1.235],
    ['1234 | round(-2)', 1200],
    // dictsort: key, case-insensitive by default (a stable sort: 'A' and 'a' tie, in the mapping's order);
    // by value; reversed (ties keep their order, as sorted(reverse=True) does).
    [
      'cfg | dictsort',
      [
        ['A', 3],
        ['a', 1],
        ['b', 2],
      ],
    ],
    [
      'cfg | dictsort(true)',
      [
        ['A', 3],
        ['a', 1],
        ['b', 2],
      ],
    ],
    [
      "cfg | dictsort(false, 'value')",
      [
        ['a', 1],
        ['b', 2],
        ['A', 3],
      ],
    ],
    [
      'cfg | dictsort(reverse=true)',
      [
        ['b', 2],
        ['A', 3],
        ['a', 1],
      ],
    ],
    // indent: first line and blank lines not indented unless asked; width may be a string.
    ["'a\\n\\nb' | indent", 'a\n\n    b'],
    ["'a\\n\\nb' | indent(2, first=true, blank=true)", '  a\n  \n  b'],
    ["'a\\nb\\n' | indent(2)", 'a\n  b\n'],
    ["'a\\nb' | indent('\\t')", 'a\n\tb'],
    ["'' | indent", ''],
    // center: Python's str.center.
    ["'ab' | center(5)", '  ab '],
    ["'a' | center(4)", ' a  '],
    ["'abc' | center(7)", '  abc  '],
    ["'toolong' | center(3)", 'toolong'],
    // wordcount: runs of \w.
    ["'Hello world, again_2' | wordcount", 3],
    ["'' | wordcount", 0],
    // items: dict.items().
    [
      "{'a': 1, 'b': [2]} | items | list",
      [
        ['a', 1],
        ['b', [2]],
      ],
    ],
    // reverse: strings, lists, a mapping's keys.
    ["'abc' | reverse", 'cba'],
    ['[1, 2, 3] | reverse | list', [3, 2, 1]],
    ["{'x': 1, 'y': 2} | reverse | list", ['y', 'x']],
    // sort: Python's sorted, case-insensitive by default, stable, lists compared item by item.
    ["['b', 'A', 'a', 'B'] | sort", ['A', 'a', 'b', 'B']],
    ["['b', 'A', 'a', 'B'] | sort(case_sensitive=true)", ['A', 'B', 'a', 'b']],
    ['[3, 1, 2] | sort(reverse=true)', [3, 2, 1]],
    [
      '[[2, 1], [10, 0], [2, 0]] | sort',
      [
        [2, 0],
        [2, 1],
        [10, 0],
      ],
    ],
    ["{'b': 1, 'a': 2} | sort", ['a', 'b']],
    ["users | sort(attribute='age') | map(attribute='name') | list", ['al', 'bo', 'cy']],
    ["users | sort(attribute='age,name', reverse=true) | map(attribute='name') | list", ['cy', 'bo', 'al']],
    // aliases Ansible users write.
    ['nope | d(1)', 1],
    ["'abc' | count", 3],
  ];
  it.each(cases)('%s', (expr, want) => {
    expect(ev(expr)).toEqual(want);
  });

  it('errors name the filter and say what it expected', () => {
    expect(() => ev("'x' | abs")).toThrow("abs: expected a number, got 'x'");
    expect(() => ev("'3.7' | round")).toThrow("round: expected a number, got '3.7'");
    expect(() => ev("1.5 | round(1, 'up')")).toThrow("round: method must be common, ceil or floor, got 'up'");
    expect(() => ev("'%d' | format('x')")).toThrow("format: %d format: a real number is required, not 'x'");
    expect(() => ev("'%s %s' | format(1)")).toThrow('format: not enough arguments for format string');
    expect(() => ev("'%s' | format(1, 2)")).toThrow(
      'format: not all arguments converted during string formatting',
    );
    expect(() => ev("'%s' | format(1, a=2)")).toThrow(
      "format: can't handle positional and keyword arguments",
    );
    expect(() => ev('[1] | dictsort')).toThrow('dictsort: expected a dictionary, got [1]');
    expect(() => ev("cfg | dictsort(by='size')")).toThrow(
      'dictsort: you can only sort by either "key" or "value"',
    );
    expect(() => ev('[1] | items')).toThrow('items: can only get item pairs from a mapping, got [1]');
    expect(() => ev('5 | indent')).toThrow('indent: expected a string, got 5');
    expect(() => ev('5 | reverse')).toThrow('reverse: expected a string, list or dictionary, got 5');
    expect(() => ev("[1, 'a'] | sort")).toThrow("sort: cannot compare 'a' (str) with 1 (int)");
    expect(() => ev("users | sort(attribute='height')")).toThrow("sort: 'height' is undefined");
  });

  it('validation knows the new filters', () => {
    expect(checkTemplateSyntax('{{ "%s-%s" | format(a, b) | center(9) | indent(2) }}')).toBeUndefined();
    expect(
      checkTemplateSyntax('{{ x | items | dictsort | wordcount | round(1, "floor") | abs }}'),
    ).toBeUndefined();
  });
});
