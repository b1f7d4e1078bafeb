// Ansible's short form of module arguments: the expectations are what Ansible's parse_kv and argument spec
// give for the same strings.
import { describe, expect, it } from 'vitest';
import {
  COMMAND_OPTIONS,
  convertArg,
  KeyValueSyntaxError,
  parseKeyValue,
  splitArgs,
} from '../../../src/load/key-value-args.js';
import { decodePyEscapes } from '../../../src/util/python-escapes.js';

const options = (text: string, only?: ReadonlySet<string>) =>
  Object.fromEntries([...parseKeyValue(text, only).options].map(([k, v]) => [k, v.value]));

describe('splitArgs', () => {
  it('splits on spaces outside quotes and Jinja blocks, keeping the quotes', () => {
    expect(
      splitArgs(`a=b c="d e" f='g h'  {{ x | default('y z') }} {% if a %}b{% endif %}`).map((w) => w.text),
    ).toEqual(['a=b', 'c="d e"', "f='g h'", "{{ x | default('y z') }}", '{% if a %}b{% endif %}']);
  });

  it('gives each word its offset in the string', () => {
    expect(splitArgs('ab  cd=1').map((w) => w.offset)).toEqual([0, 4]);
  });

  it('refuses an unclosed quote or Jinja block, as Ansible does', () => {
    expect(() => splitArgs('msg="abc')).toThrow(KeyValueSyntaxError);
    expect(() => splitArgs('msg={{ abc')).toThrow(/never closed/);
  });

  it('does not take an escaped quote as the end of a quoted part', () => {
    expect(splitArgs('msg="say \\"hi there\\"" x=1').map((w) => w.text)).toEqual([
      'msg="say \\"hi there\\""',
      'x=1',
    ]);
  });
});

describe('parseKeyValue', () => {
  it('takes every key=value word as an option, values unquoted', () => {
    expect(options(`msg="hello {{ who }}" verbosity=1 path='/a b' empty=`)).toEqual({
      msg: 'hello {{ who }}',
      verbosity: '1',
      path: '/a b',
      empty: '',
    });
  });

  it('splits on the first unescaped =, so values may hold = signs', () => {
    expect(options('line=PermitRootLogin=no')).toEqual({ line: 'PermitRootLogin=no' });
  });

  it("decodes Python's escapes in values", () => {
    expect(options('msg="a\\tb\\nc\\u00e9"')).toEqual({ msg: 'a\tb\nc\u00e9' });
    expect(decodePyEscapes('\\x41\\101\\\\')).toEqual('AA\\');
  });

  it('keeps the command line of command and shell and takes out only their options', () => {
    const parsed = parseKeyValue(
      './configure --prefix=/opt creates=Makefile chdir="/src dir" FOO=bar',
      COMMAND_OPTIONS,
    );
    expect(Object.fromEntries([...parsed.options].map(([k, v]) => [k, v.value]))).toEqual({
      creates: 'Makefile',
      chdir: '/src dir',
    });
    expect(parsed.rawText).toBe('./configure --prefix=/opt FOO=bar');
  });

  it('leaves a multi-line script exactly as written when it has no options', () => {
    const script = 'if true; then\n    echo "it is"\nfi\n';
    expect(parseKeyValue(script, COMMAND_OPTIONS).rawText).toBe(script);
  });

  it('cuts an option at the start of the command line with its space', () => {
    expect(parseKeyValue('creates=/x touch /x', COMMAND_OPTIONS).rawText).toBe('touch /x');
  });

  it('reports words that are not key=value as raw, with their offsets', () => {
    const parsed = parseKeyValue('dest=/tmp/a a.txt');
    expect(parsed.raw).toEqual([{ text: 'a.txt', offset: 12 }]);
  });
});

describe('convertArg', () => {
  it("converts to the argument's type as Ansible's argument spec does", () => {
    expect(convertArg('yes', { type: 'boolean' })).toBe(true);
    expect(convertArg('Off', { type: 'boolean' })).toBe(false);
    expect(convertArg('0', { type: 'boolean' })).toBe(false);
    expect(convertArg('30', { type: 'integer' })).toBe(30);
    expect(convertArg('1.5', { type: 'number' })).toBe(1.5);
    expect(convertArg('a, b,c', { type: 'array', items: { type: 'string' } })).toEqual(['a', 'b', 'c']);
  });

  it('keeps strings where a string is allowed, templates, and what it cannot convert', () => {
    expect(convertArg('0644', { type: ['string', 'integer'] })).toBe('0644');
    expect(convertArg('{{ flag }}', { type: 'boolean' })).toBe('{{ flag }}');
    expect(convertArg('maybe', { type: 'boolean' })).toBe('maybe');
    expect(convertArg('1', { anyOf: [{ type: 'integer' }, { type: 'boolean' }] })).toBe(1);
    expect(convertArg('x', undefined)).toBe('x');
  });
});
