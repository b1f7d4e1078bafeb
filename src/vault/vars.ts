// Vault files as variables: a vars file (vars_files, group_vars, host_vars) whose bytes are an age file or an
// Ansible vault is decrypted on reading, and every value in it becomes a secret; `!vault` values inside a
// plain file are decrypted in place and become secrets. Loaders stay the same: they get text.
import { isMap, isScalar, LineCounter, parseDocument, visit } from 'yaml';
import { readInputBytes, readInputText } from '../core/input-file.js';
import { UsageError } from '../core/problems.js';
import type { Secrets } from '../core/secrets.js';
import { YAML_TOO_LARGE, yamlTooLargeAt } from '../core/yaml-size.js';
import { decryptVault, isVault } from './age.js';
import { decryptAnsibleVault, hasInlineVaults, isAnsibleVault, openInlineVaults } from './ansible-vault.js';
import type { PassphraseSource } from './passphrase.js';

/** Reads a vars file's text (what the YAML loaders parse). */
export type ReadVarsText = (file: string) => Promise<string>;

export const readPlainText: ReadVarsText = readInputText;

/** A reader that decrypts vaults with the run's passphrase and registers their values with `secrets`. */
export function vaultReader(passphrase: PassphraseSource, secrets: Secrets): ReadVarsText {
  const cache = new Map<string, Promise<string>>();
  const decrypt = async (file: string, data: Buffer): Promise<string> => {
    const key = await passphrase(`the vault ${file}`);
    secrets.add(key);
    const text = isAnsibleVault(data)
      ? decryptAnsibleVault(data.toString('utf8'), key, file)
      : await decryptVault(data, key, file);
    registerValues(text, file, secrets);
    return text;
  };
  const openInline = async (file: string, text: string): Promise<string> => {
    const key = await passphrase(`the !vault values of ${file}`);
    secrets.add(key);
    return openInlineVaults(text, (vault, line) => {
      const plain = decryptAnsibleVault(vault, key, `${file}:${line}`);
      secrets.add(plain);
      return plain;
    });
  };
  return async (file) => {
    const data = await readInputBytes(file);
    const whole = isVault(data) || isAnsibleVault(data);
    if (!whole && !hasInlineVaults(data.toString('utf8'))) return data.toString('utf8');
    let text = cache.get(file);
    if (!text) {
      text = whole ? decrypt(file, data) : openInline(file, data.toString('utf8'));
      cache.set(file, text);
    }
    return text;
  };
}

/**
 * Every scalar value of a vault (keys are variable names, not secrets) is registered. A broken vault is
 * reported here without its content, so no loader can quote a decrypted line in an error.
 */
function registerValues(text: string, file: string, secrets: Secrets): void {
  if (yamlTooLargeAt(text) !== undefined)
    throw new UsageError(`${file}: the decrypted vault: ${YAML_TOO_LARGE.message}`, YAML_TOO_LARGE.hint);
  const lines = new LineCounter();
  const doc = parseDocument(text, {
    version: '1.1',
    prettyErrors: false,
    uniqueKeys: false,
    lineCounter: lines,
  });
  const error = doc.errors[0];
  if (error)
    throw new UsageError(
      `${file}: the decrypted vault is not valid YAML (line ${lines.linePos(error.pos[0]).line}: ${error.code})`,
      `fix it with: ewsplay vault edit ${file}`,
    );
  if (
    doc.contents !== null &&
    !isMap(doc.contents) &&
    !(isScalar(doc.contents) && doc.contents.value === null)
  )
    throw new UsageError(
      `${file}: a vault used as vars must hold a mapping of variable names to values`,
      `fix it with: ewsplay vault edit ${file}`,
    );
  visit(doc, {
    Scalar(key, node) {
      if (key === 'key' || node.value === null || typeof node.value === 'boolean') return;
      secrets.add(node.value);
      if (node.source !== undefined) secrets.add(node.source);
    },
  });
}
