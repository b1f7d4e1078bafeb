// Template output and expressions as Ansible gives them (issue 15, items 8 and 9). The expected values were
// taken from ansible-core 2.14 and PyYAML; where python3's yaml module is installed, to_nice_yaml is also
// compared with PyYAML live.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { niceYaml } from '../../../src/template/nice-yaml.js';
import { createTemplar } from '../../../src/template/templar.js';

const t = createTemplar();
const x = { a: [1, 2], b: { c: [{ d: 1, e: 'x' }] } };

function pyYamlAvailable(): boolean {
  try {
    execFileSync('python3', ['-c', 'import yaml'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('template output as Ansible writes it', () => {
  it('to_nice_yaml: lists under a key not indented, nested mappings by 4, indent= honoured', () => {
    expect(t.render('{{ x | to_nice_yaml }}', { x })).toBe(
      'a:\n- 1\n- 2\nb:\n    c:\n    -   d: 1\n        e: x\n',
    );
    expect(t.render('{{ x | to_nice_yaml(indent=2) }}', { x })).toBe(
      'a:\n- 1\n- 2\nb:\n  c:\n  - d: 1\n    e: x\n',
    );
  });

  it('trailing newlines: one is dropped by Jinja, then padded back to the count of the source', () => {
    expect(t.render('{{ x | to_nice_yaml }}\n', { x })).toBe(
      'a:\n- 1\n- 2\nb:\n    c:\n    -   d: 1\n        e: x\n',
    );
    expect(t.render('x{% if true %}{% endif %}\n\n', {})).toBe('x\n\n');
    expect(t.render('{{ 1 }}\n', {})).toBe('1\n');
    expect(t.render('a\n{% for i in [1, 2] %}\n{{ i }}\n{% endfor %}\n', {})).toBe('a\n1\n2\n');
  });

  it.skipIf(!pyYamlAvailable())('to_nice_yaml matches PyYAML on mixed values', () => {
    const values = [
      x,
      [{ a: 1, b: [1, [2, 3]] }, 's'],
      { s: 'yes', t: '1.0', u: '0755', v: 'hello world', w: '', x: null, y: true, z: [], zz: {} },
      { k: 'a: b', l: '- x', m: '#c', n: "it's" },
      [[1, 2], [[3]]],
      { deep: { er: { est: [{ a: { b: 1 } }] } } },
    ];
    for (const indent of [4, 2]) {
      const py = execFileSync(
        'python3',
        [
          '-c',
          'import json,sys,yaml; print(yaml.dump(json.load(sys.stdin), indent=int(sys.argv[1]), allow_unicode=True, default_flow_style=False), end="")',
          String(indent),
        ],
        { input: JSON.stringify(values) },
      ).toString();
      expect(niceYaml(values, indent)).toBe(py);
    }
  });
});

describe('expressions as Ansible evaluates them', () => {
  it.each([
    ["{{ ('/etc', 'nginx', 'conf.d') | path_join }}", '/etc/nginx/conf.d'],
    ['{{ [[1, [2]], [3]] | flatten(levels=1) }}', [1, [2], 3]],
    ["{{ '0755' | int(base=8) }}", 493],
    ["{{ 'a' * 3 }}", 'aaa'],
    ['{{ [1] * 2 + [3] }}', [1, 1, 3]],
    ["{{ [{'k': 'b'}, {'k': 'a'}, {'k': 'b'}] | groupby('k') | map('first') | list }}", ['a', 'b']],
    ["{{ ([{'k': 'b'}] | groupby('k') | first).list }}", [{ k: 'b' }]],
    ["{{ 'abc' | ansible.builtin.regex_replace('b', 'x') }}", 'axc'],
    ['{{ 1 is ansible.builtin.number }}', true],
    ["{{ ['a', 'b'] | map('extract', {'a': 1, 'b': 2}) | list }}", [1, 2]],
  ])('%s', (template, expected) => {
    expect(t.render(template, {})).toEqual(expected);
  });

  it("refuses Python's type errors and huge repetitions with a sentence", () => {
    expect(() => t.render("{{ 'a' + 1 }}", {})).toThrow(/unsupported operand types for \+: str and int/);
    expect(() => t.render("{{ 'a' * 100000000 }}", {})).toThrow(/over the limit/);
  });
});
