// get_url: downloads a URL on the host (curl, else wget) to dest, as Ansible's get_url:
// - dest a file that exists and force: false: no download (ok), unless a given checksum does not match it;
// - otherwise the body goes to a temp file beside dest, is checked against `checksum` (algo:hex), and
//   replaces dest atomically (rename) only when its sha256 differs; mode/owner/group apply either way.
// - dest a directory: the file is named after the URL's last path segment and always downloaded (as
//   Ansible), replaced only when different. Deviation on purpose: Ansible may take the name from a
//   Content-Disposition header; ewsplay names it before the download, from the URL only.
// Check mode downloads nothing: it predicts from dest and checksum, and says when it cannot know (a file
// that would be downloaded again may well have the same content). Ansible does a HEAD request there; ewsplay
// does not reach the server at all in check mode.
import { posix } from 'node:path';
import { shq } from '../core/shell-quote.js';
import { OWNERSHIP_SCHEMA, ownershipArgs } from './copy.js';
import {
  curlConfig,
  fetchLines,
  HTTP_ARGS_SCHEMA,
  type HttpRequest,
  requestArgs,
  toolLine,
  wgetConfig,
} from './http.js';
import { defineModule, fail, type Planned, planned } from './kit.js';
import type { Module, ModuleContext, ModuleResult } from './module.js';
import {
  type Attributes,
  attributeChanges,
  attributeCommands,
  describeAttributes,
  execOk,
  execOn,
  hasAttributes,
  type PathState,
  probePath,
} from './remote.js';

const ALGORITHMS = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'] as const;
type Algorithm = (typeof ALGORITHMS)[number];

/** `algo:hex` as Ansible takes it (the algorithm lower-cased, the digest compared case-insensitively). */
export function parseChecksum(v: unknown): { algo: Algorithm; hex: string } | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const s = String(v);
  const i = s.indexOf(':');
  if (i < 0)
    throw new Error(`checksum must be algorithm:digest, e.g. sha256:9f86d0... (got ${JSON.stringify(s)})`);
  const algo = s.slice(0, i).toLowerCase() as Algorithm;
  const hex = s
    .slice(i + 1)
    .trim()
    .toLowerCase();
  if (!ALGORITHMS.includes(algo))
    throw new Error(`checksum algorithm ${JSON.stringify(algo)} is not one of ${ALGORITHMS.join(', ')}`);
  if (/^[a-z]+:\/\//.test(hex))
    throw new Error(
      'a checksum taken from a URL is not supported: give the hex digest itself (algorithm:digest)',
    );
  if (!/^[0-9a-f]+$/.test(hex)) throw new Error(`checksum digest ${JSON.stringify(hex)} is not hexadecimal`);
  return { algo, hex };
}

/** The file name a URL gives: its last path segment. */
export function urlFileName(url: string): string | undefined {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return undefined;
  }
  const name = decodeURIComponent(path.slice(path.lastIndexOf('/') + 1));
  return name && name !== '.' && name !== '..' && !name.includes('/') ? name : undefined;
}

const digestLine = (algo: string, file: string, v: string) =>
  `if command -v ${algo}sum >/dev/null 2>&1; then ${v}=$(${algo}sum < ${file}); else ${v}=$(openssl dgst -${algo} -r < ${file}); fi; ${v}=\${${v}%% *}`;

/** Digest of a file on the host, or undefined when it is not a regular file. */
async function hostDigest(ctx: ModuleContext, path: string, algo: Algorithm): Promise<string | undefined> {
  const r = await execOk(
    ctx,
    `p=${shq(path)}; [ -f "$p" ] || exit 0; ${digestLine(algo, '"$p"', 'h')}; echo "$h"`,
    `cannot read ${path}`,
  );
  return r.stdout.trim() || undefined;
}

/** The download script: fetch into a temp file beside dest, verify, replace dest only when different. */
export function downloadScript(o: {
  url: string;
  dest: string;
  checksum?: { algo: string; hex: string };
  mode?: string;
  owner?: string;
  group?: string;
}): string {
  const dir = posix.dirname(o.dest);
  const attrs = [
    o.mode
      ? `chmod ${shq(o.mode)} "$out"`
      : // New files get 0666 less the umask, as a plain download would.
        'chmod "$(printf %o $((0666 & ~0$(umask))))" "$out"',
    ...(o.owner || o.group ? [`chown ${shq(`${o.owner ?? ''}${o.group ? `:${o.group}` : ''}`)} "$out"`] : []),
  ];
  return [
    toolLine(true),
    `dest=${shq(o.dest)}`,
    `out=$(mktemp ${shq(`${dir}/.${posix.basename(o.dest)}.ewsplay-XXXXXX`)}) || exit 21`,
    `trap 'rm -f "$out" "$out.err" "$out.rc"' EXIT`,
    ...fetchLines(o.url),
    'echo "tool=$tool"',
    'echo "status=$status"',
    'if [ "$fetch_rc" != 0 ]; then cat "$out.err" >&2; exit 22; fi',
    'case "$status" in 0|2??) ;; *) exit 23 ;; esac',
    'echo "size=$(wc -c < "$out" | tr -d " ")"',
    digestLine('sha1', '"$out"', 'sha1'),
    'echo "sha1=$sha1"',
    ...(o.checksum
      ? [
          digestLine(o.checksum.algo, '"$out"', 'got'),
          'echo "got=$got"',
          `[ "$got" = ${shq(o.checksum.hex)} ] || exit 24`,
        ]
      : []),
    digestLine('sha256', '"$out"', 'new'),
    `old=; if [ -f "$dest" ]; then ${digestLine('sha256', '"$dest"', 'old')}; fi`,
    'if [ "$new" = "$old" ]; then echo same=1; exit 0; fi',
    ...attrs.map((c) => `${c} || exit 25`),
    'mv -f "$out" "$dest" || exit 26',
    'echo replaced=1',
  ].join('\n');
}

/** Content already right: what differs of mode/owner/group, and the commands that set it. */
function attributesToSet(
  ctx: ModuleContext,
  state: PathState,
  want: Attributes,
  writePath: string,
  dest: string,
): { attrs: Attributes; changed: boolean; set: () => Promise<void> } {
  const attrs = attributeChanges(state, want);
  return {
    attrs,
    changed: hasAttributes(attrs),
    set: async () => {
      if (hasAttributes(attrs))
        await execOk(
          ctx,
          attributeCommands(writePath, attrs).join(' && '),
          `cannot set attributes of ${dest}`,
        );
    },
  };
}

function kv(stdout: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) m.set(line.slice(0, i), line.slice(i + 1));
  }
  return m;
}

/** get_url's arguments, as its schema declares them (defaults applied); the HTTP ones as http.ts reads them. */
type GetUrlArgs = Record<string, unknown> & {
  url: string;
  dest: string;
  checksum?: string;
  force: boolean;
  timeout: number;
};

export const getUrlModule: Module = defineModule<GetUrlArgs>({
  name: 'get_url',
  summary: 'Download a URL on the host to a file (checksum, force, mode/owner; replaced only when different)',
  args: {
    type: 'object',
    additionalProperties: false,
    required: ['url', 'dest'],
    properties: {
      ...HTTP_ARGS_SCHEMA,
      dest: {
        type: 'string',
        minLength: 1,
        description: "The file on the host; a directory receives the file under the URL's last path segment",
      },
      checksum: {
        type: 'string',
        description:
          'algorithm:digest (md5, sha1, sha224, sha256, sha384, sha512): the download must match it, and a dest that matches is not downloaded again',
      },
      force: {
        type: 'boolean',
        default: false,
        description: 'Download even when dest exists (it is replaced only when the content differs)',
      },
      timeout: {
        type: 'integer',
        minimum: 1,
        default: 10,
        description: 'Seconds to connect and between bytes',
      },
      ...OWNERSHIP_SCHEMA,
    },
  },
  check: 'full',
  async run(ctx, args): Promise<ModuleResult | Planned> {
    const { url, force } = args;
    let checksum: ReturnType<typeof parseChecksum>;
    let want: Attributes;
    try {
      checksum = parseChecksum(args.checksum);
      want = ownershipArgs(args);
    } catch (e) {
      return fail((e as Error).message);
    }
    const failOn = (msg: string, data: Record<string, unknown> = {}): ModuleResult =>
      fail(msg, { url, ...data });

    // Where the file goes: dest, or dest/<name from the URL> for a directory.
    let dest = args.dest;
    const destState = await probePath(ctx, dest);
    const destIsDir = dest.endsWith('/') || (destState.exists && destState.type === 'directory');
    if (destIsDir) {
      const name = urlFileName(url);
      if (!name) return failOn(`cannot name the file from ${url}: give dest as a file path`);
      dest = posix.join(dest, name);
    }
    const state = destIsDir ? await probePath(ctx, dest) : destState;
    if (!state.parentExists)
      return planned(
        {
          changed: true,
          msg: `would download ${url} to ${dest}`,
          warnings: [
            `${posix.dirname(dest)} does not exist yet; the real run fails unless an earlier task creates it`,
          ],
          data: { url, dest },
        },
        async () => failOn(`destination directory ${posix.dirname(dest)} does not exist`, { dest }),
      );
    if (state.exists && state.type !== 'file')
      return failOn(`${dest} exists and is a ${state.type}, not a file`, { dest });
    const writePath = state.realPath ?? dest;

    // Ansible: an existing file is left alone unless force, a directory dest, or a checksum it fails.
    let reason: string | undefined;
    if (!state.exists) reason = 'absent';
    else if (destIsDir) reason = 'dest is a directory: always downloaded, replaced only when different';
    else if (force) reason = 'force: downloaded again, replaced only when different';
    else if (checksum) {
      const have = await hostDigest(ctx, writePath, checksum.algo);
      if (have !== checksum.hex) reason = `${dest} does not match the checksum`;
    }

    if (reason === undefined) {
      const { attrs, changed, set } = attributesToSet(ctx, state, want, writePath, dest);
      const result: ModuleResult = {
        changed,
        msg: changed
          ? `file already exists but file attributes changed: ${describeAttributes(state, attrs)}`
          : 'file already exists',
        data: { url, dest, mode: attrs.mode ?? state.mode, size: state.size },
      };
      if (!changed) return result;
      return planned(result, async () => {
        await set();
        return result;
      });
    }

    const prediction: ModuleResult =
      reason === 'absent' || reason.endsWith('checksum')
        ? {
            changed: true,
            msg: `would download ${url} to ${dest}${reason === 'absent' ? '' : ` (${reason})`}`,
            data: { url, dest },
          }
        : // Whether the content differs is only known after a download, which check mode does not do.
          {
            changed: true,
            msg: `would download ${url} again (${reason})`,
            warnings: [
              `check mode cannot know whether ${dest} would change without downloading ${url}: reported as changed`,
            ],
            data: { url, dest },
          };
    return planned(prediction, () => download(ctx, args, { url, dest, writePath, state, want, checksum }));
  },
});

/** Downloads (not in check mode) and replaces dest when the content differs. */
async function download(
  ctx: ModuleContext,
  args: GetUrlArgs,
  o: {
    url: string;
    dest: string;
    writePath: string;
    state: PathState;
    want: Attributes;
    checksum: ReturnType<typeof parseChecksum>;
  },
): Promise<ModuleResult> {
  const { url, dest, writePath, state, want, checksum } = o;
  const failOn = (msg: string, data: Record<string, unknown> = {}): ModuleResult =>
    fail(msg, { url, ...data });

  const req: HttpRequest = {
    ...requestArgs(args),
    timeout: args.timeout,
    followRedirects: true,
  };
  const script = downloadScript({
    url,
    dest: writePath,
    ...(checksum ? { checksum } : {}),
    // Replacing keeps what was not asked for; ownership can only be carried over with privileges.
    ...((want.mode ?? state.mode) ? { mode: want.mode ?? state.mode } : {}),
    ...(want.owner ? { owner: want.owner } : ctx.become && state.owner ? { owner: state.owner } : {}),
    ...(want.group ? { group: want.group } : ctx.become && state.group ? { group: state.group } : {}),
  });
  // curl and wget read different configs: ask the host which one it has first.
  const tool = await execOn(ctx, `${toolLine(true)}\necho "$tool"`);
  if (tool.rc === 20) return failOn(tool.stderr.trim());
  let config: string;
  try {
    config = tool.stdout.trim() === 'curl' ? curlConfig(req) : wgetConfig(req);
  } catch (e) {
    return failOn((e as Error).message);
  }
  const r = await execOn(ctx, script, config);
  const out = kv(r.stdout);
  const status = Number(out.get('status') ?? 0);
  const data: Record<string, unknown> = { url, dest, status_code: status };
  if (r.rc === 22) return failOn(`Request failed: ${r.stderr.trim() || 'no answer'}`, data);
  if (r.rc === 23)
    return failOn(`Request failed: HTTP status ${status}`, { ...data, response: `HTTP Error ${status}` });
  if (r.rc === 24)
    return failOn(
      `The checksum for ${dest} did not match ${checksum?.hex}; it was: ${out.get('got')}. The file was not replaced`,
      data,
    );
  if (r.rc !== 0)
    return failOn(`cannot download ${url} to ${dest}: ${r.stderr.trim() || `exit ${r.rc}`}`, data);
  const size = Number(out.get('size') ?? 0);
  Object.assign(data, { size, checksum_src: out.get('sha1'), checksum_dest: out.get('sha1') });
  if (out.get('same') === '1') {
    const { attrs, changed, set } = attributesToSet(ctx, state, want, writePath, dest);
    await set();
    return {
      changed,
      msg: changed
        ? `content unchanged; ${describeAttributes(state, attrs)}`
        : `OK (${size} bytes): content unchanged`,
      data: { ...data, mode: want.mode ?? state.mode },
    };
  }
  return {
    changed: true,
    msg: `OK (${size} bytes): ${state.exists ? 'replaced' : 'downloaded'}`,
    data: { ...data, mode: want.mode ?? state.mode },
  };
}
