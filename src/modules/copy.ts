// copy: puts a file on the target from inline `content` or a control-node `src`. One probe round trip
// decides; an unchanged file (same sha256, mode and owner) is never transferred.
import { posix } from 'node:path';
import type { FileDiff } from '../core/file-diff.js';
import { defineModule, fail, type Planned, planned } from './kit.js';
import type { Module, ModuleContext, ModuleResult } from './module.js';
import {
  type Attributes,
  attributeChanges,
  attributeCommands,
  attributeText,
  backupFile,
  describeAttributes,
  diffText,
  execOk,
  hasAttributes,
  MODE_SCHEMA,
  normalizeMode,
  probePath,
  readControlFile,
  sha1,
  sha256,
  writeFile,
} from './remote.js';

/** Files larger than this are not read back for --diff. */
const DIFF_LIMIT = 256 * 1024;

export interface EnsureOptions extends Attributes {
  backup?: boolean;
  /** false: leave an existing file alone (Ansible's force: no). */
  force?: boolean;
}

/**
 * Makes `dest` hold exactly `content` with the wanted attributes. Shared by copy and template.
 * Attributes not asked for are kept from the existing file.
 */
export async function ensureContent(
  ctx: ModuleContext,
  dest: string,
  content: Buffer,
  opts: EnsureOptions,
): Promise<ModuleResult | Planned> {
  const state = await probePath(ctx, dest, {
    checksums: ['sha256'],
    ...(ctx.diff ? { contentLimit: DIFF_LIMIT } : {}),
  });
  // In check mode an earlier task (file: state=directory) may be what creates the directory: predict the
  // write and say why, where Ansible would fail the whole check run. The real run fails.
  if (!state.parentExists)
    return planned(
      {
        changed: true,
        msg: `would create ${dest}`,
        ...(ctx.diff
          ? {
              diff: [
                {
                  path: dest,
                  before: '',
                  after: diffText(
                    content.length <= DIFF_LIMIT ? content : undefined,
                    content.length,
                    DIFF_LIMIT,
                  ),
                },
              ],
            }
          : {}),
        warnings: [
          `${posix.dirname(dest)} does not exist yet; the real run fails unless an earlier task creates it`,
        ],
      },
      async () => fail(`destination directory ${posix.dirname(dest)} does not exist`),
    );
  if (state.exists && state.type !== 'file') return fail(`${dest} exists and is a ${state.type}, not a file`);

  // A symlinked dest: the file it points to is what gets written (Ansible's follow: yes).
  const writePath = state.realPath ?? dest;
  const data: Record<string, unknown> = {
    dest,
    checksum: sha1(content),
    sha256: sha256(content),
    size: content.length,
  };
  if (state.exists && opts.force === false) {
    return {
      changed: false,
      msg: 'file exists and force is false: left alone',
      data: { ...data, mode: state.mode },
    };
  }
  const want: Attributes = {
    ...(opts.mode ? { mode: opts.mode } : {}),
    ...(opts.owner ? { owner: opts.owner } : {}),
    ...(opts.group ? { group: opts.group } : {}),
  };
  const contentChanged = !state.exists || state.sha256 !== data.sha256;
  const attrs = state.exists ? attributeChanges(state, want) : want;
  const changed = contentChanged || hasAttributes(attrs);
  data.mode = want.mode ?? state.mode ?? '0644';
  data.state = 'file';

  const notes: string[] = [];
  if (!state.exists) notes.push('file created');
  else if (contentChanged) notes.push('content changed');
  if (state.exists && hasAttributes(attrs)) notes.push(describeAttributes(state, attrs));

  const diff: FileDiff[] = [];
  if (ctx.diff && contentChanged)
    diff.push({
      path: dest,
      before: state.exists ? diffText(state.content, state.size, DIFF_LIMIT) : '',
      after: diffText(content.length <= DIFF_LIMIT ? content : undefined, content.length, DIFF_LIMIT),
    });
  if (ctx.diff && state.exists && hasAttributes(attrs))
    diff.push({
      path: `${dest} (attributes)`,
      before: attributeText({ mode: state.mode, owner: state.owner, group: state.group }),
      after: attributeText({ mode: state.mode, owner: state.owner, group: state.group, ...attrs }),
    });

  const result: ModuleResult = {
    changed,
    ...(changed ? { msg: notes.join('; ') } : {}),
    ...(diff.length > 0 ? { diff } : {}),
    data,
  };
  if (!changed) return result;
  return planned(result, async () => {
    if (contentChanged) {
      if (opts.backup && state.exists) data.backup_file = await backupFile(ctx, writePath);
      // The file is replaced (temp + rename): carry over what was not asked for. Ownership can only be
      // carried over with privileges.
      await writeFile(ctx, writePath, content, {
        mode: want.mode ?? state.mode ?? '0644',
        ...(want.owner ? { owner: want.owner } : ctx.become && state.owner ? { owner: state.owner } : {}),
        ...(want.group ? { group: want.group } : ctx.become && state.group ? { group: state.group } : {}),
      });
    } else {
      await execOk(ctx, attributeCommands(writePath, attrs).join(' && '), `cannot set attributes of ${dest}`);
    }
    return result; // its data now names the backup
  });
}

export function stringArg(args: object, name: string): string | undefined {
  const v = (args as Record<string, unknown>)[name];
  return v === undefined || v === null ? undefined : String(v);
}

/** The arguments OWNERSHIP_SCHEMA declares. */
export interface OwnershipArgs {
  mode?: string | number;
  owner?: string;
  group?: string;
}

export function ownershipArgs(args: OwnershipArgs | Record<string, unknown>): Attributes {
  const mode = normalizeMode(args.mode);
  const owner = stringArg(args, 'owner');
  const group = stringArg(args, 'group');
  return { ...(mode ? { mode } : {}), ...(owner ? { owner } : {}), ...(group ? { group } : {}) };
}

export const OWNERSHIP_SCHEMA = {
  mode: MODE_SCHEMA,
  owner: { type: 'string', minLength: 1, description: 'User name (or numeric uid) that should own the file' },
  group: { type: 'string', minLength: 1, description: 'Group name (or numeric gid) of the file' },
} as const;

/** The path to write: a directory `dest` (or one ending in /) receives the file under the source's name. */
async function destination(ctx: ModuleContext, dest: string, srcName: string | undefined): Promise<string> {
  if (srcName === undefined) return dest;
  if (dest.endsWith('/')) return posix.join(dest, srcName);
  const probe = await probePath(ctx, dest);
  return probe.exists && probe.type === 'directory' ? posix.join(dest, srcName) : dest;
}

/** copy's arguments, as its schema declares them (defaults applied). */
interface CopyArgs extends OwnershipArgs {
  content?: string;
  src?: string;
  dest: string;
  backup: boolean;
  force: boolean;
}

export const copyModule: Module = defineModule<CopyArgs>({
  name: 'copy',
  summary: 'Put a file on the target from inline content or a control-node file (mode, owner, backup)',
  args: {
    type: 'object',
    additionalProperties: false,
    required: ['dest'],
    // Exactly one of content and src. (Subschemas declare what they require, for Ajv's strict mode.)
    oneOf: [
      { properties: { content: true }, required: ['content'] },
      { properties: { src: true }, required: ['src'] },
    ],
    properties: {
      content: { type: 'string', description: 'The file content (give this or src)' },
      src: {
        type: 'string',
        minLength: 1,
        description: 'A file on the control node, relative to the playbook (its files/ folder first)',
      },
      dest: {
        type: 'string',
        minLength: 1,
        description:
          'Path on the target; an existing directory (or a path ending in /) receives src by its name',
      },
      ...OWNERSHIP_SCHEMA,
      backup: {
        type: 'boolean',
        default: false,
        description: 'Keep a copy <dest>.<timestamp>~ before overwriting',
      },
      force: {
        type: 'boolean',
        default: true,
        description: 'false: only create the file when it does not exist',
      },
    },
  },
  check: 'full',
  async run(ctx, args) {
    const { dest } = args;
    let content: Buffer;
    let srcName: string | undefined;
    if (typeof args.content === 'string') {
      if (dest.endsWith('/')) return fail('dest must be a file path when content is given');
      content = Buffer.from(args.content, 'utf8');
    } else if (typeof args.src === 'string') {
      content = (await readControlFile(ctx, args.src, 'files')).content;
      srcName = posix.basename(args.src);
    } else {
      return fail('give either content or src');
    }
    const target = await destination(ctx, dest, srcName);
    return ensureContent(ctx, target, content, {
      ...ownershipArgs(args),
      backup: args.backup,
      force: args.force,
    });
  },
});
