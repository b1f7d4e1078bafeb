import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lazyVars } from '../../../src/engine/vars.js';
import { checkTemplateSyntax, createTemplar, TemplateError } from '../../../src/template/templar.js';

const t = createTemplar();
const vars = {
  name: 'Mail Server',
  port: 8443,
  hosts: ['ex1', 'ex2'],
  empty: [],
  nothing: null,
  flag: 'yes',
  cfg: {
    tls: { version: '1.2' },
    users: [
      { name: 'a', admin: true },
      { name: 'b', admin: false },
    ],
  },
  result: { rc: 0, stdout: 'sync ok\nall done', changed: true, failed: false },
  failed_result: { rc: 2, stdout: '', failed: true, changed: false },
  looped: { results: [{ changed: false }, { changed: true }] },
};
const ev = (expr: string, v: Record<string, unknown> = vars) => t.evaluate(expr, v);
const r = (s: unknown, v: Record<string, unknown> = vars) => t.render(s, v);

describe('render', () => {
  it('returns strings without template syntax unchanged, and renders deep', () => {
    const plain = { a: 'no template', b: ['x', 1, true] };
    expect(r(plain)).toBe(plain); // nothing to render: the very same object
    expect(r({ msg: 'hi {{ name }}', list: ['{{ port }}', 'p'], n: 3 })).toEqual({
      msg: 'hi Mail Server',
      list: [8443, 'p'],
      n: 3,
    });
    const shell = ['echo $', '{#arr[@]}'].join(''); // shell syntax, no template
    expect(r(shell)).toBe(shell);
  });

  it('a string that is exactly one expression gives the native value', () => {
    expect(r('{{ hosts }}')).toEqual(['ex1', 'ex2']);
    expect(r('{{ cfg.tls }}')).toEqual({ version: '1.2' });
    expect(r('{{ port + 1 }}')).toBe(8444);
    expect(r('{{ port > 1 }}')).toBe(true);
    expect(r('{{ nothing }}')).toBeNull();
    expect(r('{{ port }}/tcp')).toBe('8443/tcp');
  });

  it('prints values as Python does inside text', () => {
    expect(r('{{ hosts }} {{ true }} {{ nothing }} {{ cfg.tls }}')).toBe(
      "['ex1', 'ex2'] True None {'version': '1.2'}",
    );
  });

  it('supports statements with Python truthiness', () => {
    expect(r('{% for h in hosts %}{{ loop.index }}={{ h }};{% endfor %}')).toBe('1=ex1;2=ex2;');
    expect(r('{% if empty %}full{% else %}empty{% endif %}')).toBe('empty');
    expect(r('{% set x = port * 2 %}{{ x }}')).toBe('16886');
  });
});

describe('strict undefined', () => {
  it('names the undefined variable, also deep in an attribute chain', () => {
    expect(() => r('{{ nope }}')).toThrow("'nope' is undefined");
    const err = (() => {
      try {
        r('x {{ cfg.tls.missing.deeper }}');
      } catch (e) {
        return e as TemplateError;
      }
    })();
    expect(err).toBeInstanceOf(TemplateError);
    expect(err?.message).toBe("'cfg.tls.missing' is undefined");
    expect(err?.variable).toBe('cfg.tls.missing');
    expect(() => ev('nope == 1')).toThrow("'nope' is undefined");
    expect(() => ev('not nope')).toThrow("'nope' is undefined");
    expect(() => r('{% for x in nope %}{% endfor %}')).toThrow("'nope' is undefined");
    expect(() => ev('hosts[5]')).toThrow("'hosts[5]' is undefined");
  });

  it('default, is defined and mandatory still work', () => {
    expect(r("{{ nope | default('d') }}")).toBe('d');
    expect(r("{{ cfg.nope.deeper | default('d') }}")).toBe('d');
    expect(r("{{ '' | default('d') }}")).toBe('');
    expect(r("{{ '' | default('d', true) }}")).toBe('d');
    expect(r('{{ nope | d(5) }}')).toBe(5);
    expect(ev('nope is defined')).toBe(false);
    expect(ev('cfg.tls.version is defined')).toBe(true);
    expect(ev('cfg.a.b is undefined')).toBe(true);
    expect(ev('nope is not defined')).toBe(true);
    expect(ev('nope is defined and nope.x')).toBe(false);
    expect(() => ev('nope | mandatory')).toThrow("Mandatory variable 'nope' not defined.");
    expect(() => ev("nope | mandatory('set nope please')")).toThrow('set nope please');
  });
});

describe('evaluate (when: style)', () => {
  it('evaluates conditions over registered results', () => {
    expect(ev("result.rc == 0 and 'ok' in result.stdout")).toBe(true);
    expect(ev("'bad' not in result.stdout")).toBe(true);
    expect(ev('flag | bool')).toBe(true);
    expect(ev('not (flag | bool)')).toBe(false);
    expect(ev('empty or hosts')).toEqual(['ex1', 'ex2']);
    expect(ev('hosts and empty')).toEqual([]);
    expect(ev('True and not False and None is none')).toBe(true);
    expect(ev('port')).toBe(8443);
  });

  it("compares as Python does: lists and dicts by value, '1' is not 1, True is 1", () => {
    expect(ev("hosts == ['ex1', 'ex2']")).toBe(true);
    expect(ev("hosts != ['ex1', 'ex2']")).toBe(false);
    expect(ev("hosts == ['ex2', 'ex1']")).toBe(false);
    expect(ev('empty == []')).toBe(true);
    expect(ev("{'a': [1, {'b': 2}]} == {'a': [1, {'b': 2}]}")).toBe(true);
    expect(ev("{'a': 1} == {'a': 1, 'b': 2}")).toBe(false);
    expect(ev("result.rc == '0'")).toBe(false);
    expect(ev('result.rc == 0')).toBe(true);
    expect(ev('True == 1 and None == None and not (None == 0)')).toBe(true);
    expect(ev('1 < port < 9000')).toBe(true);
  });

  it('accepts non-string conditions and "{{ }}" conditions', () => {
    expect(t.evaluate(true as unknown as string, vars)).toBe(true);
    expect(ev('{{ port > 1 }}')).toBe(true);
  });

  it('supports the Jinja/Ansible tests', () => {
    const cases: [string, boolean][] = [
      ['result is succeeded', true],
      ['result is success', true],
      ['result is failed', false],
      ['failed_result is failed', true],
      ['result is changed', true],
      ['failed_result is changed', false],
      ['looped is changed', true],
      ['result is skipped', false],
      ["result.stdout is match('sync')", true],
      ["result.stdout is match('ok')", false],
      ["result.stdout is search('ok')", true],
      ["result.stdout is search('^all', multiline=true)", true],
      ["'ex1' is in hosts", true],
      ["'ex3' is in hosts", false],
      ['name is string', true],
      ['port is string', false],
      ['port is number', true],
      ['cfg is mapping', true],
      ['hosts is mapping', false],
      ['hosts is iterable', true],
      ['port is iterable', false],
      ['empty is truthy', false],
      ['hosts is truthy', true],
      ['nothing is none', true],
      ["'2.10.1' is version('2.9', '>')", true],
      ["'2.10.1' is version('2.10', 'lt')", false],
      ["'1.0rc1' is version('1.0', '>')", true],
      ["2013 is version('2013', '>=')", true],
      ["'2.10.0' is version_compare('2.10', '==')", false],
    ];
    for (const [expr, want] of cases) expect([expr, ev(expr)]).toEqual([expr, want]);
    expect(() => ev('port is failed')).toThrow(/expects a registered result/);
    expect(() => ev("'1' is version('2', '~')")).toThrow("unknown operator '~'");
  });

  it('offers Python string, list and dict methods', () => {
    expect(ev("result.stdout.startswith('sync')")).toBe(true);
    expect(ev('name.split()')).toEqual(['Mail', 'Server']);
    expect(ev("name.lower().replace(' ', '-')")).toBe('mail-server');
    expect(ev('result.stdout.splitlines()[-1]')).toBe('all done');
    expect(ev("cfg.get('nope', 'fallback')")).toBe('fallback');
    expect(ev('cfg.keys() | list')).toEqual(['tls', 'users']);
    expect(ev('name[:4]')).toBe('Mail');
  });
});

describe('filters', () => {
  const cases: [string, unknown][] = [
    ["hosts | join(',')", 'ex1,ex2'],
    ['name | lower', 'mail server'],
    ['name | upper', 'MAIL SERVER'],
    ["'  x  ' | trim", 'x'],
    ["name | replace(' ', '_')", 'Mail_Server'],
    ['cfg.tls | to_json', '{"version": "1.2"}'],
    ["{'b': 1, 'a': [1, 2]} | to_nice_json", '{\n    "a": [\n        1,\n        2\n    ],\n    "b": 1\n}'],
    ['\'{"a": [1]}\' | from_json', { a: [1] }],
    ["{'a': 1} | to_yaml", 'a: 1\n'],
    ["'a: [1, 2]' | from_yaml", { a: [1, 2] }],
    ["'päss' | b64encode", 'cMOkc3M='],
    ["'cMOkc3M=' | b64decode", 'päss'],
    ["'/etc/ssl/ca.pem' | basename", 'ca.pem'],
    ["'/etc/ssl/ca.pem' | dirname", '/etc/ssl'],
    ["'yes' | bool", true],
    ["'off' | bool", false],
    ['1 | bool', true],
    ["'42' | int", 42],
    ["'x' | int", 0],
    ['true | int', 1],
    ['port | string', '8443'],
    ['hosts | length', 2],
    ['hosts | first', 'ex1'],
    ['hosts | last', 'ex2'],
    ['[3, 1, 3, 2] | unique', [3, 1, 2]],
    ['[3, 1, 2] | sort', [1, 2, 3]],
    ["cfg.users | map(attribute='name') | list", ['a', 'b']],
    ["hosts | map('upper') | list", ['EX1', 'EX2']],
    ["cfg.users | selectattr('admin') | map(attribute='name') | list", ['a']],
    ["cfg.users | rejectattr('admin') | map(attribute='name') | list", ['b']],
    ["cfg.users | selectattr('name', 'equalto', 'b') | map(attribute='admin') | list", [false]],
    ["hosts | select('match', 'ex1') | list", ['ex1']],
    ["hosts | reject('search', '2') | list", ['ex1']],
    ['cfg.tls | dict2items', [{ key: 'version', value: '1.2' }]],
    ["[{'key': 'a', 'value': 1}] | items2dict", { a: 1 }],
    ["{'a': {'x': 1}, 'b': 1} | combine({'a': {'y': 2}})", { a: { y: 2 }, b: 1 }],
    ["{'a': {'x': 1}} | combine({'a': {'y': 2}}, recursive=true)", { a: { x: 1, y: 2 } }],
    ["'host-01.lab' | regex_replace('^(\\\\w+)-(\\\\d+)', '\\\\2-\\\\1')", '01-host.lab'],
    ["'v=1.2.3' | regex_search('(?P<ver>[\\\\d.]+)')", '1.2.3'],
    ["'v=1.2.3' | regex_search('(\\\\d)\\\\.(\\\\d)', '\\\\2')", ['2']],
    ["'abc' | regex_search('x')", null],
    ['result.stdout | splitlines', ['sync ok', 'all done']],
    ["'a,b' | split(',')", ['a', 'b']],
    ['"it\'s a test" | quote', "'it'\"'\"'s a test'"],
    ["'plain-word.txt' | quote", 'plain-word.txt'],
    ["'' | quote", "''"],
    ["true | ternary('on', 'off')", 'on'],
    ["empty | ternary('on', 'off')", 'off'],
    ["nothing | ternary('on', 'off', 'unset')", 'unset'],
    ["name ~ '-' ~ port", 'Mail Server-8443'],
    ['[[1, [2]], 3] | flatten', [1, 2, 3]],
    ['[3, 5, 1] | max', 5],
    ['[3, 5, 1] | min', 1],
    ["{'b': 1, 'a': 2} | list", ['b', 'a']],
    ["'ab' | list", ['a', 'b']],
    ['10 | random(start=5, step=5)', 5],
    ['[7] | random', 7],
    // Jinja's behaviour where nunjucks' own filters differ.
    ["[{'n': 2}, {'n': 3}] | sum(attribute='n')", 5],
    ['[1, 2] | sum(start=10)', 13],
    ['5 | lower', '5'],
    ["{'b': 1, 'a': 2} | first", 'b'],
    ["'abc' | last", 'c'],
    ["'xx--ab--' | trim('-x')", 'ab'],
    ["'Hello World' | truncate(8)", 'Hello World'],
    ["'Hello big World again' | truncate(9)", 'Hello...'],
    ["'Hello big World again' | truncate(9, true)", 'Hello ...'],
    ["'hello wORLD-x' | title", 'Hello World-X'],
    ["'hELLO' | capitalize", 'Hello'],
  ];
  it.each(cases)('%s', (expr, want) => {
    expect(ev(expr)).toEqual(want);
  });

  it("random as Ansible's: a number below an integer, an item of a list, the same pick for the same seed", () => {
    for (let i = 0; i < 50; i++) {
      const n = ev('60 | random') as number;
      expect(Number.isInteger(n) && n >= 0 && n < 60).toBe(true);
      expect(['x', 'y']).toContain(ev("['x', 'y'] | random"));
    }
    const seeded = (seed: string) => ev(`59 | random(seed='${seed}')`);
    expect(seeded('mail.lab')).toBe(seeded('mail.lab'));
    const spread = new Set(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map(seeded));
    expect(spread.size).toBeGreaterThan(3);
    expect(() => ev("'ab' | random(start=1)")).toThrow('start and step can only be used with integer values');
    expect(() => ev('0 | random')).toThrow('empty range');
  });

  it('lookup env and file work on the control node', async () => {
    process.env.EWSPLAY_TEST_LOOKUP = 'from-env';
    expect(ev("lookup('env', 'EWSPLAY_TEST_LOOKUP')")).toBe('from-env');
    expect(ev("lookup('env', 'EWSPLAY_TEST_UNSET_VAR')")).toBe('');
    const dir = await mkdtemp(join(tmpdir(), 'ewsplay-lookup-'));
    try {
      await writeFile(join(dir, 'motd.txt'), 'hello\n');
      expect(ev("lookup('file', 'motd.txt')", { playbook_dir: dir })).toBe('hello');
      expect(() => ev("lookup('file', 'missing.txt')", { playbook_dir: dir })).toThrow(
        /could not find 'missing.txt'/,
      );
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});

describe('with the engine lazy vars', () => {
  it('renders variables that reference variables, only when they are read', () => {
    const v = lazyVars(
      {
        base: '/opt/app',
        conf: '{{ base }}/conf',
        unused: '{{ not_defined_anywhere }}',
        list: ['{{ base }}'],
      },
      t,
    );
    expect(r('{{ conf }}/main.yml', v)).toBe('/opt/app/conf/main.yml');
    expect(ev("list[0] == '/opt/app'", v)).toBe(true);
  });
});

describe('Jinja syntax nunjucks lacks', () => {
  it('balances braces of nested dict literals and keeps "}}" inside strings', () => {
    expect(r("{{ {'a': {'b': 1}} }}")).toEqual({ a: { b: 1 } });
    expect(ev("cfg | combine({'tls': {'version': '1.3'}})")).toMatchObject({ tls: { version: '1.3' } });
    expect(r("{{ '}}' ~ port }}")).toBe('}}8443');
  });

  it('has the `in` test, also negated', () => {
    expect(ev("'ex3' is not in hosts")).toBe(true);
    expect(ev("'is in' is in ['is in']")).toBe(true);
  });

  it('reports the line of a failing filter in a multi-line template', () => {
    expect(() => r('a\nb {{ 1 | nope }}')).toThrow(/filter not found: nope/);
    const err = (() => {
      try {
        r('a\nb {{ name | from_json }}');
      } catch (e) {
        return e as TemplateError;
      }
    })();
    expect(err?.message).toMatch(/^from_json: Unexpected token/);
    expect(err?.line).toBe(2);
  });
});

describe('checkTemplateSyntax', () => {
  it('reports syntax errors, unknown filters and tests; accepts good templates', () => {
    expect(checkTemplateSyntax('{{ foo')).toBe("template syntax error: expected '}}' (line 1)");
    expect(checkTemplateSyntax('a\n{% if x %}b')).toMatch(
      /^template syntax error: expected elif, else, or endif.*\(line 2\)$/,
    );
    expect(checkTemplateSyntax('{{ x | to_jsn }}')).toBe("template error: no filter named 'to_jsn' (line 1)");
    expect(checkTemplateSyntax('{{ x is definedd }}')).toBe(
      "template error: no test named 'definedd' (line 1)",
    );
    expect(
      checkTemplateSyntax("{{ x | default('y') | to_json }} {% if r is failed %}{% endif %}"),
    ).toBeUndefined();
    expect(checkTemplateSyntax('no template here')).toBeUndefined();
  });

  it('a syntax error at render time is a TemplateError too', () => {
    expect(() => r('{{ foo')).toThrow(new TemplateError("template syntax error: expected '}}' (line 1)"));
  });
});
