// Ansible Vault's format (1.1 and 1.2, AES256), read so that a project's existing ansible-vault files and
// `!vault` values work unchanged with the same vault password: PBKDF2-SHA256 (10,000 rounds) derives an
// AES-256-CTR key, an HMAC-SHA256 key and the counter; the HMAC is checked before anything is decrypted.
import { createDecipheriv, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import { UsageError } from '../core/problems.js';

const HEADER = '$ANSIBLE_VAULT;';

/** True when the text is an Ansible vault (a whole file, or the value of a `!vault` tag). */
export function isAnsibleVault(data: Buffer | string): boolean {
  const text = typeof data === 'string' ? data : data.subarray(0, 32).toString('latin1');
  return text.trimStart().startsWith(HEADER);
}

/**
 * The plaintext of an Ansible vault. A wrong password and a damaged vault are usage errors naming `where`
 * (a file, or a file:line for an inline value), never quoting the content.
 */
export function decryptAnsibleVault(vault: string, password: string, where: string): string {
  const lines = vault.trim().split(/\r?\n/);
  const header = lines[0]!.trim().split(';');
  if (header[0] !== '$ANSIBLE_VAULT' || !['1.1', '1.2'].includes(header[1] ?? '') || header[2] !== 'AES256')
    throw new UsageError(
      `${where}: unsupported Ansible vault format '${lines[0]!.trim()}'`,
      'ewsplay reads Ansible vaults 1.1 and 1.2 with AES256',
    );
  const body = Buffer.from(lines.slice(1).join('').trim(), 'hex').toString('latin1');
  const [saltHex, hmacHex, cipherHex] = body.split('\n');
  if (!saltHex || !hmacHex || !cipherHex)
    throw new UsageError(`${where}: the Ansible vault is damaged`, 'encrypt it again with ansible-vault');
  const salt = Buffer.from(saltHex, 'hex');
  const ciphertext = Buffer.from(cipherHex, 'hex');
  const derived = pbkdf2Sync(password, salt, 10000, 80, 'sha256');
  const [aesKey, hmacKey, counter] = [
    derived.subarray(0, 32),
    derived.subarray(32, 64),
    derived.subarray(64),
  ];
  const expected = createHmac('sha256', hmacKey).update(ciphertext).digest();
  const given = Buffer.from(hmacHex, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    throw new UsageError(
      `${where}: the vault password does not open this Ansible vault (or the vault is damaged)`,
      'pass the password it was encrypted with (--vault-password-file, EWSPLAY_VAULT_PASSWORD, or asked on a terminal)',
    );
  const decipher = createDecipheriv('aes-256-ctr', aesKey, counter);
  const padded = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  // PKCS#7 padding to AES's 16-byte blocks.
  const pad = padded.at(-1) ?? 0;
  if (pad < 1 || pad > 16 || pad > padded.length)
    throw new UsageError(
      `${where}: the Ansible vault is damaged (bad padding)`,
      'encrypt it again with ansible-vault',
    );
  return padded.subarray(0, padded.length - pad).toString('utf8');
}

const INLINE =
  /^([ \t]*(?:- |[^#\n]*?:[ \t]+))!vault[ \t]+\|[-+]?[ \t]*\n((?:[ \t]+\$ANSIBLE_VAULT;[^\n]*\n)(?:[ \t]+[0-9a-fA-F]+[ \t]*(?:\n|$))+)/gm;

/** True when the YAML text holds `!vault |` values. */
export function hasInlineVaults(text: string): boolean {
  INLINE.lastIndex = 0;
  return text.includes('!vault') && INLINE.test(text);
}

/**
 * A YAML text with every `!vault |` value replaced by its plaintext, written as a double-quoted scalar on
 * the same lines (escaped line breaks), so positions in the file stay where they were. `decrypt` gets each
 * vault and the line it starts on.
 */
export function openInlineVaults(text: string, decrypt: (vault: string, line: number) => string): string {
  if (!text.includes('!vault')) return text;
  return text.replace(INLINE, (_match, lead: string, block: string, offset: number) => {
    const line = text.slice(0, offset).split('\n').length;
    const vault = block
      .split('\n')
      .map((l) => l.trim())
      .join('\n');
    const plain = decrypt(vault, line);
    // One line per line of the vault block, at its indentation, each an escaped line break (which adds
    // nothing to the value); the last one closes the quote.
    const indents = block
      .replace(/\n$/, '')
      .split('\n')
      .map((l) => /^[ \t]*/.exec(l)![0]);
    const rest = indents.map((indent, i) => `${indent}${i === indents.length - 1 ? '"' : '\\'}`).join('\n');
    return `${lead}${JSON.stringify(plain).slice(0, -1)}\\\n${rest}${block.endsWith('\n') ? '\n' : ''}`;
  });
}
