// Python regular expressions (as written in Ansible playbooks) on JavaScript's engine. The syntax is close;
// these are the differences playbooks actually hit: named groups, inline flags, \A \Z, and replacement
// templates (\1, \g<1>, \g<name>).
import { TemplateError } from './errors.js';

const cache = new Map<string, RegExp>();

export function pyRegExp(pattern: string, flags = ''): RegExp {
  const key = `${flags}/${pattern}`;
  const hit = cache.get(key);
  if (hit) {
    hit.lastIndex = 0;
    return hit;
  }
  let source = pattern;
  let allFlags = flags;
  const inline = /^\(\?([aiLmsux]+)\)/.exec(source);
  if (inline?.[1]) {
    source = source.slice(inline[0].length);
    for (const f of inline[1]) if ('ims'.includes(f) && !allFlags.includes(f)) allFlags += f;
  }
  source = source
    .replace(/\(\?P<(\w+)>/g, '(?<$1>')
    .replace(/\(\?P=(\w+)\)/g, '\\k<$1>')
    .replace(/\\A/g, '^')
    .replace(/\\Z/g, '$');
  try {
    const re = new RegExp(source, allFlags);
    if (cache.size > 500) cache.clear();
    cache.set(key, re);
    return re;
  } catch (e) {
    throw new TemplateError(`invalid regular expression ${JSON.stringify(pattern)}: ${(e as Error).message}`);
  }
}

/** Python's match.expand(template): \1, \g<1>, \g<name>, and the usual escapes. */
export function expandTemplate(template: string, m: RegExpExecArray | RegExpMatchArray): string {
  return template.replace(
    /\\(?:g<(\w+)>|(\d{1,2})|([nt\\]))/g,
    (_, name?: string, num?: string, esc?: string) => {
      if (esc) return esc === 'n' ? '\n' : esc === 't' ? '\t' : '\\';
      const ref = name ?? num!;
      const v = /^\d+$/.test(ref) ? m[Number(ref)] : m.groups?.[ref];
      if (v === undefined && /^\d+$/.test(ref) && Number(ref) >= m.length)
        throw new TemplateError(`invalid group reference ${ref}`);
      return v ?? '';
    },
  );
}
