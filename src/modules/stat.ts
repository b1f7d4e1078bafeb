// stat: facts about a path, registered under `stat` with Ansible's field names. Read-only: never changed,
// and it runs in check mode too (its answer is what later `when:` conditions need).
import type { Module } from './module.js';
import { probePath } from './remote.js';

export const statModule: Module = {
  name: 'stat',
  summary: 'Register facts about a path (exists, isdir, mode, owner, size, checksum) under `stat`',
  // As Ansible's: checksum and checksum_algo name the algorithm (they are not switches).
  aliases: {
    dest: 'path',
    name: 'path',
    checksum: 'checksum_algorithm',
    checksum_algo: 'checksum_algorithm',
  },
  args: {
    type: 'object',
    additionalProperties: false,
    required: ['path'],
    properties: {
      path: { type: 'string', minLength: 1, description: 'Path on the target' },
      follow: { type: 'boolean', default: false, description: 'Follow a symbolic link to what it points at' },
      get_checksum: {
        type: 'boolean',
        default: true,
        description:
          'Compute checksums of a regular file (stat.checksum is sha1 as in Ansible; stat.sha256 too)',
      },
      checksum_algorithm: {
        type: 'string',
        enum: ['sha1', 'sha256'],
        default: 'sha1',
        description: 'Which digest stat.checksum holds (sha256 is always given as stat.sha256 as well)',
      },
    },
  },
  check: 'full',
  async run(ctx, args) {
    const path = String(args.path);
    const wantChecksum = args.get_checksum !== false;
    const s = await probePath(ctx, path, {
      follow: args.follow === true,
      ...(wantChecksum ? { checksums: ['sha1', 'sha256'] } : {}),
    });
    if (!s.exists) return { changed: false, data: { stat: { exists: false } } };
    const stat: Record<string, unknown> = {
      exists: true,
      path,
      isdir: s.type === 'directory',
      isreg: s.type === 'file',
      islnk: s.isLink,
      mode: s.mode,
      uid: s.uid,
      gid: s.gid,
      pw_name: s.owner,
      gr_name: s.group,
      size: s.size,
      mtime: s.mtime,
    };
    if (wantChecksum && s.type === 'file') {
      stat.checksum = args.checksum_algorithm === 'sha256' ? s.sha256 : s.sha1;
      stat.sha256 = s.sha256;
    }
    return { changed: false, data: { stat } };
  },
};
