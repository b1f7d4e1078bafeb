// Where a command's vault passphrase comes from, as ansible-playbook's flags say it: --vault-password-file
// FILE, --ask-vault-pass (-J: asked on the terminal before anything runs, never echoed), or --vault-id
// label@source (source: a file, an executable printing the passphrase, or `prompt`). ewsplay decrypts every
// vault of a run with one passphrase, so one of them is given; with none, EWSPLAY_VAULT_PASSWORD or a
// prompt when a vault is met (vault/passphrase.ts).
import { UsageError } from '../core/problems.js';
import { type PassphraseSource, passphraseSource } from '../vault/passphrase.js';
import { canPrompt, promptHidden } from '../vault/prompt.js';

export interface VaultFlags {
  vaultPasswordFile?: string;
  askVaultPass?: boolean;
  vaultId?: string[];
}

export interface VaultId {
  label: string;
  /** A file (or executable), or 'prompt'. */
  source: string;
}

/** `label@source`, or a bare source (label `default`), as Ansible reads --vault-id. */
export function parseVaultId(value: string): VaultId {
  const at = value.indexOf('@');
  const id =
    at < 0 ? { label: 'default', source: value } : { label: value.slice(0, at), source: value.slice(at + 1) };
  if (!id.source || !id.label)
    throw new UsageError(
      `--vault-id '${value}': expected label@source`,
      'e.g. --vault-id prod@~/.vault-pass, --vault-id prod@prompt, or --vault-id ./vault-pass-script',
    );
  return id;
}

/** The one vault-id of the flags, if any; more than one passphrase source is a usage error. */
export function vaultIdOf(flags: VaultFlags): VaultId | undefined {
  const given = [
    ...(flags.vaultPasswordFile !== undefined ? ['--vault-password-file'] : []),
    ...(flags.askVaultPass ? ['--ask-vault-pass'] : []),
    ...(flags.vaultId ?? []).map((v) => `--vault-id ${v}`),
  ];
  if (given.length > 1)
    throw new UsageError(
      `${given.join(', ')}: ewsplay decrypts the vaults of a run with one passphrase`,
      'give one of --vault-password-file, --ask-vault-pass (-J), --vault-id',
    );
  const [one] = flags.vaultId ?? [];
  return one === undefined ? undefined : parseVaultId(one);
}

/**
 * The passphrase source of a command. A prompt (-J, --vault-id LABEL@prompt) is answered now, before the
 * command loads anything, as Ansible asks; a file or script is read when the first vault is met.
 */
export async function vaultPassphrase(flags: VaultFlags): Promise<PassphraseSource> {
  const id = vaultIdOf(flags);
  if (flags.askVaultPass || id?.source === 'prompt') {
    const flag = flags.askVaultPass ? '--ask-vault-pass' : `--vault-id ${id!.label}@prompt`;
    if (!canPrompt())
      throw new UsageError(
        `${flag} needs a terminal to ask on`,
        'pass --vault-password-file FILE, or set EWSPLAY_VAULT_PASSWORD',
      );
    const typed = await promptHidden(id ? `Vault password (${id.label}): ` : 'Vault password: ');
    if (!typed) throw new UsageError('empty vault passphrase', `${flag}: type the passphrase`);
    return () => Promise.resolve(typed);
  }
  return passphraseSource({ passwordFile: id ? id.source : flags.vaultPasswordFile });
}

/** The file a flag names for preflight's checks (--vault-id's source counts as --vault-password-file). */
export function vaultPasswordFileOf(flags: VaultFlags): string | undefined {
  const id = vaultIdOf(flags);
  return id && id.source !== 'prompt' ? id.source : flags.vaultPasswordFile;
}
