// Ansible's host patterns (ansible/inventory/manager.py): `all`, `*`, globs, group and host names, `a:b` and
// `a,b` unions, `a:&b` intersections, `a:!b` exclusions, `~regex`, subscripts `web[0]` / `web[1:3]`, and
// `@file` (a file listing one pattern per line, as `--limit @retry-file` uses).
import { statSync } from 'node:fs';
import { readInputTextSync } from '../core/input-file.js';
import { UsageError } from '../core/problems.js';
import { parseAddress } from './host-range.js';

/** What pattern matching needs to know about an inventory. */
export interface PatternTarget {
  groupNames(): readonly string[];
  hostNames(): readonly string[];
  hasHost(name: string): boolean;
  /** Every host of a group and its descendants, in Ansible's order. */
  hostsOfGroup(group: string): readonly string[];
  /** Names that denote the implicit localhost when the inventory lacks them. */
  implicitHost(name: string): string | undefined;
}

export function splitHostPattern(pattern: string): string[] {
  let parts: string[];
  if (pattern.includes(',')) parts = pattern.split(',');
  else if (parseAddress(pattern)) parts = [pattern];
  // A ':'-separated list, where ':' inside [x:y] ranges and subscripts does not separate.
  else {
    parts = pattern.match(/(?:[^\s:[\]]|\[[^\]]*\])+/g) ?? [];
    // Ansible drops what the list cannot hold ('~[' would become '~', every host): refuse it instead.
    const leftover = parts.reduce((rest, p) => rest.replace(p, ''), pattern).replace(/[\s:]/g, '');
    if (leftover !== '')
      throw new UsageError(
        `invalid host pattern '${pattern}': '${leftover}' is not part of any pattern`,
        "close every '[' of a range, subscript or ~regex with ']' (patterns are separated by ':' or ',')",
      );
  }
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

/** Reads `@file` entries: one pattern per line. */
function expandLimitFiles(patterns: string[]): string[] {
  return patterns.flatMap((p) => {
    if (!p.startsWith('@')) return [p];
    const file = p.slice(1);
    let isFile: boolean;
    try {
      isFile = statSync(file).isFile();
    } catch {
      throw new UsageError(
        `unable to find limit file ${file}`,
        'a pattern starting with @ names a file of hosts',
      );
    }
    if (!isFile) throw new UsageError(`limit starting with "@" must be a file, not a directory: ${file}`);
    return readInputTextSync(file)
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '');
  });
}

/** Plain patterns first, then `&` intersections, then `!` exclusions; only modifiers means `all` + them. */
function orderPatterns(patterns: string[]): string[] {
  const regular = patterns.filter((p) => p[0] !== '!' && p[0] !== '&');
  const intersect = patterns.filter((p) => p[0] === '&');
  const exclude = patterns.filter((p) => p[0] === '!');
  return [...(regular.length ? regular : ['all']), ...intersect, ...exclude];
}

const SUBSCRIPT = /^(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]$/;

export class PatternMatcher {
  private readonly cache = new Map<string, string[]>();
  constructor(private readonly target: PatternTarget) {}

  match(pattern: string): string[] {
    const cached = this.cache.get(pattern);
    if (cached) return cached;
    const patterns = orderPatterns(expandLimitFiles(splitHostPattern(pattern)));
    let hosts: string[] = [];
    for (const p of patterns) {
      if (this.target.hasHost(p)) {
        if (!hosts.includes(p)) hosts.push(p);
        continue;
      }
      const that = this.matchOne(p[0] === '!' || p[0] === '&' ? p.slice(1) : p);
      if (p[0] === '!') {
        const drop = new Set(that);
        hosts = hosts.filter((h) => !drop.has(h));
      } else if (p[0] === '&') {
        const keep = new Set(that);
        hosts = hosts.filter((h) => keep.has(h));
      } else {
        const seen = new Set(hosts);
        hosts.push(...that.filter((h) => !seen.has(h)));
      }
    }
    this.cache.set(pattern, hosts);
    return hosts;
  }

  private matchOne(pattern: string): string[] {
    let expr = pattern;
    let subscript: [number, number | undefined] | undefined;
    const m = pattern[0] === '~' ? null : SUBSCRIPT.exec(pattern);
    if (m) {
      expr = m[1]!;
      subscript = m[2] !== undefined ? [Number(m[2]), undefined] : [Number(m[3]), m[5] ? Number(m[5]) : -1];
    }
    const hosts = this.enumerate(expr);
    if (!subscript) return hosts;
    const [start, end] = subscript;
    if (end === undefined) {
      const host = hosts.at(start);
      if (host === undefined) throw new UsageError(`no hosts matched the subscripted pattern '${pattern}'`);
      return [host];
    }
    return hosts.slice(start, (end === -1 ? hosts.length - 1 : end) + 1);
  }

  private enumerate(pattern: string): string[] {
    const re = compile(pattern);
    const results: string[] = [];
    const groups = this.target.groupNames().filter((g) => re.test(g));
    for (const g of groups) results.push(...this.target.hostsOfGroup(g));
    if (groups.length === 0 || pattern[0] === '~' || /[.?*[]/.test(pattern)) {
      for (const h of this.target.hostNames()) if (re.test(h)) results.push(h);
    }
    if (results.length === 0) {
      const implicit = this.target.implicitHost(pattern);
      if (implicit) results.push(implicit);
    }
    return [...new Set(results)];
  }
}

/** `~regex` matches from the start (Python's re.match); anything else is a full-match shell glob (fnmatch). */
function compile(pattern: string): RegExp {
  try {
    if (pattern[0] === '~') return new RegExp(`^(?:${pattern.slice(1)})`, 'u');
    return new RegExp(`^${globToRegExp(pattern)}$`, 's');
  } catch {
    throw new UsageError(
      `invalid host list pattern: ${pattern}`,
      'a pattern starting with ~ is a regular expression',
    );
  }
}

function globToRegExp(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[') {
      let j = i + 1;
      if (glob[j] === '!') j++;
      if (glob[j] === ']') j++;
      while (j < glob.length && glob[j] !== ']') j++;
      if (j >= glob.length) out += '\\[';
      else {
        let body = glob.slice(i + 1, j).replace(/\\/g, '\\\\');
        if (body[0] === '!') body = `^${body.slice(1)}`;
        else if (body[0] === '^') body = `\\${body}`;
        out += `[${body}]`;
        i = j;
      }
    } else out += c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  }
  return out;
}
