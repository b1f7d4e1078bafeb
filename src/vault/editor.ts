// Editing a vault: the plaintext exists only in a private directory (0700) under the system temp
// directory, as a 0600 file, for as long as the editor runs; it is removed afterwards whatever happens.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { UsageError } from '../core/problems.js';

/** Opens `text` in $VISUAL / $EDITOR (default vi) and returns what the user saved. */
export async function editText(text: string, name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ewsplay-vault-')); // mkdtemp creates it 0700
  const file = join(dir, basename(name).replace(/\.age$/, '') || 'vault.yml');
  // The editor owns the terminal: Ctrl-C is its business, and the temp directory must still be removed.
  const ignore = () => undefined;
  process.on('SIGINT', ignore);
  try {
    await writeFile(file, text, { mode: 0o600 });
    const editor = process.env.VISUAL || process.env.EDITOR || 'vi';
    // Through sh, so EDITOR may carry arguments ("code --wait"); the file name is passed as "$1".
    const rc = await new Promise<number>((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', `${editor} "$1"`, 'sh', file], { stdio: 'inherit' });
      child.on('error', reject);
      child.on('close', (code) => resolve(code ?? 1));
    });
    if (rc !== 0)
      throw new UsageError(
        `the editor (${editor}) exited with status ${rc}: the vault was left unchanged`,
        'set EDITOR to an editor that waits until the file is closed',
      );
    return await readFile(file, 'utf8');
  } finally {
    process.off('SIGINT', ignore);
    await rm(dir, { recursive: true, force: true });
  }
}
