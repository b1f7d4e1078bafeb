// Python's backslash escapes in string literals (\n, \t, \", \x41, \u00e9, \U0001F600, \101), shared by the
// readers of Ansible's key=value arguments and of INI inventory values.
const SIMPLE: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

/** The text with Python's escapes decoded; an unknown escape (`\d`) stays as written, as in Python. */
export function decodePyEscapes(text: string): string {
  return text.replace(
    /\\(U[0-9a-fA-F]{8}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|[0-7]{1,3}|[\\'"abfnrtv])/g,
    (_, e: string) => {
      const head = e[0]!;
      if (head === 'U' || head === 'u' || head === 'x')
        return String.fromCodePoint(Number.parseInt(e.slice(1), 16));
      if (/[0-7]/.test(head)) return String.fromCodePoint(Number.parseInt(e, 8));
      return SIMPLE[e]!;
    },
  );
}
