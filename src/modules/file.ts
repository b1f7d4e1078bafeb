// file: a path's state (file, directory, absent, touch, link, hard) and its mode/owner/group. One probe
// decides, one script acts.
//
// Deviation from Ansible, on purpose: `state: touch` on an existing path still updates its timestamps but
// reports changed only when it created the file or changed its attributes (Ansible reports changed on
// every run, which makes a second run never come out clean).
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { shq } from '../core/shell-quote.js';
import { OWNERSHIP_SCHEMA, type OwnershipArgs, ownershipArgs } from './copy.js';
import { defineModule, fail, type Planned, planned } from './kit.js';
import type { Module, ModuleContext, ModuleResult } from './module.js';
import {
  type Attributes,
  attributeChanges,
  attributeCommands,
  attributeText,
  describeAttributes,
  execOk,
  execOn,
  hasAttributes,
  type PathState,
  probePath,
} from './remote.js';

type FileState = 'file' | 'directory' | 'absent' | 'touch' | 'link' | 'hard';

/** The arguments, as the schema below declares them (defaults applied). */
interface FileArgs extends OwnershipArgs {
  path: string;
  state: FileState;
  src?: string;
  force: boolean;
  follow: boolean;
}

function stateName(s: PathState): string {
  return s.exists ? (s.type ?? 'other') : 'absent';
}

function snapshot(s: PathState): Attributes & { state: string } {
  return {
    state: stateName(s),
    ...(s.mode ? { mode: s.mode } : {}),
    ...(s.owner ? { owner: s.owner } : {}),
    ...(s.group ? { group: s.group } : {}),
  };
}

export const fileModule: Module = defineModule<FileArgs>({
  name: 'file',
  summary:
    'Ensure a path is a file, a directory, a symbolic or hard link, absent or touched, with the given mode and ownership',
  aliases: { dest: 'path', name: 'path' },
  args: {
    type: 'object',
    additionalProperties: false,
    required: ['path'],
    properties: {
      path: { type: 'string', minLength: 1, description: 'Path on the target' },
      state: {
        type: 'string',
        enum: ['file', 'directory', 'absent', 'touch', 'link', 'hard'],
        default: 'file',
        description:
          'file: must exist (attributes only); directory: created with parents; absent: removed (recursively); ' +
          'touch: created empty if missing, timestamps updated; link: a symbolic link to src; hard: a hard link to src',
      },
      src: {
        type: 'string',
        minLength: 1,
        description:
          'What the link points at (state link or hard). A relative src is relative to the directory of path, ' +
          'as with ln -s, and a symbolic link stores it as given',
      },
      force: {
        type: 'boolean',
        default: false,
        description:
          'link/hard: also link to a src that does not exist yet (link), and replace a file or an empty directory at path',
      },
      follow: {
        type: 'boolean',
        default: true,
        description:
          'Follow a symbolic link at path: mode/owner/group then apply to what it points at; false: to the link itself',
      },
      ...OWNERSHIP_SCHEMA,
    },
    allOf: [
      // Ansible: link and hard need src, and src means nothing for the other states.
      {
        if: { properties: { state: { enum: ['link', 'hard'] } }, required: ['state'] },
        // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then, never awaited
        then: { properties: { src: true }, required: ['src'] },
      },
      {
        if: { properties: { src: true }, required: ['src'] },
        // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then, never awaited
        then: {
          properties: { state: { enum: ['link', 'hard'], description: 'src is for state: link or hard' } },
          required: ['state'],
        },
      },
    ],
  },
  check: 'full',
  async run(ctx, args): Promise<ModuleResult | Planned> {
    const { path, state: want } = args;
    if (want === 'link' || want === 'hard') return ensureLink(ctx, path, want, args);
    // Links are followed (Ansible's follow: yes) except for removal, which removes the link itself. With
    // follow: false, file and directory see the link itself and refuse it, as Ansible does; touch always
    // follows (touch -h is not POSIX).
    const follow = want !== 'absent' && (args.follow || want === 'touch');
    const state = await probePath(ctx, path, { follow });
    const failure = precondition(path, want, state);
    if (failure) return fail(failure, { path });
    const plan = planFor(path, want, state, ownershipArgs(args));
    const result: ModuleResult = { changed: plan.changed, data: { path, ...plan.after } };
    if (plan.changed) {
      result.msg = plan.msg;
      if (ctx.diff)
        result.diff = [{ path, before: attributeText(snapshot(state)), after: attributeText(plan.after) }];
    }
    if (plan.script.length === 0) return result;
    return planned(result, async () => {
      await execOk(ctx, ['set -e', ...plan.script].join('\n'), `cannot make ${path} ${want}`);
      return result;
    });
  },
});

function precondition(path: string, want: FileState, state: PathState): string | undefined {
  if (want === 'file' && !state.exists) return `file (${path}) is absent, cannot continue`;
  if (want === 'file' && state.type !== 'file')
    return `file (${path}) is ${stateName(state)}, cannot continue`;
  if (want === 'directory' && state.exists && state.type !== 'directory')
    return `${path} exists and is a ${stateName(state)}, not a directory`;
  return undefined;
}

interface Plan {
  script: string[];
  changed: boolean;
  msg: string;
  after: Attributes & { state: string };
}

function planFor(path: string, want: FileState, state: PathState, attrs: Attributes): Plan {
  if (want === 'absent') {
    if (!state.exists) return { script: [], changed: false, msg: '', after: { state: 'absent' } };
    return {
      script: [`rm -rf ${shq(path)}`],
      changed: true,
      msg: `${stateName(state)} removed`,
      after: { state: 'absent' },
    };
  }
  const created = !state.exists;
  const changes = created ? attrs : attributeChanges(state, attrs);
  const script: string[] = [];
  if (created) script.push(want === 'directory' ? `mkdir -p ${shq(path)}` : `: >> ${shq(path)}`);
  else if (want === 'touch') script.push(`touch -c ${shq(path)}`);
  script.push(...attributeCommands(path, changes));
  const kind = created ? (want === 'directory' ? 'directory' : 'file') : stateName(state);
  const after = { ...snapshot(state), ...changes, state: kind };
  const msg = created ? `${kind} created` : describeAttributes(state, changes);
  return { script, changed: created || hasAttributes(changes), msg, after };
}

// ---- state: link and hard ----
//
// Ansible's rules (ensure_symlink, ensure_hardlink): a link pointing elsewhere is replaced; a file, or an
// empty directory, at path is replaced only with force; a non-empty directory never; a symbolic link to a
// src that does not exist needs force. Deviations, on purpose:
// - A hard link's relative src is relative to the directory of path, as the docs say for src (Ansible's code
//   resolves it against the module's working directory, which a playbook cannot know).
// - A hard link is made to the file src names after following links, so the second run finds the same inode
//   (ln may link the symbolic link itself).
// - With follow: false, mode is not set on a symbolic link: Linux has no lchmod (a link's mode is always
//   0777) and Ansible then reports a change on every run. ewsplay warns instead.
// - A directory at path for state hard is treated as for link (Ansible's force then fails unlinking it).

type LinkKind = 'absent' | 'link' | 'file' | 'hard' | 'directory' | 'other';

interface LinkStat {
  mode: string;
  owner: string;
  group: string;
  uid: number;
  gid: number;
  /** device:inode, to tell whether two names are one file. */
  id: string;
  nlink: number;
}

interface LinkProbe {
  parentExists: boolean;
  /** What path is, without following a link; `hard` is a file with more than one name (Ansible's word). */
  kind: LinkKind;
  /** Where a symbolic link at path points, as stored. */
  target?: string;
  /** A directory at path has no entries. */
  empty?: boolean;
  /** path itself (lstat). */
  self?: LinkStat;
  /** What src names, following links; undefined when it does not exist. */
  src?: { type: 'file' | 'directory' | 'other'; real: string; stat: LinkStat };
}

/** Where src is, seen from the target's working directory: relative to path's directory, as ln -s does. */
export function linkSourcePath(path: string, src: string): string {
  if (posix.isAbsolute(src)) return src;
  const dir = posix.dirname(path);
  // Not normalized: `..` after a symbolic link must resolve as the kernel resolves it.
  return dir === '/' ? `/${src}` : `${dir}/${src}`;
}

/** The sh script behind the link probe (exported for tests). */
export function linkProbeScript(path: string, absSrc: string): string {
  return [
    `p=${shq(path)}`,
    `a=${shq(absSrc)}`,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a JS template
    'case "$p" in */*) d="${p%/*}"; [ -n "$d" ] || d=/ ;; *) d=. ;; esac',
    '[ -d "$d" ] && echo parent=1 || echo parent=0',
    // GNU stat, then BSD stat; without -L both describe a link itself.
    `st() { stat -c '%a|%U|%G|%u|%g|%d|%i|%h' "$@" 2>/dev/null || stat -f '%Lp|%Su|%Sg|%u|%g|%d|%i|%l' "$@"; }`,
    // printf, not echo: dash's echo would expand backslashes in a link target.
    `if [ -L "$p" ]; then echo kind=link; printf 'target=%s\\n' "$(readlink "$p")"`,
    'elif [ -d "$p" ]; then echo kind=directory; [ -n "$(ls -A "$p")" ] || echo empty=1',
    'elif [ -f "$p" ]; then echo kind=file',
    'elif [ -e "$p" ]; then echo kind=other',
    'else',
    // A path we may not look at is not "absent": fail on permission denied instead.
    '  e=$(LC_ALL=C stat "$p" 2>&1 >/dev/null)',
    '  case "$e" in *"ermission denied"*) echo "$e" >&2; exit 6 ;; esac',
    '  echo kind=absent',
    'fi',
    'if [ -L "$p" ] || [ -e "$p" ]; then s=$(st "$p") || exit 3; echo "self=$s"; fi',
    'if [ -e "$a" ]; then',
    '  if [ -f "$a" ]; then echo srctype=file; elif [ -d "$a" ]; then echo srctype=directory; else echo srctype=other; fi',
    `  printf 'srcreal=%s\\n' "$(readlink -f "$a" 2>/dev/null || realpath "$a")"`,
    '  s=$(st -L "$a") || exit 3; echo "srcstat=$s"',
    'fi',
  ].join('\n');
}

function parseLinkStat(line: string | undefined): LinkStat | undefined {
  if (!line) return undefined;
  const [mode = '', owner = '', group = '', uid, gid, dev, ino, nlink] = line.split('|');
  return {
    mode: mode.padStart(4, '0'),
    owner,
    group,
    uid: Number(uid),
    gid: Number(gid),
    id: `${dev}:${ino}`,
    nlink: Number(nlink),
  };
}

/** Parses the output of `linkProbeScript`. */
export function parseLinkProbe(stdout: string): LinkProbe {
  const kv = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0 && !kv.has(line.slice(0, eq))) kv.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const self = parseLinkStat(kv.get('self'));
  let kind = (kv.get('kind') ?? 'absent') as LinkKind;
  if (kind === 'file' && self && self.nlink > 1) kind = 'hard';
  const probe: LinkProbe = { parentExists: kv.get('parent') === '1', kind };
  if (self) probe.self = self;
  if (kv.has('target')) probe.target = kv.get('target');
  if (kind === 'directory') probe.empty = kv.get('empty') === '1';
  const srcStat = parseLinkStat(kv.get('srcstat'));
  if (srcStat)
    probe.src = {
      type: (kv.get('srctype') ?? 'other') as 'file' | 'directory' | 'other',
      real: kv.get('srcreal') ?? '',
      stat: srcStat,
    };
  return probe;
}

/** A LinkStat as the PathState that attributeChanges compares with. */
function asPathState(path: string, s: LinkStat): PathState {
  const { mode, owner, group, uid, gid } = s;
  return { path, exists: true, isLink: false, parentExists: true, mode, owner, group, uid, gid };
}

export interface LinkRequest {
  path: string;
  want: 'link' | 'hard';
  src: string;
  force: boolean;
  follow: boolean;
  attrs: Attributes;
}

export interface LinkPlan {
  failure?: string;
  script: string[];
  changed: boolean;
  msg: string;
  before: string;
  after: string;
  warnings: string[];
  data: Record<string, unknown>;
}

const kindWord = (k: LinkKind) => (k === 'hard' ? 'hard link' : k === 'other' ? 'special file' : k);

/** Decides what a link task does, from the probe alone (check mode predicts with the same plan). */
export function planLink(req: LinkRequest, probe: LinkProbe, tmpName: string): LinkPlan {
  const { path, want, src, force, follow, attrs } = req;
  const absSrc = linkSourcePath(path, src);
  const what = want === 'link' ? 'symlink' : 'hard link';
  const plan: LinkPlan = {
    script: [],
    changed: false,
    msg: '',
    before: '',
    after: '',
    warnings: [],
    data: { path, src, state: want },
  };
  const refuse = (failure: string): LinkPlan => ({ ...plan, failure });
  if (!probe.parentExists)
    return refuse(`${posix.dirname(path)} does not exist: create it first (file with state: directory)`);
  if (want === 'link' && !probe.src && !force)
    return refuse(
      `src file does not exist, use "force: true" if you really want to create the link: ${absSrc}`,
    );
  if (want === 'hard') {
    if (!probe.src) return refuse(`src does not exist: ${absSrc} (a hard link needs an existing file)`);
    if (probe.src.type === 'directory')
      return refuse(`src ${absSrc} is a directory: a hard link cannot name a directory (use state: link)`);
  }

  // Does path already name what we want?
  let same: boolean;
  if (want === 'link') same = probe.kind === 'link' && probe.target === src;
  else
    same =
      (probe.kind === 'file' || probe.kind === 'hard' || probe.kind === 'other') &&
      probe.self?.id === probe.src?.stat.id;
  if (!same) {
    if (probe.kind === 'directory') {
      if (!force)
        return refuse(
          `refusing to convert from directory to ${what} for ${path}: force: true replaces an empty directory`,
        );
      if (!probe.empty)
        return refuse(`the directory ${path} is not empty, refusing to convert it to a ${what}`);
    } else if (probe.kind !== 'absent' && probe.kind !== 'link' && !force) {
      const existing = probe.kind === 'hard' ? 'a different hard link' : `a ${kindWord(probe.kind)}`;
      return refuse(`refusing to convert ${existing} at ${path} to a ${what}: force: true replaces it`);
    }
  }

  // The link itself.
  const to = want === 'link' ? src : (probe.src?.real ?? absSrc);
  const ln = want === 'link' ? 'ln -s' : 'ln';
  const p = shq(path);
  if (!same) {
    if (probe.kind === 'absent' || probe.kind === 'directory') {
      if (probe.kind === 'directory') plan.script.push(`rmdir ${p}`);
      plan.script.push(`${ln} -- ${shq(to)} ${p}`);
    } else {
      // A new link beside it, renamed over it: path never goes missing (as Ansible does it).
      plan.script.push(
        `t=${shq(tmpName)}`,
        `trap 'rm -f "$t"' EXIT`,
        `${ln} -- ${shq(to)} "$t"`,
        // A link to a directory: a plain mv would move the new link into that directory.
        `if [ -d ${p} ]; then mv -f -T "$t" ${p} 2>/dev/null || mv -f -h "$t" ${p} 2>/dev/null || { rm -f ${p} && mv -f "$t" ${p}; }`,
        `else mv -f "$t" ${p}; fi`,
      );
    }
  }

  // mode/owner/group: on what they will apply to once the link is in place.
  let changes: Attributes = {};
  let chown = 'chown';
  if (want === 'hard' || follow) {
    if (probe.src) changes = attributeChanges(asPathState(path, probe.src.stat), attrs);
    else if (hasAttributes(attrs))
      plan.warnings.push(
        `mode/owner/group not set: the link's target ${absSrc} does not exist (follow: false sets owner/group on the link itself)`,
      );
  } else {
    if (attrs.mode)
      plan.warnings.push(
        'mode is not set on a symbolic link itself (its mode is always 0777 on Linux); follow: true sets it on the target',
      );
    const own: Attributes = {
      ...(attrs.owner ? { owner: attrs.owner } : {}),
      ...(attrs.group ? { group: attrs.group } : {}),
    };
    // A new link belongs to whoever made it: set what is wanted; an existing one is compared.
    changes = same && probe.self ? attributeChanges(asPathState(path, probe.self), own) : own;
    chown = 'chown -h';
  }
  if (changes.owner || changes.group)
    plan.script.push(
      `${chown} ${shq(`${changes.owner ?? ''}${changes.group ? `:${changes.group}` : ''}`)} ${p}`,
    );
  if (changes.mode) plan.script.push(`chmod ${shq(changes.mode)} ${p}`);

  plan.changed = !same || hasAttributes(changes);
  // Attributes are compared with what they apply to, except on a new link made with follow: false.
  const base = want === 'hard' || follow ? probe.src?.stat : same ? probe.self : undefined;
  const beforeAttrs: Attributes = {};
  for (const k of ['mode', 'owner', 'group'] as const)
    if (changes[k] !== undefined && base) beforeAttrs[k] = base[k];
  plan.before = linkText(probe.kind, probe.kind === 'link' ? probe.target : undefined, beforeAttrs);
  plan.after = linkText(want, want === 'link' ? src : undefined, changes);
  const parts: string[] = [];
  if (!same)
    parts.push(
      probe.kind === 'absent'
        ? `${what} created`
        : probe.kind === 'link' && want === 'link'
          ? `symlink changed: ${probe.target} -> ${src}`
          : `${kindWord(probe.kind)} replaced by a ${what}`,
    );
  if (hasAttributes(changes))
    parts.push(
      base
        ? describeAttributes(asPathState(path, base), changes)
        : Object.entries(changes)
            .map(([k, v]) => `${k} ${v}`)
            .join(', '),
    );
  plan.msg = parts.join(', ');
  // The attributes of what they apply to, as they will be.
  if (base) Object.assign(plan.data, { mode: base.mode, owner: base.owner, group: base.group });
  Object.assign(plan.data, changes);
  return plan;
}

/** Diff text of a link: its state, where it points, and the attributes that change. */
function linkText(state: string, target: string | undefined, attrs: Attributes): string {
  return `state: ${state}\n${target !== undefined ? `src: ${target}\n` : ''}${attributeText(attrs)}`;
}

async function ensureLink(
  ctx: ModuleContext,
  path: string,
  want: 'link' | 'hard',
  args: FileArgs,
): Promise<ModuleResult | Planned> {
  const req: LinkRequest = {
    path,
    want,
    src: args.src ?? '', // the schema requires src for link and hard
    force: args.force,
    follow: args.follow,
    attrs: ownershipArgs(args),
  };
  const r = await execOn(ctx, linkProbeScript(path, linkSourcePath(path, req.src)));
  if (r.rc !== 0) throw new Error(`cannot inspect ${path}: ${r.stderr.trim() || `exit ${r.rc}`}`);
  const tmp = `${posix.dirname(path)}/.ewsplay-link-${randomBytes(6).toString('hex')}`;
  const plan = planLink(req, parseLinkProbe(r.stdout), tmp);
  if (plan.failure) return fail(plan.failure, plan.data);
  const result: ModuleResult = { changed: plan.changed, data: plan.data };
  if (plan.warnings.length > 0) result.warnings = plan.warnings;
  if (plan.changed) {
    result.msg = plan.msg;
    if (ctx.diff) result.diff = [{ path, before: plan.before, after: plan.after }];
  }
  if (plan.script.length === 0) return result;
  return planned(result, async () => {
    await execOk(
      ctx,
      ['set -e', ...plan.script].join('\n'),
      `cannot make ${path} a ${want} link to ${req.src}`,
    );
    return result;
  });
}
