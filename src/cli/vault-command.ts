// `ewsplay vault create | edit | view | encrypt | decrypt | rekey FILE`: age-encrypted files (passphrase),
// written atomically in place (temp file, fsync, rename), readable by `age -d`.
import { readFile, stat } from 'node:fs/promises';
import { ExitCode, UsageError } from '../core/problems.js';
import { Secrets } from '../core/secrets.js';
import { writeFileAtomic } from '../util/write-file-atomic.js';
import { decryptVault, encryptVault, isVault } from '../vault/age.js';
import { editText } from '../vault/editor.js';
import { passphraseSource } from '../vault/passphrase.js';
import { reportError } from './errors.js';

export type VaultAction = 'create' | 'edit' | 'view' | 'encrypt' | 'decrypt' | 'rekey';

export interface VaultFlags {
  vaultPasswordFile?: string;
  newVaultPasswordFile?: string;
}

export async function vaultCommand(action: VaultAction, file: string, flags: VaultFlags): Promise<number> {
  const secrets = new Secrets();
  const passphrase = async (confirm: boolean) => {
    const p = await passphraseSource({ passwordFile: flags.vaultPasswordFile, confirm })(file);
    secrets.add(p);
    return p;
  };
  const say = (s: string) => process.stderr.write(`${s}\n`);
  try {
    switch (action) {
      case 'create': {
        if (await exists(file))
          throw new UsageError(`${file} already exists`, `change it with: ewsplay vault edit ${file}`);
        const key = await passphrase(true);
        const text = await editText('', file);
        if (!text.trim()) {
          say(`nothing was written: ${file} not created`);
          return ExitCode.ok;
        }
        if (await exists(file))
          throw new UsageError(`${file} appeared while it was being edited: not overwritten`);
        await writeFileAtomic(file, await encryptVault(text, key), 'vault file');
        say(`created ${file}`);
        break;
      }
      case 'edit': {
        const { key, text } = await open(file, passphrase);
        const edited = await editText(text, file);
        if (edited === text) {
          say(`no changes: ${file} left as it was`);
          break;
        }
        await writeFileAtomic(file, await encryptVault(edited, key), 'vault file');
        say(`saved ${file}`);
        break;
      }
      case 'view':
        process.stdout.write((await open(file, passphrase)).text);
        break;
      case 'encrypt': {
        const data = await read(file);
        if (isVault(data))
          throw new UsageError(`${file} is already a vault`, `view it with: ewsplay vault view ${file}`);
        await writeFileAtomic(
          file,
          await encryptVault(data.toString('utf8'), await passphrase(true)),
          'vault file',
        );
        say(`encrypted ${file}`);
        break;
      }
      case 'decrypt':
        await writeFileAtomic(file, (await open(file, passphrase)).text, 'vault file');
        say(`decrypted ${file}`);
        break;
      case 'rekey': {
        const { text } = await open(file, passphrase);
        const next = await passphraseSource({
          passwordFile: flags.newVaultPasswordFile,
          env: {},
          confirm: true,
          label: 'New vault passphrase',
        })(`the new passphrase of ${file} (--new-vault-password-file)`);
        secrets.add(next);
        await writeFileAtomic(file, await encryptVault(text, next), 'vault file');
        say(`rekeyed ${file}`);
        break;
      }
    }
    return ExitCode.ok;
  } catch (e) {
    return reportError(e, (s) => secrets.mask(s));
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

async function read(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

async function open(
  file: string,
  passphrase: (confirm: boolean) => Promise<string>,
): Promise<{ key: string; text: string }> {
  const data = await read(file);
  if (!isVault(data))
    throw new UsageError(
      `${file} is not a vault (no age header)`,
      `encrypt it with: ewsplay vault encrypt ${file}`,
    );
  const key = await passphrase(false);
  return { key, text: await decryptVault(data, key, file) };
}
