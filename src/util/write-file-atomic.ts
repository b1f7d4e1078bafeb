// Control-node files that must never be seen half written (reports, state, vaults, the lab's pid list).
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fsReason, WriteTargetError, writeTarget } from './write-target.js';

/**
 * Writes a file so that readers see the old or the new content, never a part: temp, fsync, rename. Only a
 * regular file is ever replaced (a symlink to one is written through); anything else is refused with a
 * WriteTargetError, as is a write that fails (full disk, read-only file system), in one sentence naming
 * `label` and the path. `durable: false` leaves out the two fsyncs (a few ms each): still never seen half
 * written, but a power cut right after may lose it, which suits a run's report, not its state.
 */
export async function writeFileAtomic(
  path: string,
  content: string,
  label = 'file',
  { durable = true }: { durable?: boolean } = {},
): Promise<void> {
  const target = await writeTarget(label, path);
  const dir = dirname(target);
  const tmp = join(dir, `.${randomBytes(6).toString('hex')}.tmp`);
  const failed = (e: unknown) =>
    new WriteTargetError(`${label} ${path} could not be written: ${fsReason(e)}`);
  try {
    await mkdir(dir, { recursive: true });
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(content);
      if (durable) await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw failed(e);
  }
  // The rename itself must reach the disk too.
  if (!durable) return;
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (e) {
    throw failed(e);
  }
}
