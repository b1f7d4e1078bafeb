// The vault's file format: age (age-encryption.org/v1) with a passphrase (scrypt recipient), ASCII-armored
// so a vault is text that git stores and diffs like any file. `age -d` / `age -p` read and write the same files.
import { UsageError } from '../core/problems.js';

// age-encryption (and its 50 crypto modules) loads only when a vault is really read or written: every run
// and validate imports this file to recognise vaults, and most have none (~70 ms of start-up otherwise).
const age = () => import('age-encryption');

export const ARMOR_BEGIN = '-----BEGIN AGE ENCRYPTED FILE-----';
const BINARY_BEGIN = 'age-encryption.org/v1\n';

/** True when the bytes are an age file, armored (what ewsplay writes) or binary (what `age` writes without -a). */
export function isVault(data: Buffer | string): boolean {
  const text = typeof data === 'string' ? data : data.subarray(0, 64).toString('latin1');
  return text.trimStart().startsWith(ARMOR_BEGIN) || text.startsWith(BINARY_BEGIN);
}

/**
 * Encrypts text with a passphrase. `workFactor` is scrypt's log2(N): age's default 18 (about a second here);
 * tests use less.
 */
export async function encryptVault(
  plaintext: string,
  passphrase: string,
  workFactor?: number,
): Promise<string> {
  const { armor, Encrypter } = await age();
  const e = new Encrypter();
  e.setPassphrase(passphrase);
  if (workFactor !== undefined) e.setScryptWorkFactor(workFactor);
  return armor.encode(await e.encrypt(plaintext));
}

/** Decrypts an age file; a wrong passphrase or a damaged file is a usage error naming the file. */
export async function decryptVault(data: Buffer, passphrase: string, file: string): Promise<string> {
  const { armor, Decrypter } = await age();
  let raw: Uint8Array;
  try {
    const text = data.subarray(0, 64).toString('latin1');
    raw = text.trimStart().startsWith(ARMOR_BEGIN) ? armor.decode(data.toString('utf8')) : data;
  } catch (e) {
    throw new UsageError(
      `${file}: damaged vault: ${e instanceof Error ? e.message : String(e)}`,
      'restore the file from version control',
    );
  }
  const d = new Decrypter();
  d.addPassphrase(passphrase);
  try {
    return await d.decrypt(raw, 'text');
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/no identity matched/.test(msg))
      throw new UsageError(
        `${file}: wrong vault passphrase`,
        'check --vault-password-file or EWSPLAY_VAULT_PASSWORD (the file must be encrypted with a passphrase, not an age key)',
      );
    throw new UsageError(
      `${file}: cannot decrypt the vault: ${msg}`,
      'restore the file from version control',
    );
  }
}
