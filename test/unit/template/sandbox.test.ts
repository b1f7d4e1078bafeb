// The templar's sandbox: no route from a template to a JavaScript function, while Jinja's own calls
// (filters, tests, globals, Python methods, macros) keep working.
import { describe, expect, it } from 'vitest';
import { createTemplar } from '../../../src/template/templar.js';

const t = createTemplar();
const vars = { items: [{ a: 1 }], d: { k: 'v' }, s: 'text' };

describe('templates cannot reach JavaScript', () => {
  it.each([
    ["{{ ''.constructor.constructor('return process')() }}", /'value.constructor' is undefined/],
    ['{{ s.constructor }}', /'s.constructor' is undefined/],
    ["{{ d['__proto__'] }}", /is undefined/],
    ["{{ d['con' ~ 'structor'] }}", /is undefined/],
    ['{{ items[0].__proto__.constructor }}', /is undefined/],
    ['{{ constructor }}', /'constructor' is undefined/],
    ['{{ toString() }}', /'toString' is undefined/],
    ['{{ hasOwnProperty }}', /'hasOwnProperty' is undefined/],
    ['{{ d.prototype }}', /'d.prototype' is undefined/],
    ['{{ s.length }}', /'s.length' is undefined/],
    ["{{ (items | map(attribute='constructor') | list) }}", /'constructor' is undefined/],
    ["{{ 'x' | constructor }}", /filter not found: constructor/],
    ['{{ 1 is constructor }}', /test not found: constructor/],
    ["{{ lookup('vars', 'constructor') }}", /no variable found with this name: constructor/],
    ["{{ '%(constructor)s' | format(a=1) }}", /no keyword argument named 'constructor'/],
    ['{{ range(200000000) | list | length }}', /over the limit/],
  ])('%s is refused', (template, message) => {
    expect(() => t.render(template, vars)).toThrow(message);
  });

  it('a function that reached a template by any route cannot be called', () => {
    expect(() => t.render('{{ (d | dict2items | first).key() }}', vars)).toThrow(/is not callable/);
  });

  it("Jinja's calls keep working: Python methods, globals, macros, cyclers", () => {
    expect(t.render("{{ 'a,b'.split(',') }}", vars)).toEqual(['a', 'b']);
    expect(t.render('{{ d.items() | list }}', vars)).toEqual([['k', 'v']]);
    expect(t.render("{{ d.get('k') }}", vars)).toBe('v');
    expect(t.render('{{ range(1, 7, 2) | list }}', vars)).toEqual([1, 3, 5]);
    expect(t.render('{% macro m(x) %}<{{ x }}>{% endmacro %}{{ m(1) }}', vars)).toBe('<1>');
    expect(t.render('{% set c = cycler(1, 2) %}{{ c.next() }}{{ c.next() }}{{ c.next() }}', vars)).toBe(
      '121',
    );
    expect(t.render('{{ dict(a=1) }}', vars)).toEqual({ a: 1 });
  });
});
