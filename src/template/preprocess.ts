// Source fixes applied before nunjucks parses a template, for Jinja syntax its lexer does not handle:
// - a `}}` that closes nested dicts inside an expression (`{{ d | combine({'a': {'b': 1}}) }}`) would end
//   the tag early; Jinja balances braces, so we split such a `}}` into `} }`;
// - `x is in y` / `x is not in y` (Jinja's `in` test) become `x in y` / `x not in y`.
// Only code inside {{ }} and {% %} is touched, and never the inside of string literals.

/** Rewrites `code` (outside string literals) for the `is in` test. */
function fixCode(code: string): string {
  return code.includes(' in')
    ? code.replace(/\bis\s+(not\s+)?in\b/g, (_, not?: string) => (not ? 'not in' : 'in'))
    : code;
}

export function preprocess(src: string): string {
  if (!src.includes('}}') && !/\bis\s/.test(src)) return src;
  let out = '';
  let code = '';
  let i = 0;
  let end: '}}' | '%}' | undefined;
  let depth = 0;
  const flush = () => {
    out += fixCode(code);
    code = '';
  };
  while (i < src.length) {
    const c = src[i]!;
    if (!end) {
      const two = src.slice(i, i + 2);
      if (two === '{#') {
        const close = src.indexOf('#}', i + 2);
        const stop = close < 0 ? src.length : close + 2;
        out += src.slice(i, stop);
        i = stop;
        continue;
      }
      if (two === '{{' || two === '{%') {
        end = two === '{{' ? '}}' : '%}';
        depth = 0;
        out += two;
        i += 2;
        continue;
      }
      out += c;
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      flush();
      let j = i + 1;
      while (j < src.length && src[j] !== c) j += src[j] === '\\' ? 2 : 1;
      out += src.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (depth === 0 && src.startsWith(end, i)) {
      flush();
      out += end;
      i += 2;
      end = undefined;
      continue;
    }
    if (c === '{') depth++;
    if (c === '}' && depth > 0) {
      depth--;
      code += src[i + 1] === '}' ? '} ' : '}';
      i++;
      continue;
    }
    code += c;
    i++;
  }
  flush();
  return out;
}
