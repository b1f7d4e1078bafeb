// PowerShell quoting for scripts ewsplay sends to an Exchange host. A single-quoted (verbatim) string is the
// only PowerShell literal with no expansion at all: no $variables, no $(subexpressions), no escapes. Inside
// it, PowerShell ends the string at any of FIVE quote characters (' and the typographic U+2018, U+2019,
// U+201A, U+201B), and a doubled quote character stands for one. So each of them is doubled, as
// PowerShell's own CodeGeneration.EscapeSingleQuotedStringContent does.

/** The characters PowerShell treats as a single quote. */
export const PS_SINGLE_QUOTES = ["'", '\u2018', '\u2019', '\u201a', '\u201b'] as const;

const QUOTE_RE = /['\u2018\u2019\u201a\u201b]/g;

/** A PowerShell single-quoted literal whose value is exactly `value`. */
export function psQuote(value: string): string {
  return `'${value.replace(QUOTE_RE, (q) => q + q)}'`;
}

/**
 * Why `value` cannot name an Exchange/AD object, or undefined when it can. Control characters (line breaks
 * above all: ewsplay sends one statement per line over `-Command -`) have no place in an account name.
 */
export function psIdentityProblem(value: string): string | undefined {
  if (value.trim() === '') return 'is empty';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is rejected
  if (/[\u0000-\u001f\u007f\u0085\u2028\u2029]/.test(value))
    return 'contains a control character or line break';
  return undefined;
}
