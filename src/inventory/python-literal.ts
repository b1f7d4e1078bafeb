// Python's ast.literal_eval for inventory values, as Ansible's INI inventory reads them: numbers, strings,
// True/False/None, lists, tuples, dicts and sets of those; a trailing `# comment` is allowed. Anything else
// (`yes`, `0644`, `web01`) is not a literal and stays the text it was.
import { decodePyEscapes } from '../util/python-escapes.js';

export function pythonLiteral(text: string): unknown {
  const parser = new LiteralParser(text);
  try {
    const value = parser.value();
    parser.end();
    return value;
  } catch (e) {
    if (e instanceof NotALiteral) return text;
    throw e;
  }
}

class NotALiteral extends Error {}

class LiteralParser {
  private i = 0;
  constructor(private readonly s: string) {}

  end(): void {
    this.space();
    if (this.s[this.i] === '#') this.i = this.s.length;
    if (this.i < this.s.length) throw new NotALiteral();
  }

  value(): unknown {
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
        return out;
      }
      out.push(this.value());
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
    for (;;) {
      this.space();
      if (this.s[this.i] === '}') {
        this.i++;
        return items.length > 0 ? items : Object.fromEntries(entries.map(([k, v]) => [String(k), v]));
      }
      const key = this.value();
      this.space();
      if (this.s[this.i] === ':') {
        if (items.length > 0) throw new NotALiteral();
        this.i++;
        entries.push([key, this.value()]);
      } else {
        if (entries.length > 0) throw new NotALiteral();
        items.push(key);
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
      /^[-+]?\s*(?:0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|(?:\d(?:_?\d)*)?\.?\d(?:_?\d)*(?:[eE][-+]?\d(?:_?\d)*)?|\d(?:_?\d)*\.)/.exec(
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
    return sign * value;
  }
}
