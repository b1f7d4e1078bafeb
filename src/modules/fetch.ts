// fetch: copies a file FROM the host to the control node, as Ansible's fetch: into
// <dest>/<inventory_hostname>/<src>, or exactly <dest> with flat: true. One probe (sha1, as Ansible compares)
// decides; a local copy with the same checksum is not transferred again and reports ok.
// Deviation on purpose: Ansible's fetch skips in check mode ("check mode not (yet) supported"); ewsplay
// predicts from the checksums and writes nothing.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, normalize, resolve, sep } from 'node:path';
import { expandTilde } from '../util/expand-tilde.js';
import { defineModule, fail, planned } from './kit.js';
import type { Module, ModuleContext, ModuleResult } from './module.js';
import { type PathState, probePath, sha1 } from './remote.js';
import { slurpRemote } from './slurp.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

/** Where the file lands on the control node (Ansible's rules; a relative dest is the playbook's). */
export function fetchDestination(
  ctx: Pick<ModuleContext, 'baseDir' | 'host' | 'vars'>,
  src: string,
  dest: string,
  flat: boolean,
): string {
  const fromPlaybook = (p: string) => (isAbsolute(p) ? p : resolve(ctx.baseDir, p));
  let out = expandTilde(dest);
  if (flat) {
    if (out.endsWith('/') || out.endsWith(sep)) out = join(out, basename(src));
    return normalize(fromPlaybook(out));
  }
  const host = typeof ctx.vars.inventory_hostname === 'string' ? ctx.vars.inventory_hostname : ctx.host;
  return normalize(`${fromPlaybook(out)}/${host}/${src}`);
}

/** sha1 of a local file, or undefined when there is none (or it is not a file). */
async function localFile(path: string): Promise<{ isDir: boolean; content?: Buffer }> {
  try {
    const st = await stat(path);
    if (st.isDirectory()) return { isDir: true };
    return { isDir: false, content: await readFile(path) };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { isDir: false };
    throw e;
  }
}

/** fetch's arguments, as its schema declares them (defaults applied). */
interface FetchArgs {
  src: string;
  dest: string;
  flat: boolean;
  fail_on_missing: boolean;
  validate_checksum: boolean;
}

export const fetchModule: Module = defineModule<FetchArgs>({
  name: 'fetch',
  summary: 'Copy a file from the host to the control node (<dest>/<host>/<src>, or <dest> with flat)',
  aliases: { validate_md5: 'validate_checksum' },
  args: {
    type: 'object',
    additionalProperties: false,
    required: ['src', 'dest'],
    properties: {
      src: { type: 'string', minLength: 1, description: 'The file on the host (a file, not a directory)' },
      dest: {
        type: 'string',
        minLength: 1,
        description:
          'A directory on the control node (relative: to the playbook); the file goes to <dest>/<inventory_hostname>/<src>',
      },
      flat: {
        type: 'boolean',
        default: false,
        description: 'Put the file at dest itself (a dest ending in / receives it by its name)',
      },
      fail_on_missing: {
        type: 'boolean',
        default: true,
        description: 'Fail when the file cannot be read (false: report ok and carry on)',
      },
      validate_checksum: {
        type: 'boolean',
        default: true,
        description: "Check that the fetched bytes have the host file's checksum",
      },
    },
  },
  check: 'full',
  async run(ctx, args) {
    const { src, flat, fail_on_missing: failOnMissing } = args;
    const cannot = (msg: string): ModuleResult =>
      failOnMissing
        ? fail(msg, { file: src })
        : { changed: false, msg: `${msg}, not transferring, ignored`, data: { file: src } };

    let state: PathState;
    try {
      state = await probePath(ctx, src, { checksums: ['sha1'] });
    } catch (e) {
      const m = (e as Error).message;
      if (/ermission denied/.test(m)) return cannot('no read permission on remote file');
      throw e;
    }
    if (!state.exists) return cannot('the remote file does not exist');
    if (state.type === 'directory')
      return cannot('remote file is a directory, fetch cannot work on directories');

    const destArg = args.dest;
    if (flat && !destArg.endsWith('/')) {
      const asGiven = await localFile(fetchDestination(ctx, src, destArg, true));
      if (asGiven.isDir)
        return fail(
          'dest is an existing directory, use a trailing slash if you want to fetch src into that directory',
        );
    }
    const dest = fetchDestination(ctx, src, destArg, flat);
    const local = await localFile(dest);
    if (local.isDir) return fail(`calculated dest '${dest}' is an existing directory, use another path`);
    const remoteChecksum = state.sha1;
    if (local.content && remoteChecksum && sha1(local.content) === remoteChecksum)
      return {
        changed: false,
        data: { md5sum: md5(local.content), file: src, dest, checksum: remoteChecksum },
      };
    const prediction: ModuleResult = {
      changed: true,
      msg: `would fetch ${src} to ${dest}`,
      data: { file: src, dest, remote_checksum: remoteChecksum },
    };
    return planned(prediction, async () => {
      // Without become the connection reads it (SFTP for SSH); with become, through sudo's shell, as
      // Ansible uses slurp then.
      let content: Buffer;
      if (ctx.become) {
        const r = await slurpRemote(ctx, src);
        if (!r.ok)
          return cannot(
            r.why === 'unreadable' ? 'no read permission on remote file' : 'the remote file does not exist',
          );
        content = r.content;
      } else {
        content = await ctx.conn.get(src, { timeoutMs: ctx.timeoutMs, signal: ctx.signal });
      }
      const checksum = sha1(content);
      // Checked before writing (Ansible checks after and leaves the bad copy behind): a file that changed
      // while it was read is not left at dest as if it were the host's.
      if (args.validate_checksum && remoteChecksum && checksum !== remoteChecksum)
        return fail('checksum mismatch', { file: src, dest, checksum, remote_checksum: remoteChecksum });
      await mkdir(dirname(dest), { recursive: true });
      const tmp = join(dirname(dest), `.ewsplay-fetch-${randomBytes(6).toString('hex')}`);
      try {
        await writeFile(tmp, content);
        await rename(tmp, dest);
      } catch (e) {
        await rm(tmp, { force: true });
        throw e;
      }
      return {
        changed: true,
        msg: local.content ? `${dest} updated` : `fetched to ${dest}`,
        data: {
          md5sum: md5(content),
          dest,
          remote_md5sum: null,
          checksum,
          remote_checksum: remoteChecksum,
        },
      };
    });
  },
});
