import { describe, expect, it } from 'vitest';
import { PS_SINGLE_QUOTES, psIdentityProblem, psQuote } from '../../../src/modules/powershell.js';

/**
 * PowerShell's tokenizer for a verbatim string (language spec, "single-quoted strings"): it opens with any
 * single-quote character, a doubled one stands for one, any other one ends it. Returns the value and how
 * many characters the literal took, so a test sees whether anything of the input was left outside it.
 */
function readSingleQuoted(source: string): { value: string; length: number } {
  const isQuote = (c: string | undefined) =>
    c !== undefined && (PS_SINGLE_QUOTES as readonly string[]).includes(c);
  if (!isQuote(source[0])) throw new Error('not a single-quoted string');
  let value = '';
  for (let i = 1; i < source.length; i++) {
    const c = source[i] as string;
    if (isQuote(c)) {
      if (isQuote(source[i + 1])) {
        value += c;
        i++;
        continue;
      }
      return { value, length: i + 1 };
    }
    value += c;
  }
  throw new Error('unterminated string');
}

const hostile = [
  "svc'; Remove-Item -Recurse C:\\ #",
  'svc\u2019; Remove-Item C:\\',
  'svc\u2018\u2019\u201a\u201b; Stop-Computer',
  "O'Neil",
  "''",
  "'",
  'svc$(Stop-Computer)',
  'svc`"; Stop-Computer',
  '"double" quotes',
  'CONTOSO\\svc_vkmail_collector',
  'svc_vkmail_collector@contoso.example',
];

describe('psQuote', () => {
  it.each(hostile)('keeps %j inside ONE literal whose value is the input', (value) => {
    const quoted = psQuote(value);
    const read = readSingleQuoted(`${quoted} -Role ApplicationImpersonation`);
    expect(read.value).toBe(value);
    expect(read.length).toBe(quoted.length);
  });

  it('doubles each typographic quote with itself, as PowerShell escapes them', () => {
    expect(psQuote('a\u2019b')).toBe("'a\u2019\u2019b'");
    expect(psQuote("o'neil")).toBe("'o''neil'");
    expect(psQuote('plain')).toBe("'plain'");
  });

  it('a quoting that doubled only the ASCII quote would leak: the tokenizer tells', () => {
    const naive = (s: string) => `'${s.replace(/'/g, "''")}'`;
    const value = 'svc\u2019; Remove-Item C:\\';
    expect(readSingleQuoted(naive(value)).value).not.toBe(value);
  });
});

describe('psIdentityProblem', () => {
  it('refuses empty names and control characters, accepts odd but real names', () => {
    expect(psIdentityProblem('  ')).toBe('is empty');
    expect(psIdentityProblem('svc\nRemove-Item C:\\')).toMatch(/line break/);
    expect(psIdentityProblem('svc\u2028x')).toMatch(/line break/);
    expect(psIdentityProblem("O'Neil")).toBeUndefined();
    expect(psIdentityProblem('CONTOSO\\svc')).toBeUndefined();
  });
});
