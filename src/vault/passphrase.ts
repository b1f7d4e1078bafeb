// Where the vault passphrase comes from, in this order: --vault-password-file (a file holding it, or an
// executable printing it, as Ansible's), the EWSPLAY_VAULT_PASSWORD variable, a prompt on a terminal.
// It is asked for only when a vault is met, once per run.
import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { readInputText } from '../core/input-file.js';
import { UsageError } from '../core/problems.js';
import { canPrompt, promptHidden } from './prompt.js';

export const VAULT_PASSWORD_ENV = 'EWSPLAY_VAULT_PASSWORD';
const SCRIPT_TIMEOUT_MS = 30_000;

export interface PassphraseOptions {
  /** --vault-password-file */
  passwordFile?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Ask twice on a terminal (a passphrase that encrypts). */
  confirm?: boolean;
  /** What the prompt says. */
  label?: string;
}

/** The passphrase getter: resolved on the first call, then remembered. `why` names what needs it. */
export type PassphraseSource = (why: string) => Promise<string>;

export function passphraseSource(opts: PassphraseOptions): PassphraseSource {
  let found: Promise<string> | undefined;
  return (why) => {
    found ??= findPassphrase(opts);
    // Remembered once, but a missing passphrase is reported for what each caller needed it for.
    return found.catch((e: unknown) => {
      throw e === NO_PASSPHRASE ? noPassphrase(why) : e;
    });
  };
}

const NO_PASSPHRASE = Symbol('no passphrase source');

function noPassphrase(why: string): UsageError {
  return new UsageError(
    `a vault passphrase is needed for ${why}`,
    `pass --vault-password-file FILE, set ${VAULT_PASSWORD_ENV}, or run on a terminal to be asked`,
  );
}

async function findPassphrase(opts: PassphraseOptions): Promise<string> {
  if (opts.passwordFile) return readPasswordFile(opts.passwordFile);
  const fromEnv = (opts.env ?? process.env)[VAULT_PASSWORD_ENV];
  if (fromEnv) return fromEnv;
  if (!canPrompt()) throw NO_PASSPHRASE;
  const label = opts.label ?? 'Vault passphrase';
  const first = await promptHidden(`${label}: `);
  if (!first) throw new UsageError('empty vault passphrase');
  if (opts.confirm && (await promptHidden(`Confirm ${label.toLowerCase()}: `)) !== first)
    throw new UsageError('the passphrases do not match', 'type the same passphrase twice');
  return first;
}

/** A password file holds the passphrase (surrounding whitespace stripped); an executable one prints it. */
export async function readPasswordFile(file: string): Promise<string> {
  const path = resolve(file);
  let text: string;
  try {
    const executable = await access(path, constants.X_OK).then(
      () => true,
      () => false,
    );
    text = executable
      ? (await promisify(execFile)(path, [], { timeout: SCRIPT_TIMEOUT_MS, encoding: 'utf8' })).stdout
      : await readInputText(path);
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new UsageError(
      `cannot read the vault password file ${file}: ${why}`,
      'pass --vault-password-file with a readable file holding the passphrase on its first line',
    );
  }
  const passphrase = text.trim();
  if (!passphrase) throw new UsageError(`the vault password file ${file} is empty`);
  return passphrase;
}
