// Jinja in Ansible is not sandboxed, so templates build values with Python's mutating methods:
// `{% set _ = acc.append(x) %}` in a loop (issue 15, parity playbooks), `d.update({...})`.
import { describe, expect, it } from 'vitest';
import { createTemplar } from '../../../src/template/templar.js';

const t = createTemplar();

describe('list and dict mutators in templates', () => {
  it('append, extend, insert and pop build a list in a loop; each call is None', () => {
    const out = t.render(
      '{% set acc = [] %}{% for h in hosts %}{% set _ = acc.append({"name": h}) %}{% endfor %}' +
        '{% set _ = acc.extend(["z"]) %}{% set _ = acc.insert(0, "first") %}{{ acc.pop() }} {{ acc | to_json }} {{ [].append(1) }}',
      { hosts: ['a', 'b'] },
    );
    expect(out).toBe('z ["first", {"name": "a"}, {"name": "b"}] None');
  });

  it('dict.update merges into the dict and never reaches its prototype', () => {
    expect(t.render('{% set d = {"a": 1} %}{% set _ = d.update({"b": 2}) %}{{ d | to_json }}', {})).toBe(
      '{"a": 1, "b": 2}',
    );
    expect(
      t.render('{% set d = {} %}{% set _ = d.update(x) %}{{ d.polluted | default("clean") }}', {
        x: JSON.parse('{"__proto__": {"polluted": 1}}'),
      }),
    ).toBe('clean');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
