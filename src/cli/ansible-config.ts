// The defaults an Ansible user already keeps in ansible.cfg and ANSIBLE_* variables: inventory, remote_user,
// private_key_file, forks, timeout, become, become_user, vault_password_file. Found where Ansible looks:
// $ANSIBLE_CONFIG, ./ansible.cfg (not in a world-writable directory), ~/.ansible.cfg,
// /etc/ansible/ansible.cfg; the first one found is the only one read. The command line wins over the
// environment, which wins over the file. host_key_checking = False is reported and not followed: ewsplay
// accepts a host key only on --accept-new-host-keys.
import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { UsageError } from '../core/problems.js';

export interface AnsibleDefaults {
  /** The config file read, if any. */
  file?: string;
  inventory?: string[];
  remoteUser?: string;
  privateKeyFile?: string;
  forks?: string;
  timeout?: string;
  become?: boolean;
  becomeUser?: string;
  vaultPasswordFile?: string;
  /** host_key_checking was set to false (in the file or ANSIBLE_HOST_KEY_CHECKING). */
  hostKeyCheckingOff?: boolean;
  /** Notes for the user (a skipped ./ansible.cfg ...), printed as warnings. */
  warnings: string[];
}

type Kind = 'pathlist' | 'path' | 'string' | 'int' | 'bool';

/** Setting -> where Ansible reads it (section, key, environment variable) and its type. */
const SETTINGS: Record<
  Exclude<keyof AnsibleDefaults, 'file' | 'warnings'>,
  [string, string, string, Kind]
> = {
  inventory: ['defaults', 'inventory', 'ANSIBLE_INVENTORY', 'pathlist'],
  remoteUser: ['defaults', 'remote_user', 'ANSIBLE_REMOTE_USER', 'string'],
  privateKeyFile: ['defaults', 'private_key_file', 'ANSIBLE_PRIVATE_KEY_FILE', 'path'],
  forks: ['defaults', 'forks', 'ANSIBLE_FORKS', 'int'],
  timeout: ['defaults', 'timeout', 'ANSIBLE_TIMEOUT', 'int'],
  become: ['privilege_escalation', 'become', 'ANSIBLE_BECOME', 'bool'],
  becomeUser: ['privilege_escalation', 'become_user', 'ANSIBLE_BECOME_USER', 'string'],
  vaultPasswordFile: ['defaults', 'vault_password_file', 'ANSIBLE_VAULT_PASSWORD_FILE', 'path'],
  hostKeyCheckingOff: ['defaults', 'host_key_checking', 'ANSIBLE_HOST_KEY_CHECKING', 'bool'],
};

const TRUE = new Set(['y', 'yes', 'on', '1', 'true', 't']);
const FALSE = new Set(['n', 'no', 'off', '0', 'false', 'f']);

export async function ansibleDefaults(
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
  home = homedir(),
): Promise<AnsibleDefaults> {
  const out: AnsibleDefaults = { warnings: [] };
  const found = await configFile(env, cwd, home, out.warnings);
  const sections = found ? parseConfig(found.file, found.text) : new Map<string, Map<string, string>>();
  if (found) out.file = found.file;
  for (const [name, [section, key, envName, kind]] of Object.entries(SETTINGS)) {
    const fromEnv = env[envName];
    const fromFile = sections.get(section)?.get(key);
    const raw = fromEnv !== undefined && fromEnv !== '' ? fromEnv : fromFile;
    if (raw === undefined) continue;
    // Paths in the file are relative to the file; in the environment, to the working directory.
    const base = fromEnv !== undefined && fromEnv !== '' ? cwd : dirname(found!.file);
    const where = fromEnv !== undefined && fromEnv !== '' ? envName : `${found!.file}: [${section}] ${key}`;
    (out as unknown as Record<string, unknown>)[name] = convert(raw, kind, base, home, where, name);
  }
  if (out.hostKeyCheckingOff === false) delete out.hostKeyCheckingOff;
  return out;
}

/**
 * The defaults, with their warnings printed to stderr and, with -v, the file used (as Ansible's
 * "Using ... as config file").
 */
export async function announcedAnsibleDefaults(verbose = 0): Promise<AnsibleDefaults> {
  const cfg = await ansibleDefaults();
  for (const w of cfg.warnings) process.stderr.write(`[WARNING]: ${w}\n`);
  if (verbose > 0 && cfg.file) process.stdout.write(`Using ${cfg.file} as config file\n`);
  return cfg;
}

/** The inventory and vault password file of a command that takes only those (validate, inventory). */
export async function withInventoryDefaults<
  T extends { inventory?: string[]; vaultPasswordFile?: string; askVaultPass?: boolean; vaultId?: string[] },
>(opts: T): Promise<T> {
  const cfg = await announcedAnsibleDefaults();
  // A passphrase source on the command line (-J, --vault-id) replaces the configured file.
  const vaultFlag = opts.askVaultPass || (opts.vaultId?.length ?? 0) > 0;
  return {
    ...opts,
    ...(opts.inventory?.length || !cfg.inventory ? {} : { inventory: cfg.inventory }),
    ...(opts.vaultPasswordFile === undefined && !vaultFlag && cfg.vaultPasswordFile
      ? { vaultPasswordFile: cfg.vaultPasswordFile }
      : {}),
  };
}

function convert(raw: string, kind: Kind, base: string, home: string, where: string, name: string): unknown {
  const path = (p: string) => {
    const expanded = p === '~' ? home : p.startsWith('~/') ? join(home, p.slice(2)) : p;
    return isAbsolute(expanded) ? expanded : resolve(base, expanded);
  };
  switch (kind) {
    case 'pathlist':
      return raw
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean)
        .map(path);
    case 'path':
      return path(raw.trim());
    case 'int':
      if (!/^\d+$/.test(raw.trim())) throw new UsageError(`${where} must be a whole number, got '${raw}'`);
      return raw.trim();
    case 'bool': {
      const v = raw.trim().toLowerCase();
      if (!TRUE.has(v) && !FALSE.has(v)) throw new UsageError(`${where} must be true or false, got '${raw}'`);
      // host_key_checking is stored inverted: what matters is that it is off.
      return name === 'hostKeyCheckingOff' ? FALSE.has(v) : TRUE.has(v);
    }
    default:
      return raw.trim();
  }
}

async function configFile(
  env: NodeJS.ProcessEnv,
  cwd: string,
  home: string,
  warnings: string[],
): Promise<{ file: string; text: string } | undefined> {
  const candidates: string[] = [];
  if (env.ANSIBLE_CONFIG) {
    const given = resolve(cwd, env.ANSIBLE_CONFIG);
    const info = await stat(given).catch(() => undefined);
    candidates.push(info?.isDirectory() ? join(given, 'ansible.cfg') : given);
  }
  const here = await stat(cwd).catch(() => undefined);
  // Ansible ignores ./ansible.cfg in a world-writable directory: anyone could have put it there.
  if (here && (here.mode & 0o002) !== 0) {
    if (await stat(join(cwd, 'ansible.cfg')).catch(() => undefined))
      warnings.push(`ansible.cfg in ${cwd} is ignored: the directory is world-writable (as Ansible does)`);
  } else {
    candidates.push(join(cwd, 'ansible.cfg'));
  }
  candidates.push(join(home, '.ansible.cfg'), '/etc/ansible/ansible.cfg');
  for (const file of candidates) {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text !== undefined) return { file, text };
  }
  return undefined;
}

/** Python's configparser as Ansible sets it up: `key = value` or `key: value`, # and ; comments. */
export function parseConfig(file: string, text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  let lastKey: string | undefined;
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    if (/^\s*([#;].*)?$/.test(raw)) continue;
    const section = /^\[([^\]]+)\]\s*$/.exec(raw);
    if (section) {
      current = sections.get(section[1]!.trim()) ?? new Map();
      sections.set(section[1]!.trim(), current);
      lastKey = undefined;
      continue;
    }
    // An indented line continues the previous value.
    if (/^\s/.test(raw) && current && lastKey) {
      current.set(lastKey, `${current.get(lastKey)}\n${raw.trim()}`);
      continue;
    }
    const entry = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(raw);
    if (!entry || !current)
      throw new UsageError(
        `${file}:${i + 1}: cannot read this line of the Ansible configuration: '${raw.trim()}'`,
        'settings are `key = value` lines under a [section]',
      );
    lastKey = entry[1]!.trim().toLowerCase();
    // Only ';' starts an inline comment, as in Ansible's parser.
    current.set(lastKey, entry[2]!.replace(/\s;.*$/, '').trim());
  }
  return sections;
}
