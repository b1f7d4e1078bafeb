// find: files on the host chosen by name (fnmatch or Python regex), type, age, size and content, registered
// as Ansible's find registers them (files with stat fields, matched, examined, skipped_paths). Read-only:
// never changed, and it runs in check mode too (later tasks' `when:` and loops need its answer).
//
// GNU find walks each path in one round trip and prints every entry's stat fields (-printf); the filters
// run here, on the control node, with Ansible's semantics (fnmatch, Python's re.match, its age and size
// units). `contains` reads the candidate files back (base64, in batches) and applies the Python regular
// expression here, line by line with re.match as Ansible does (or re.search on the whole file with
// read_whole_file). Without GNU find the module fails and says so: POSIX find has no -printf and a stat
// per entry would cost a process each.
//
// As in Ansible (os.walk, never pruned), hidden: false leaves out entries whose own name starts with a dot,
// but still looks inside hidden directories: .cache/x.log is selected by patterns: '*.log'.
//
// Deviation on purpose: with follow: true, an entry reached through a symbolic link is described by what it
// points to (find -L), where Ansible lstat()s it and reports islnk.
import { shq } from '../core/shell-quote.js';
import { fail } from './kit.js';
import type { Module, ModuleContext, ModuleResult } from './module.js';
import { execOn } from './remote.js';
import { pyRegex } from './replace.js';

/** Ansible's list arguments: a YAML list, or one string split at commas. */
export function listArg(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v.map(String);
  return String(v)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Python's fnmatch.fnmatch (case-sensitive, as on POSIX) as a RegExp: *, ?, [seq], [!seq]. */
export function fnmatchRegex(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') out += '[\\s\\S]*';
    else if (c === '?') out += '[\\s\\S]';
    else if (c === '[') {
      let j = i + 1;
      if (pattern[j] === '!') j++;
      if (pattern[j] === ']') j++;
      while (j < pattern.length && pattern[j] !== ']') j++;
      if (j >= pattern.length) out += '\\[';
      else {
        let body = pattern.slice(i + 1, j);
        i = j;
        const negate = body.startsWith('!');
        if (negate) body = body.slice(1);
        body = body.replace(/\\/g, '\\\\').replace(/^\^/, '\\^');
        out += `[${negate ? '^' : ''}${body}]`;
      }
    } else out += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^(?:${out})$`);
}

/** One name matcher: fnmatch globs, or Python regexes matched at the start of the name (re.match). */
function matcher(patterns: string[], useRegex: boolean): (name: string) => boolean {
  const res = patterns.map((p) => (useRegex ? pyRegex(p, {}, 'y') : fnmatchRegex(p)));
  return (name) =>
    res.some((re) => {
      re.lastIndex = 0;
      return re.test(name);
    });
}

const AGE_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
const SIZE_UNITS: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Ansible's age ("2d", "-1h") in seconds. */
export function parseAge(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  const m = /^(-?\d+)([smhdw])?$/.exec(String(v).toLowerCase());
  if (!m)
    throw new Error(`failed to process age ${JSON.stringify(v)}: use a number with s, m, h, d or w, e.g. 2d`);
  return Number(m[1]) * (AGE_UNITS[m[2] ?? 's'] ?? 1);
}

/** Ansible's size ("10m", "-1k") in bytes. */
export function parseSize(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  const m = /^(-?\d+)([bkmgt])?$/.exec(String(v).toLowerCase());
  if (!m)
    throw new Error(
      `failed to process size ${JSON.stringify(v)}: use a number with b, k, m, g or t, e.g. 10m`,
    );
  return Number(m[1]) * (SIZE_UNITS[m[2] ?? 'b'] ?? 1);
}

export interface FoundEntry {
  path: string;
  /** find's %y letter (f, d, l, b, c, p, s). */
  type: string;
  depth: number;
  mode: number;
  size: number;
  pw_name: string;
  gr_name: string;
  uid: number;
  gid: number;
  nlink: number;
  inode: number;
  dev: number;
  atime: number;
  mtime: number;
  ctime: number;
  lnk_target: string;
}

// Fields tab-separated, then the path and the link target NUL-terminated (names may hold tabs and newlines).
const PRINTF = '%y\\t%m\\t%s\\t%u\\t%g\\t%U\\t%G\\t%n\\t%i\\t%D\\t%A@\\t%T@\\t%C@\\t%d\\0%p\\0%l\\0';

/** The script that walks the paths: per path a header line, then find's records. */
export function walkScript(paths: string[], opts: { maxDepth?: number; follow: boolean }): string {
  const lines = [
    "find / -maxdepth 0 -printf '' >/dev/null 2>&1 || { echo 'find on this host has no -printf: the find module needs GNU find (install findutils)' >&2; exit 90; }",
    'echo "now=$(date +%s)"',
  ];
  for (const p of paths) {
    lines.push(
      `p=${shq(p)}`,
      'if [ -d "$p" ] && [ -r "$p" ] && [ -x "$p" ]; then',
      `  printf 'walk\\0%s\\0' "$p"`,
      `  find ${opts.follow ? '-L ' : ''}"$p" -mindepth 1 ${opts.maxDepth !== undefined ? `-maxdepth ${opts.maxDepth} ` : ''}-printf '${PRINTF}' 2>&1 >&3 | sed 's/^/warn: /' >&2`,
      'else',
      `  printf 'skip\\0%s\\0' "$p"`,
      'fi',
    );
  }
  // find's records go to fd 3 (stdout) while its complaints are tagged on stderr.
  return `{\n${lines.join('\n')}\n} 3>&1`;
}

export interface Walk {
  now: number;
  walked: { path: string; entries: FoundEntry[] }[];
  skipped: string[];
}

export function parseWalk(stdout: string): Walk {
  const nl = stdout.indexOf('\n');
  const now = Number(/^now=(\d+)/.exec(stdout.slice(0, nl))?.[1] ?? Date.now() / 1000);
  const parts = stdout.slice(nl + 1).split('\0');
  const out: Walk = { now, walked: [], skipped: [] };
  let cur: { path: string; entries: FoundEntry[] } | undefined;
  for (let i = 0; i + 1 < parts.length; ) {
    const head = parts[i]!;
    if (head === 'walk' || head === 'skip') {
      const path = parts[i + 1]!;
      if (head === 'skip') {
        out.skipped.push(path);
        cur = undefined;
      } else {
        cur = { path, entries: [] };
        out.walked.push(cur);
      }
      i += 2;
      continue;
    }
    const f = head.split('\t');
    const path = parts[i + 1] ?? '';
    const target = parts[i + 2] ?? '';
    i += 3;
    if (!cur || f.length < 14) continue;
    cur.entries.push({
      path,
      type: f[0]!,
      mode: Number.parseInt(f[1]!, 8),
      size: Number(f[2]),
      pw_name: f[3]!,
      gr_name: f[4]!,
      uid: Number(f[5]),
      gid: Number(f[6]),
      nlink: Number(f[7]),
      inode: Number(f[8]),
      dev: Number(f[9]),
      atime: Number(f[10]),
      mtime: Number(f[11]),
      ctime: Number(f[12]),
      depth: Number(f[13]),
      lnk_target: target,
    });
  }
  return out;
}

/** Ansible's statinfo() fields for one entry. */
function statInfo(e: FoundEntry): Record<string, unknown> {
  const m = e.mode;
  const r: Record<string, unknown> = {
    path: e.path,
    mode: (m & 0o7777).toString(8).padStart(4, '0'),
    isdir: e.type === 'd',
    ischr: e.type === 'c',
    isblk: e.type === 'b',
    isreg: e.type === 'f',
    isfifo: e.type === 'p',
    islnk: e.type === 'l',
    issock: e.type === 's',
    uid: e.uid,
    gid: e.gid,
    size: e.size,
    inode: e.inode,
    dev: e.dev,
    nlink: e.nlink,
    atime: e.atime,
    mtime: e.mtime,
    ctime: e.ctime,
    gr_name: e.gr_name,
    pw_name: e.pw_name,
    wusr: (m & 0o200) !== 0,
    rusr: (m & 0o400) !== 0,
    xusr: (m & 0o100) !== 0,
    wgrp: (m & 0o020) !== 0,
    rgrp: (m & 0o040) !== 0,
    xgrp: (m & 0o010) !== 0,
    woth: (m & 0o002) !== 0,
    roth: (m & 0o004) !== 0,
    xoth: (m & 0o001) !== 0,
    isuid: (m & 0o4000) !== 0,
    isgid: (m & 0o2000) !== 0,
  };
  if (e.type === 'l') r.lnk_target = e.lnk_target;
  return r;
}

/** Bytes read back per round trip for `contains`. */
const CONTENT_BATCH = 8 * 1024 * 1024;
const MARK = '--ewsplay-find-file--';

/** The contents of regular files on the host (base64 in batches); a file that cannot be read is absent. */
async function readFiles(ctx: ModuleContext, files: FoundEntry[]): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  let i = 0;
  while (i < files.length) {
    const batch: FoundEntry[] = [];
    let bytes = 0;
    while (i < files.length && (batch.length === 0 || bytes + files[i]!.size <= CONTENT_BATCH)) {
      bytes += files[i]!.size;
      batch.push(files[i++]!);
    }
    const script = batch
      .map(
        (f, n) =>
          `echo ${MARK}${n}; if command -v base64 >/dev/null 2>&1; then base64 < ${shq(f.path)}; else openssl base64 < ${shq(f.path)}; fi 2>/dev/null || echo ${MARK}unreadable`,
      )
      .join('\n');
    const r = await execOn(ctx, script);
    for (const chunk of r.stdout.split(MARK).slice(1)) {
      const nl = chunk.indexOf('\n');
      const n = Number(chunk.slice(0, nl));
      const body = chunk.slice(nl + 1);
      if (body.startsWith('unreadable')) continue;
      const f = batch[n];
      if (f) out.set(f.path, Buffer.from(body.replace(/\s+/g, ''), 'base64'));
    }
  }
  return out;
}

/** Python's `for line in f: prog.match(line)` (lines keep their '\n'), or prog.search(whole file). */
function contentMatches(re: RegExp, text: string, wholeFile: boolean): boolean {
  if (wholeFile) {
    re.lastIndex = 0;
    return re.test(text);
  }
  const lines = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  return lines.some((line) => {
    re.lastIndex = 0;
    return re.test(line);
  });
}

export const findModule: Module = {
  name: 'find',
  summary:
    'Register the files on the host that match names, type, age, size or content (never changes anything)',
  aliases: { name: 'paths', path: 'paths', pattern: 'patterns', exclude: 'excludes' },
  args: {
    type: 'object',
    additionalProperties: false,
    required: ['paths'],
    properties: {
      paths: {
        description: 'Directories to search (a list, or one string of comma-separated paths)',
        anyOf: [
          { type: 'string', minLength: 1 },
          { type: 'array', items: { type: 'string' }, minItems: 1 },
        ],
      },
      patterns: {
        description:
          'Basename patterns, any of which must match: shell globs (fnmatch), or Python regexes with use_regex',
        anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
      },
      excludes: {
        description: 'Basename patterns (same kind as patterns) that take an entry out again',
        anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
      },
      use_regex: {
        type: 'boolean',
        default: false,
        description: 'patterns and excludes are Python regexes matched at the start of the name',
      },
      contains: {
        type: 'string',
        description:
          'A Python regex that a line of the file must match (at its start, as re.match); files only',
      },
      read_whole_file: {
        type: 'boolean',
        default: false,
        description: 'contains is searched for anywhere in the whole file instead of per line',
      },
      file_type: {
        type: 'string',
        enum: ['file', 'directory', 'link', 'any'],
        default: 'file',
        description: 'The type of entry to select',
      },
      recurse: { type: 'boolean', default: false, description: 'Descend into subdirectories' },
      depth: {
        type: 'integer',
        minimum: 1,
        description: 'With recurse, how many levels deep to look (1: only the entries of each path)',
      },
      hidden: {
        type: 'boolean',
        default: false,
        description: 'Also select entries whose name starts with a dot',
      },
      follow: { type: 'boolean', default: false, description: 'Follow symbolic links to directories' },
      age: {
        anyOf: [{ type: 'string' }, { type: 'integer' }],
        description:
          'At least this old (s, m, h, d or w; e.g. 2d); a negative age selects entries at most this old',
      },
      age_stamp: {
        type: 'string',
        enum: ['atime', 'ctime', 'mtime'],
        default: 'mtime',
        description: 'Which timestamp age compares',
      },
      size: {
        anyOf: [{ type: 'string' }, { type: 'integer' }],
        description:
          'At least this large (b, k, m, g or t, powers of 1024; e.g. 10m); a negative size selects at most this large',
      },
    },
  },
  check: 'full',
  async run(ctx, args): Promise<ModuleResult> {
    const paths = listArg(args.paths);
    const useRegex = args.use_regex === true;
    let patterns = listArg(args.patterns);
    if (patterns.length === 0) patterns = [useRegex ? '.*' : '*'];
    const excludes = listArg(args.excludes);
    const fileType = (args.file_type as string | undefined) ?? 'file';
    const hidden = args.hidden === true;
    let age: number | undefined;
    let size: number | undefined;
    let include: (name: string) => boolean;
    let exclude: (name: string) => boolean;
    let contains: RegExp | undefined;
    try {
      age = parseAge(args.age);
      size = parseSize(args.size);
      include = matcher(patterns, useRegex);
      exclude = matcher(excludes, useRegex);
      if (typeof args.contains === 'string')
        contains = pyRegex(args.contains, {}, args.read_whole_file ? '' : 'y');
    } catch (e) {
      return fail((e as Error).message);
    }
    const stamp = ((args.age_stamp as string | undefined) ?? 'mtime') as 'atime' | 'mtime' | 'ctime';
    // Ansible: recurse: false is depth 1 whatever depth says.
    const maxDepth = args.recurse === true ? (args.depth as number | undefined) : 1;

    const r = await execOn(
      ctx,
      walkScript(paths, { follow: args.follow === true, ...(maxDepth ? { maxDepth } : {}) }),
    );
    if (r.rc === 90) return fail(r.stderr.trim());
    const walk = parseWalk(r.stdout);
    const warnings: string[] = [];
    const skippedPaths: Record<string, string> = {};
    for (const p of walk.skipped) {
      skippedPaths[p] = `'${p}' is not a directory`;
      warnings.push(`Skipped '${p}' path: it is not a directory or it cannot be read`);
    }
    for (const line of r.stderr.split('\n')) if (line.startsWith('warn: ')) warnings.push(line.slice(6));

    let examined = 0;
    const candidates: FoundEntry[] = [];
    for (const w of walk.walked) {
      examined += w.entries.length;
      for (const e of w.entries) {
        const name = e.path.slice(e.path.lastIndexOf('/') + 1);
        if (!hidden && name.startsWith('.')) continue;
        const wanted =
          fileType === 'any' ||
          (fileType === 'file' && e.type === 'f') ||
          (fileType === 'directory' && e.type === 'd') ||
          (fileType === 'link' && e.type === 'l');
        if (!wanted || !include(name) || exclude(name)) continue;
        if (age !== undefined) {
          const elapsed = walk.now - e[stamp];
          if (!(age >= 0 ? elapsed >= age : elapsed <= -age)) continue;
        }
        // As Ansible: size filters regular files only (file_type any keeps other entries whatever size says).
        if (size !== undefined && e.type === 'f' && !(size >= 0 ? e.size >= size : e.size <= -size)) continue;
        candidates.push(e);
      }
    }
    let found = candidates;
    // contains works on regular files of file_type: file only, as in Ansible.
    if (contains && fileType === 'file') {
      const re = contains;
      const content = await readFiles(ctx, candidates);
      found = candidates.filter((e) => {
        const c = content.get(e.path);
        return c !== undefined && contentMatches(re, c.toString('utf8'), args.read_whole_file === true);
      });
    }
    const files = found.map(statInfo);
    return {
      changed: false,
      msg: warnings.length > 0 ? 'Not all paths examined, check warnings for details' : 'All paths examined',
      data: { files, matched: files.length, examined, skipped_paths: skippedPaths },
      ...(warnings.length > 0 ? { warnings } : {}),
    };
  },
};
