// authorized_key (ansible.posix): ensures SSH public keys are present in, or absent from, a user's
// authorized_keys file, with the collection's rules: a key is known by its base64 blob; a present key
// whose type, options or comment differ is replaced (and moves after the others); `exclusive` drops every
// other line; on a write the file is rewritten in its original order with each key line normalized.
// One round trip finds the user (getent), one reads the file, one script prepares the directory, and the
// file is written atomically, 0600 and owned by the user (the directory 0700 with manage_dir).
import { posix } from 'node:path';
import { shq } from '../core/shell-quote.js';
import { defineModule, fail, type Planned, planned } from './kit.js';
import type { Module, ModuleContext, ModuleResult } from './module.js';
import { execOk, execOn, probePath, writeFile } from './remote.js';

const READ_LIMIT = 4 * 1024 * 1024;

/** The key types the collection recognizes (a line without one is kept as it is, never parsed). */
const KEY_TYPES = new Set([
  'sk-ecdsa-sha2-nistp256@openssh.com',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'ssh-ed25519',
  'ssh-dss',
  'ssh-rsa',
]);

type Options = [name: string, value: string | null][];

interface KeyLine {
  /** The base64 blob: a key's identity. */
  blob: string;
  type: string;
  options: Options;
  comment: string;
  rank: number;
}

/** A comment, blank or unparsable line: written back as it was. */
interface OtherLine {
  line: string;
  rank: number;
}

type Entry = KeyLine | OtherLine;

/** ssh key options split on commas outside quotes: `no-pty,from="a,b"` -> no-pty, from="a,b". */
export function parseOptions(text: string | undefined): Options {
  const out: Options = [];
  for (const [part] of (text ?? '').matchAll(/(?:[^,"']|"[^"]*"|'[^']*')+/g)) {
    const eq = part.indexOf('=');
    out.push(eq >= 0 ? [part.slice(0, eq), part.slice(eq + 1)] : [part, null]);
  }
  return out;
}

/** One authorized_keys line as the collection parses it; undefined when it holds no key. */
export function parseKeyLine(raw: string, rank: number): KeyLine | OtherLine | undefined {
  const parts = raw
    .replace(/\\#/g, '#')
    .split(/[ \t\r\n]+/)
    .filter((p) => p !== '');
  if (parts[0] === '#') return { line: raw, rank };
  const at = parts.findIndex((p) => KEY_TYPES.has(p));
  const blob = parts[at + 1];
  if (at < 0 || blob === undefined) return undefined;
  return {
    blob,
    type: parts[at]!,
    options: parseOptions(at > 0 ? parts.slice(0, at).join(' ') : undefined),
    comment: parts.slice(at + 2).join(' '),
    rank,
  };
}

/** Options compare as the collection's dict does: the same values per name, in any order of names. */
function sameOptions(a: Options, b: Options): boolean {
  const group = (o: Options) => {
    const m = new Map<string, (string | null)[]>();
    for (const [k, v] of o) m.set(k, [...(m.get(k) ?? []), v]);
    return m;
  };
  const ga = group(a);
  const gb = group(b);
  return ga.size === gb.size && [...ga].every(([k, v]) => JSON.stringify(gb.get(k)) === JSON.stringify(v));
}

function serializeEntry(e: Entry): string {
  if ('line' in e) return e.line;
  const options = e.options.map(([k, v]) => (v === null ? k : `${k}=${v}`)).join(',');
  // Deviation: the collection writes a trailing space after a key without a comment; we do not (the line
  // parses the same, so files it wrote stay unchanged here).
  return `${options ? `${options} ` : ''}${e.type} ${e.blob}${e.comment ? ` ${e.comment}` : ''}\n`;
}

export interface KeyEdit {
  /** The `key` argument: one key per line; blank lines and lines starting with # are ignored. */
  keys: string;
  state: 'present' | 'absent';
  exclusive: boolean;
  keyOptions?: string;
  comment?: string;
}

/** Applies authorized_key to a file's text: the new text, and whether the collection would write it. */
export function editAuthorizedKeys(text: string, edit: KeyEdit): { text: string; changed: boolean } {
  // Lines as Python's splitlines(True); identical comment or blank lines collapse into one, as there.
  const lines = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  const existing = new Map<string, Entry>();
  for (const [i, line] of lines.entries()) {
    const parsed = parseKeyLine(line, i);
    if (!parsed || 'line' in parsed) existing.set(parsed?.line ?? line, { line, rank: i });
    else existing.set(parsed.blob, parsed);
  }
  // New keys go after every existing line, in the order given. (The collection counts the distinct entries
  // instead of the lines, which can place a new key among the old ones when lines collapsed.)
  const base = lines.length;
  const wanted: string[] = [];
  let changed = false;
  const given = edit.keys.split(/\r\n|[\n\r\v\f\u0085\u2028\u2029]/).filter((k) => k && !k.startsWith('#'));
  for (const [i, raw] of given.entries()) {
    const parsed = parseKeyLine(raw, i);
    if (!parsed || 'line' in parsed) throw new Error(`invalid key specified: ${raw}`);
    if (edit.keyOptions !== undefined) parsed.options = parseOptions(edit.keyOptions);
    if (edit.comment !== undefined) parsed.comment = edit.comment;
    const current = existing.get(parsed.blob);
    const same =
      current !== undefined &&
      'blob' in current &&
      current.type === parsed.type &&
      current.comment === parsed.comment &&
      sameOptions(current.options, parsed.options);
    if (edit.state === 'present') {
      wanted.push(parsed.blob);
      if (!same) {
        existing.delete(parsed.blob);
        existing.set(parsed.blob, { ...parsed, rank: base + i });
        changed = true;
      }
    } else if (current !== undefined) {
      existing.delete(parsed.blob);
      changed = true;
    }
  }
  if (edit.state === 'present' && edit.exclusive) {
    for (const id of [...existing.keys()]) {
      if (wanted.includes(id)) continue;
      existing.delete(id);
      changed = true;
    }
  }
  if (!changed) return { text, changed };
  const ordered = [...existing.values()].sort((a, b) => a.rank - b.rank);
  // A kept line without its newline (the file's last) gets one when something follows it.
  const out = ordered.map((e, i) => {
    const s = serializeEntry(e);
    return i < ordered.length - 1 && !s.endsWith('\n') ? `${s}\n` : s;
  });
  return { text: out.join(''), changed };
}

interface Account {
  uid: string;
  gid: string;
  home: string;
}

/** The user's passwd entry (getent, else /etc/passwd), this session's uid and $HOME, in one round trip. */
async function lookUp(
  ctx: ModuleContext,
  user: string,
): Promise<{ account?: Account; me: string; home: string }> {
  const r = await execOn(
    ctx,
    [
      `u=${shq(user)}`,
      'echo "me=$(id -u)"',
      'echo "home=$HOME"',
      'e=$(getent passwd "$u" 2>/dev/null) || e=$(awk -F: -v u="$u" \'$1 == u\' /etc/passwd)',
      '[ -n "$e" ] && echo "pw=$e"',
      'exit 0',
    ].join('\n'),
  );
  const kv = new Map(
    r.stdout
      .split('\n')
      .flatMap((l) =>
        l.includes('=') ? [[l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]] : [],
      ) as [string, string][],
  );
  const pw = kv.get('pw')?.split(':');
  return {
    ...(pw && pw.length >= 6 ? { account: { uid: pw[2]!, gid: pw[3]!, home: pw[5]! } } : {}),
    me: kv.get('me') ?? '',
    home: kv.get('home') ?? '',
  };
}

/** The arguments, as the schema below declares them (defaults applied). */
interface AuthorizedKeyArgs {
  user: string;
  key: string;
  path?: string;
  manage_dir: boolean;
  state: 'present' | 'absent';
  key_options?: string;
  exclusive: boolean;
  comment?: string;
  follow: boolean;
  validate_certs: boolean;
}

async function run(ctx: ModuleContext, args: AuthorizedKeyArgs): Promise<ModuleResult | Planned> {
  const { user, key, state, exclusive, follow } = args;
  const manageDir = args.manage_dir;
  const data: Record<string, unknown> = {
    user,
    key,
    path: args.path ?? null,
    manage_dir: manageDir,
    state,
    key_options: args.key_options ?? null,
    exclusive,
    comment: args.comment ?? null,
    follow,
    validate_certs: args.validate_certs,
  };
  // Deviation: the collection fetches a key URL (https://github.com/<user>.keys) from the host; ewsplay does not.
  if (key.startsWith('http'))
    return fail(
      `key is a URL (${key}): fetching keys from a URL is not supported; put the key text in 'key' (e.g. from a vars file)`,
      data,
    );

  const found = await lookUp(ctx, user);
  const account = found.account;
  let path = args.path;
  // With no such user, check mode can still predict the edit of a file named by path; a real run fails.
  const rest = async (): Promise<ModuleResult | Planned> => {
    // A path argument is a `path` in Ansible: ~ is the connecting user's home.
    if (path === '~' || path?.startsWith('~/')) path = found.home + path.slice(1);
    const sshDir = path !== undefined ? posix.dirname(path) : `${account!.home}/.ssh`;
    const given = path ?? `${sshDir}/authorized_keys`;

    const file = await probePath(ctx, given, { contentLimit: READ_LIMIT });
    if (file.exists && file.type !== 'file') return fail(`${given} is not a regular file`, data);
    if (file.exists && file.content === undefined)
      return fail(`${given} is larger than ${READ_LIMIT} bytes: not editing it`, data);
    const keyfile = follow && file.realPath ? file.realPath : given;
    data.keyfile = keyfile;

    const before = file.content?.toString('utf8') ?? '';
    let edit: { text: string; changed: boolean };
    try {
      edit = editAuthorizedKeys(before, {
        keys: key,
        state,
        exclusive,
        ...(args.key_options !== undefined ? { keyOptions: args.key_options } : {}),
        ...(args.comment !== undefined ? { comment: args.comment } : {}),
      });
    } catch (e) {
      return fail((e as Error).message, data);
    }
    const result: ModuleResult = { changed: edit.changed, data };
    if (!edit.changed) return result;
    result.msg = `${keyfile} ${state === 'present' ? 'updated' : 'keys removed'}`;
    if (ctx.diff) result.diff = [{ path: keyfile, before, after: edit.text }];
    return planned(result, async () => {
      // Ownership can only be given as root; the user writing its own file owns it already.
      const owner = account && found.me === '0' ? { owner: account.uid, group: account.gid } : {};
      const prepare: string[] = [];
      if (manageDir) {
        prepare.push(`d=${shq(sshDir)}`, '[ -d "$d" ] || mkdir -m 0700 "$d" || exit 1');
        if (owner.owner) prepare.push(`chown ${shq(`${owner.owner}:${owner.group}`)} "$d" || exit 1`);
        prepare.push('chmod 0700 "$d"');
      } else {
        prepare.push(`mkdir -p ${shq(posix.dirname(keyfile))}`);
      }
      await execOk(ctx, prepare.join('\n'), `cannot prepare the directory of ${keyfile}`);
      await writeFile(ctx, keyfile, edit.text, { mode: '0600', ...owner });
      return result;
    });
  };
  if (!account) {
    const lookupFailed = async () => fail(`Failed to lookup user ${user}: no such user on the host`, data);
    if (path === undefined)
      return planned(
        fail(
          `Either user must exist or you must provide full path to key file in check mode (no user '${user}' on the host)`,
          data,
        ),
        lookupFailed,
      );
    return planned(rest, lookupFailed);
  }
  return rest();
}

export const authorizedKeyModule: Module = defineModule<AuthorizedKeyArgs>({
  name: 'authorized_key',
  summary: "Add or remove SSH public keys in a user's authorized_keys file (ansible.posix)",
  args: {
    type: 'object',
    additionalProperties: false,
    required: ['user', 'key'],
    properties: {
      user: { type: 'string', minLength: 1, description: 'The user whose authorized_keys file is managed' },
      key: {
        type: 'string',
        minLength: 1,
        description: 'The public key(s), one per line (lines starting with # are ignored)',
      },
      path: {
        type: 'string',
        minLength: 1,
        description: 'The authorized_keys file (default: ~user/.ssh/authorized_keys)',
      },
      manage_dir: {
        type: 'boolean',
        default: true,
        description: "Create the file's directory (0700) and set its owner and mode when writing",
      },
      state: { type: 'string', enum: ['present', 'absent'], default: 'present' },
      key_options: {
        type: 'string',
        description: 'ssh key options put before each key, e.g. no-pty,from="10.0.0.1"',
      },
      exclusive: { type: 'boolean', default: false, description: 'Remove every other line of the file' },
      comment: { type: 'string', description: "The keys' comment (default: the one the key has)" },
      follow: {
        type: 'boolean',
        default: false,
        description: 'Write through a symbolic link instead of replacing it',
      },
      validate_certs: {
        type: 'boolean',
        default: true,
        description: 'Accepted for Ansible compatibility (it applies to key URLs, which are not supported)',
      },
    },
  },
  check: 'full',
  run,
});
