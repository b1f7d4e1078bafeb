// unarchive: unpacks a .tar, .tar.gz/.tgz, .tar.bz2, .tar.xz (tar) or .zip (unzip) archive into an existing
// directory on the host. The archive comes from the control node (copied to a private temp directory on the
// host, removed afterwards) or, with remote_src, is already on the host.
//
// Idempotent as Ansible: what the archive holds is compared with what is on disk first, and nothing is
// extracted when it all matches. For tar that is GNU tar's --diff (every entry present with the same size,
// mtime, type, link target and content; mode and ownership count as Ansible counts them), read with
// Ansible's rules; without GNU tar there is no --diff and the archive is extracted every time, as Ansible
// does. For zip every file's content is compared (unzip -p | cmp) and every directory must exist.
// mode/owner/group apply to every entry of the archive (as Ansible applies them) and count as a change
// when they differ.
//
// Check mode makes the same comparison (the archive is copied to a temp directory on the host for it and
// removed, as Ansible does) and extracts nothing.
import { posix } from 'node:path';
import { shq } from '../core/shell-quote.js';
import { OWNERSHIP_SCHEMA, type OwnershipArgs, ownershipArgs } from './copy.js';
import { defineModule, fail, type Planned, planned, settledThen } from './kit.js';
import type { Module, ModuleContext, ModuleResult } from './module.js';
import { type Attributes, execOk, execOn, probePath, readControlFile } from './remote.js';

type Format = { kind: 'tar'; flag: string } | { kind: 'zip' };

/** The archive's format from its name; an unknown name is read as tar (GNU tar detects compression). */
export function archiveFormat(name: string): Format {
  const n = name.toLowerCase();
  if (n.endsWith('.zip')) return { kind: 'zip' };
  if (/\.(tar\.gz|tgz)$/.test(n)) return { kind: 'tar', flag: '-z' };
  if (/\.(tar\.bz2|tbz2|tbz)$/.test(n)) return { kind: 'tar', flag: '-j' };
  if (/\.(tar\.xz|txz)$/.test(n)) return { kind: 'tar', flag: '-J' };
  return { kind: 'tar', flag: '' };
}

/**
 * Which lines of `tar --diff` mean the archive is not unpacked, as Ansible reads them: ownership only when
 * running as root without owner/group given (they would be set anyway otherwise), mode only without mode.
 */
export function tarDiffers(out: string, o: { root: boolean; attrs: Attributes }): string[] {
  return out.split('\n').filter((line) => {
    // An entry that --strip-components emptied (Ansible's EMPTY_FILE_RE): not a difference.
    if (/: : Warning: Cannot stat: No such file or directory$/.test(line)) return false;
    if (/: (Mod time|Size|Contents|File type|Symlink) differs?$/.test(line)) return true;
    if (/: Warning: Cannot stat: No such file or directory$/.test(line)) return true;
    if (/: (Not found in archive|Cannot readlink)/.test(line)) return true;
    if (/: Mode differs$/.test(line)) return !o.attrs.mode;
    if (/: Uid differs$/.test(line)) return o.root && !o.attrs.owner;
    if (/: Gid differs$/.test(line)) return o.root && !o.attrs.group;
    return false;
  });
}

const MARK = '--ewsplay-unarchive--';

/** The comparison script: lists the archive, compares it with dest, checks wanted attributes per entry. */
export function compareScript(
  archive: string,
  dest: string,
  fmt: Format,
  extra: string[],
  attrs: Attributes,
): string {
  const x = extra.map(shq).join(' ');
  const lines = [`a=${shq(archive)}`, `d=${shq(dest)}`, 'echo "uid=$(id -u)"'];
  if (fmt.kind === 'tar') {
    lines.push(
      "command -v tar >/dev/null 2>&1 || { echo 'tar is not installed on the host' >&2; exit 30; }",
      `tar -t ${fmt.flag} ${x} -f "$a" > "$t/list" 2>"$t/err" || { cat "$t/err" >&2; exit 31; }`,
      'if tar --version 2>/dev/null | grep -q GNU; then',
      `  (cd "$d" && tar -d ${fmt.flag} ${x} -f "$a") > "$t/diff" 2>&1; echo "diffrc=$?"`,
      'else echo nodiff=1; fi',
    );
  } else {
    lines.push(
      "command -v unzip >/dev/null 2>&1 || { echo 'unzip is not installed on the host: install unzip' >&2; exit 30; }",
      `unzip -Z1 "$a" > "$t/list" 2>"$t/err" || { cat "$t/err" >&2; exit 31; }`,
      ': > "$t/diff"',
      'while IFS= read -r n; do',
      '  case "$n" in',
      '    */) [ -d "$d/$n" ] || echo "$n: missing" >> "$t/diff" ;;',
      // unzip takes member names as wildcards: brackets make each special character literal.
      `    *) if [ ! -f "$d/$n" ] && [ ! -L "$d/$n" ]; then echo "$n: missing" >> "$t/diff"; else m=$(printf '%s\\n' "$n" | sed 's/[][*?]/[&]/g'); unzip -p "$a" "$m" | cmp -s - "$d/$n" || echo "$n: differs" >> "$t/diff"; fi ;;`,
      '  esac',
      'done < "$t/list"',
      'echo diffrc=0',
    );
  }
  if (attrs.mode || attrs.owner || attrs.group) {
    // Count the entries whose mode/owner/group differ from the wanted ones.
    const checks: string[] = [];
    if (attrs.mode) checks.push(`[ "$m" = ${shq(String(Number.parseInt(attrs.mode, 8).toString(8)))} ]`);
    if (attrs.owner) checks.push(`{ [ "$u" = ${shq(attrs.owner)} ] || [ "$ui" = ${shq(attrs.owner)} ]; }`);
    if (attrs.group) checks.push(`{ [ "$g" = ${shq(attrs.group)} ] || [ "$gi" = ${shq(attrs.group)} ]; }`);
    lines.push(
      'n_attr=0',
      'while IFS= read -r n; do',
      '  p="$d/$n"; [ -e "$p" ] || [ -L "$p" ] || continue',
      `  set -- $(stat -c '%a %U %G %u %g' "$p" 2>/dev/null || stat -f '%Lp %Su %Sg %u %g' "$p"); m=$1 u=$2 g=$3 ui=$4 gi=$5`,
      `  ${checks.join(' && ')} || n_attr=$((n_attr+1))`,
      'done < "$t/list"',
      'echo "attrs=$n_attr"',
    );
  }
  lines.push(`echo ${MARK}`, 'cat "$t/list"', `echo ${MARK}`, 'cat "$t/diff" 2>/dev/null');
  return lines.join('\n');
}

/** unarchive's arguments, as its schema declares them (defaults applied). */
interface UnarchiveArgs extends OwnershipArgs {
  src: string;
  dest: string;
  remote_src: boolean;
  creates?: string;
  list_files: boolean;
  extra_opts?: string[];
}

export const unarchiveModule: Module = defineModule<UnarchiveArgs>({
  name: 'unarchive',
  summary:
    'Unpack a tar (gz, bz2, xz) or zip archive into a directory on the host, only when its content differs',
  args: {
    type: 'object',
    additionalProperties: false,
    required: ['src', 'dest'],
    properties: {
      src: {
        type: 'string',
        minLength: 1,
        description:
          'The archive: on the control node (relative to the playbook, its files/ folder first), or on the host with remote_src',
      },
      dest: { type: 'string', minLength: 1, description: 'An existing directory on the host to unpack into' },
      remote_src: { type: 'boolean', default: false, description: 'src is already on the host' },
      creates: {
        type: 'string',
        minLength: 1,
        description: 'A path on the host: when it exists, nothing is done (the task is skipped)',
      },
      list_files: {
        type: 'boolean',
        default: false,
        description: "Register the archive's entries as `files`",
      },
      extra_opts: {
        type: 'array',
        items: { type: 'string' },
        description:
          'Extra options for tar or unzip (e.g. --strip-components=1), used to compare and to extract',
      },
      ...OWNERSHIP_SCHEMA,
    },
  },
  check: 'full',
  async run(ctx, args): Promise<ModuleResult | Planned> {
    const { src, dest, remote_src: remote } = args;
    const extra = args.extra_opts ?? [];
    let attrs: Attributes;
    try {
      attrs = ownershipArgs(args);
    } catch (e) {
      return fail((e as Error).message);
    }
    if (args.creates !== undefined) {
      const c = await execOn(ctx, `[ -e ${shq(args.creates)} ]`);
      if (c.rc === 0) return { changed: false, skipped: true, msg: `skipped, since ${args.creates} exists` };
    }
    const d = await probePath(ctx, dest);
    if (!d.exists || d.type !== 'directory') return fail(`dest '${dest}' must be an existing dir`);

    // A private temp directory on the host for the work files (and the uploaded archive).
    const tmp = (
      await execOk(ctx, 'umask 077; mktemp -d', 'cannot make a temporary directory on the host')
    ).stdout.trim();
    return settledThen(
      unpack(ctx, { src, dest, remote, extra, attrs, tmp, listFiles: args.list_files }),
      () => execOn(ctx, `rm -rf ${shq(tmp)}`).catch(() => undefined),
    );
  },
});

async function unpack(
  ctx: ModuleContext,
  o: {
    src: string;
    dest: string;
    remote: boolean;
    extra: string[];
    attrs: Attributes;
    tmp: string;
    listFiles: boolean;
  },
): Promise<ModuleResult | Planned> {
  let archive: string;
  if (o.remote) {
    const s = await probePath(ctx, o.src);
    if (!s.exists || s.type !== 'file')
      return fail(`Source '${o.src}' does not exist on the host (remote_src: true)`);
    archive = o.src;
  } else {
    const local = await readControlFile(ctx, o.src, 'files');
    archive = posix.join(o.tmp, posix.basename(o.src));
    await ctx.conn.put(archive, local.content, {
      mode: '0600',
      timeoutMs: ctx.timeoutMs,
      signal: ctx.signal,
      ...(ctx.become ? { become: ctx.become } : {}),
    });
  }
  const fmt = archiveFormat(o.src);
  const handler = fmt.kind === 'zip' ? 'ZipArchive' : 'TgzArchive';
  const r = await execOn(ctx, `t=${shq(o.tmp)}\n${compareScript(archive, o.dest, fmt, o.extra, o.attrs)}`);
  if (r.rc !== 0)
    return fail(
      r.rc === 31
        ? `Failed to find handler for "${o.src}": it is not a readable ${fmt.kind === 'zip' ? 'zip' : 'tar'} archive (${r.stderr.trim()})`
        : r.stderr.trim() || `exit ${r.rc}`,
    );
  const [head = '', listText = '', diffText = ''] = r.stdout.split(`${MARK}\n`);
  const files = listText.split('\n').filter((l) => l !== '');
  const root = /^uid=0$/m.test(head);
  const noDiff = /^nodiff=1$/m.test(head);
  const attrDiffs = Number(/^attrs=(\d+)$/m.exec(head)?.[1] ?? 0);
  const differs =
    fmt.kind === 'zip'
      ? diffText.split('\n').filter((l) => l !== '')
      : tarDiffers(diffText, { root, attrs: o.attrs });
  const unarchived = !noDiff && differs.length === 0;
  const changed = !unarchived || attrDiffs > 0;
  const data: Record<string, unknown> = {
    dest: o.dest,
    src: o.src,
    handler,
    ...(o.listFiles ? { files } : {}),
  };
  const why = noDiff
    ? 'tar on the host is not GNU tar (no --diff): unpacked every time'
    : differs.length > 0
      ? `${differs.length} entr${differs.length === 1 ? 'y differs' : 'ies differ'} (${differs[0]})`
      : '';
  if (!changed) return { changed: false, data };
  const prediction: ModuleResult = {
    changed: true,
    msg: unarchived
      ? `would set attributes of ${attrDiffs} entries`
      : `would unpack ${o.src} into ${o.dest}: ${why}`,
    data,
  };
  return planned(prediction, () => extract(ctx, o, { archive, fmt, unarchived, attrDiffs, data }));
}

/** Unpacks (not in check mode) and sets the attributes asked for. */
async function extract(
  ctx: ModuleContext,
  o: { src: string; dest: string; extra: string[]; attrs: Attributes; tmp: string },
  w: {
    archive: string;
    fmt: ReturnType<typeof archiveFormat>;
    unarchived: boolean;
    attrDiffs: number;
    data: Record<string, unknown>;
  },
): Promise<ModuleResult> {
  const { archive, fmt, unarchived, attrDiffs, data } = w;
  const x = o.extra.map(shq).join(' ');
  const script = [`a=${shq(archive)}`, `d=${shq(o.dest)}`, `t=${shq(o.tmp)}`];
  if (!unarchived)
    script.push(
      fmt.kind === 'zip'
        ? `unzip -o -q ${x} "$a" -d "$d" || exit 40`
        : `(cd "$d" && tar -x ${fmt.flag} ${x} -f "$a") || exit 40`,
    );
  if (o.attrs.mode || o.attrs.owner || o.attrs.group) {
    const own =
      o.attrs.owner || o.attrs.group
        ? `${o.attrs.owner ?? ''}${o.attrs.group ? `:${o.attrs.group}` : ''}`
        : '';
    script.push(
      'while IFS= read -r n; do',
      '  p="$d/$n"; [ -e "$p" ] || continue',
      ...(own ? [`  chown ${shq(own)} "$p" || exit 41`] : []),
      ...(o.attrs.mode ? [`  chmod ${shq(o.attrs.mode)} "$p" || exit 41`] : []),
      'done < "$t/list"',
    );
  }
  const x2 = await execOn(ctx, script.join('\n'));
  if (x2.rc !== 0)
    return fail(`cannot unpack ${o.src} into ${o.dest}: ${x2.stderr.trim() || `exit ${x2.rc}`}`, {
      ...data,
      extract_results: { rc: x2.rc, err: x2.stderr },
    });
  return {
    changed: true,
    msg: unarchived ? `attributes set on ${attrDiffs} entries` : `unpacked ${o.src} into ${o.dest}`,
    data: { ...data, extract_results: { rc: 0, err: x2.stderr } },
  };
}
