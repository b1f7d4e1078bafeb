// Python's ast.literal_eval for inventory values, as Ansible's INI inventory reads them: numbers, strings,
// True/False/None, lists, tuples, dicts and sets of those; a trailing `# comment` is allowed. Anything else
// (`yes`, `0644`, `web01`) is not a literal and stays the text it was. Numbers written as floats (`1e3`,
// `1.0`) are marked inside lists and dicts (python-floats.ts); whether the value itself is one is returned.
import { decodePyEscapes } from '../util/python-escapes.js';
import { markPythonFloat } from './python-floats.js';

export function pythonLiteral(text: string): unknown {
  return parsePythonLiteral(text).value;
}

/** The value, and whether it is a number written as a Python float. */
export function parsePythonLiteral(text: string): { value: unknown; float: boolean } {
  const parser = new LiteralParser(text);
  try {
    const value = parser.value();
    const float = parser.float;
    parser.end();
    return { value, float };
  } catch (e) {
    if (e instanceof NotALiteral) return { value: text, float: false };
    throw e;
  }
}

class NotALiteral extends Error {}

class LiteralParser {
  private i = 0;
  /** The last value read was a number written as a float. */
  float = false;
  constructor(private readonly s: string) {}

  end(): void {
    this.space();
    if (this.s[this.i] === '#') this.i = this.s.length;
    if (this.i < this.s.length) throw new NotALiteral();
  }

  value(): unknown {
    this.float = false;
    this.space();
    const c = this.s[this.i];
    if (c === undefined) throw new NotALiteral();
    if (c === '[') return this.sequence(']');
    if (c === '(') return this.sequence(')');
    if (c === '{') return this.mapping();
    if (c === '"' || c === "'" || (/[rRbBuU]/.test(c) && /["']/.test(this.s[this.i + 1] ?? ''))) {
      let out = this.string();
      // Adjacent strings concatenate, as in Python.
      for (this.space(); /["']/.test(this.s[this.i] ?? ''); this.space()) out += this.string();
      return out;
    }
    const word = /^(?:True|False|None)\b/.exec(this.s.slice(this.i));
    if (word) {
      this.i += word[0].length;
      return word[0] === 'True' ? true : word[0] === 'False' ? false : null;
    }
    return this.number();
  }

  private space(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i]!)) this.i++;
  }

  private sequence(close: string): unknown[] {
    this.i++;
    const out: unknown[] = [];
    for (;;) {
      this.space();
      if (this.s[this.i] === close) {
        this.i++;
        this.float = false;
        return out;
      }
      out.push(this.value());
      if (this.float) markPythonFloat(out, out.length - 1);
      this.space();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== close) throw new NotALiteral();
    }
  }

  /** A dict, or a set (Ansible passes a set on as a list). */
  private mapping(): unknown {
    this.i++;
    const entries: [unknown, unknown][] = [];
    const items: unknown[] = [];
    const floatEntries = new Set<string>();
    const floatItems = new Set<number>();
    for (;;) {
      this.space();
      if (this.s[this.i] === '}') {
        this.i++;
        this.float = false;
        if (items.length > 0) {
          for (const i of floatItems) markPythonFloat(items, i);
          return items;
        }
        const dict = Object.fromEntries(entries.map(([k, v]) => [String(k), v]));
        for (const k of floatEntries) markPythonFloat(dict, k);
        return dict;
      }
      const key = this.value();
      const keyIsFloat = this.float;
      this.space();
      if (this.s[this.i] === ':') {
        if (items.length > 0) throw new NotALiteral();
        this.i++;
        entries.push([key, this.value()]);
        if (this.float) floatEntries.add(String(key));
        else floatEntries.delete(String(key));
      } else {
        if (entries.length > 0) throw new NotALiteral();
        items.push(key);
        if (keyIsFloat) floatItems.add(items.length - 1);
      }
      this.space();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== '}') throw new NotALiteral();
    }
  }

  private string(): string {
    let raw = false;
    while (/[rRbBuU]/.test(this.s[this.i]!)) {
      if (/[rR]/.test(this.s[this.i]!)) raw = true;
      this.i++;
    }
    const quote = this.s[this.i]!;
    const triple = this.s.startsWith(quote.repeat(3), this.i);
    const close = triple ? quote.repeat(3) : quote;
    this.i += close.length;
    // The body up to the closing quote (a backslash escapes the next character), then its escapes.
    let end = this.i;
    for (; !this.s.startsWith(close, end); end++) {
      if (end >= this.s.length || (this.s[end] === '\n' && !triple)) throw new NotALiteral();
      if (this.s[end] === '\\') end++;
    }
    const body = this.s.slice(this.i, end);
    this.i = end + close.length;
    return raw ? body : decodePyEscapes(body.replace(/\\\n/g, ''));
  }

  private number(): number {
    const rest = this.s.slice(this.i);
    const m =
      /^[-+]?\s*(?:0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|(?:\d(?:_?\d)*)?\.\d(?:_?\d)*(?:[eE][-+]?\d(?:_?\d)*)?|\d(?:_?\d)*\.?(?:[eE][-+]?\d(?:_?\d)*)?)/.exec(
        rest,
      );
    if (!m) throw new NotALiteral();
    const text = m[0].replace(/[\s_]/g, '');
    const sign = text.startsWith('-') ? -1 : 1;
    const body = text.replace(/^[-+]/, '');
    let value: number;
    if (/^0[xX]/.test(body)) value = Number.parseInt(body.slice(2), 16);
    else if (/^0[oO]/.test(body)) value = Number.parseInt(body.slice(2), 8);
    else if (/^0[bB]/.test(body)) value = Number.parseInt(body.slice(2), 2);
    // Python 3 has no 0644: a decimal with a leading zero is not a literal (Ansible keeps the text).
    else if (/^0\d/.test(body) && !/[.eE]/.test(body)) throw new NotALiteral();
    else value = Number(body);
    if (Number.isNaN(value)) throw new NotALiteral();
    this.i += m[0].length;
    // A name right after the digits (`1abc`) is not a literal.
    if (/^[A-Za-z_]/.test(this.s.slice(this.i))) throw new NotALiteral();
    this.float = !/^0[xXoObB]/.test(body) && /[.eE]/.test(body);
    return sign * value;
  }
}
