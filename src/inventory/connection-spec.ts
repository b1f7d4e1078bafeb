// From a host's Ansible connection variables to the settings our transports take. Ansible's names (and its
// older aliases) are read, so an existing inventory connects the same way; `ewsplay_local_root` is ours.
import { resolve } from 'node:path';
import type { ConnectionSpec } from '../connection/connection.js';
import { parseJumpHosts } from '../connection/ssh-config.js';
import { type SourcePos, UsageError, UserError } from '../core/problems.js';
import { expandTilde } from '../util/expand-tilde.js';

/** Variables whose values are secrets, whatever their name's suffix. */
export const SECRET_VAR_NAMES: readonly string[] = [
  'ansible_password',
  'ansible_ssh_pass',
  'ansible_become_password',
  'ansible_become_pass',
  'ansible_ssh_private_key_passphrase',
];
const SECRET_SUFFIXES = ['_password', '_secret', '_token', '_passphrase'];

/** True for a variable whose value must be registered with Secrets and masked everywhere. */
export function isSecretVarName(name: string): boolean {
  return SECRET_VAR_NAMES.includes(name) || SECRET_SUFFIXES.some((s) => name.endsWith(s));
}

const CONNECTIONS: Record<string, 'local' | 'ssh'> = {
  ssh: 'ssh',
  'ansible.builtin.ssh': 'ssh',
  smart: 'ssh',
  paramiko: 'ssh',
  paramiko_ssh: 'ssh',
  'ansible.builtin.paramiko_ssh': 'ssh',
  local: 'local',
  'ansible.builtin.local': 'local',
};

/** The connection types ewsplay knows (ansible_connection, a play's connection:, -c). */
export const CONNECTION_NAMES: readonly string[] = Object.keys(CONNECTIONS);

const SHELL_TYPES: Record<string, ConnectionSpec['shellType']> = {
  sh: 'sh',
  bash: 'sh',
  csh: 'sh',
  fish: 'sh',
  powershell: 'powershell',
  cmd: 'cmd',
};

// Of the raw OpenSSH options Ansible passes through, the known_hosts ones and ProxyJump (-J) have a meaning
// here; the rest are reported.
const SSH_ARG_VARS = ['ansible_ssh_common_args', 'ansible_ssh_extra_args'];

export interface ConnectionDefaults {
  connectTimeoutMs: number;
  knownHostsFile?: string;
  acceptNewHostKeys?: boolean;
  /** From the command line (-u, --private-key, -k, -c, --ssh-*-args): the inventory's variables win. */
  user?: string;
  privateKeyFile?: string;
  password?: string;
  connectionType?: string;
  sshCommonArgs?: string;
  sshExtraArgs?: string;
}

/** Where a variable's value was written, when known (Inventory.varSource). */
export type VarPosition = (name: string) => SourcePos | undefined;

export function connectionSpec(
  host: string,
  vars: Record<string, unknown>,
  defaults: ConnectionDefaults,
  positionOf: VarPosition = () => undefined,
): ConnectionSpec {
  const bad = (name: string, message: string, hint?: string): never => {
    const pos = positionOf(name);
    if (pos) throw UserError.at(pos, message, hint);
    throw new UsageError(`host '${host}': ${message}`, hint);
  };
  const text = (...names: string[]): string | undefined => {
    for (const name of names) {
      const v = vars[name];
      if (v === undefined || v === null) continue;
      if (typeof v === 'string' || typeof v === 'number') return String(v);
      bad(name, `${name} must be a string, not ${Array.isArray(v) ? 'a list' : typeof v}`);
    }
    return undefined;
  };
  const integer = (name: string, min: number, max: number): number | undefined => {
    const raw = text(name);
    if (raw === undefined) return undefined;
    const n = Number(raw.trim());
    if (!/^\s*[0-9]+\s*$/.test(raw) || n < min || n > max)
      bad(name, `${name} must be a number from ${min} to ${max}, not '${raw}'`);
    return n;
  };

  const connectionName = text('ansible_connection') ?? defaults.connectionType ?? 'ssh';
  const connection = CONNECTIONS[connectionName];
  if (!connection)
    bad('ansible_connection', `unknown connection '${connectionName}'`, 'ewsplay connects with ssh or local');
  const givenPort = integer('ansible_port', 1, 65535) ?? integer('ansible_ssh_port', 1, 65535);
  const port = givenPort ?? 22;
  const timeoutSec = integer('ansible_ssh_timeout', 1, 3600) ?? integer('ansible_timeout', 1, 3600);
  // The command line's --ssh-common-args / --ssh-extra-args where the host has no such variable.
  const argsOf = (n: string) =>
    text(n) ?? (n === 'ansible_ssh_common_args' ? defaults.sshCommonArgs : defaults.sshExtraArgs) ?? '';
  const sshArgs = parseSshArgs(SSH_ARG_VARS.map(argsOf).join(' '));
  const jump =
    sshArgs.jump === undefined
      ? undefined
      : parseJumpHosts(sshArgs.jump, (message) =>
          bad(
            // The variable that holds it, for the problem's position (only looked for on a mistake).
            SSH_ARG_VARS.find((n) => parseSshArgs(argsOf(n)).jump !== undefined)!,
            message,
            'write ProxyJump as [user@]host[:port], several separated by commas: -o ProxyJump=admin@bastion.example.com:2222',
          ),
        );
  const shellName = text('ansible_shell_type');
  const shellType = shellName === undefined ? undefined : SHELL_TYPES[shellName];
  if (shellName !== undefined && !shellType)
    bad(
      'ansible_shell_type',
      `unknown shell type '${shellName}'`,
      'use sh for Unix hosts, powershell or cmd for Windows hosts with OpenSSH',
    );
  const root = text('ewsplay_local_root');
  if (root !== undefined && connection !== 'local')
    bad('ewsplay_local_root', 'ewsplay_local_root applies only to ansible_connection: local');

  const addressVar = ['ansible_host', 'ansible_ssh_host'].find(
    (n) => vars[n] !== undefined && vars[n] !== null,
  );
  const address = addressVar === undefined ? undefined : text(addressVar);
  // An empty address would connect to this machine (Node reads '' as localhost) and trust its key there.
  if (addressVar !== undefined && address?.trim() === '')
    bad(
      addressVar,
      `${addressVar} of host '${host}' is empty`,
      "give the host's name or IP address, or remove the variable to connect to the inventory name",
    );
  const spec: ConnectionSpec = {
    host,
    connection: connection!,
    address: address ?? host,
    port,
    connectTimeoutMs: timeoutSec !== undefined ? timeoutSec * 1000 : defaults.connectTimeoutMs,
  };
  const optional: Partial<ConnectionSpec> = {
    user: text('ansible_user', 'ansible_ssh_user') ?? defaults.user,
    privateKeyFile: expandTilde(
      text('ansible_ssh_private_key_file', 'ansible_private_key_file') ?? defaults.privateKeyFile,
    ),
    privateKeyPassphrase: text('ansible_ssh_private_key_passphrase'),
    password: text('ansible_password', 'ansible_ssh_pass') ?? defaults.password,
    becomePassword: text('ansible_become_password', 'ansible_become_pass'),
    knownHostsFile: expandTilde(
      text('ansible_ssh_known_hosts_file') ?? sshArgs.knownHostsFile ?? defaults.knownHostsFile,
    ),
    acceptNewHostKeys: sshArgs.acceptNewHostKeys ?? defaults.acceptNewHostKeys,
    root: root === undefined ? undefined : resolve(expandTilde(root)!),
    shellType,
    jump,
    // Not given: ssh_config's Port may say otherwise (as with Ansible, which passes no port then).
    defaultPort: givenPort === undefined ? true : undefined,
    sshConfigFile: expandTilde(sshArgs.configFile),
  };
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) (spec as unknown as Record<string, unknown>)[key] = value;
  }
  return spec;
}

/**
 * Settings in the host's vars that ewsplay does not apply, each as a sentence for a warning.
 * Raw OpenSSH options are not passed on because ewsplay speaks SSH itself.
 */
export function ignoredConnectionSettings(vars: Record<string, unknown>): string[] {
  const notes: string[] = [];
  for (const name of SSH_ARG_VARS) {
    const value = vars[name];
    if (typeof value !== 'string' || value.trim() === '') continue;
    const ignored = parseSshArgs(value).ignored;
    if (ignored.length > 0)
      notes.push(
        `${name}: ${ignored.join(' ')} ignored (only -o UserKnownHostsFile, -o StrictHostKeyChecking=accept-new, -o ProxyJump / -J and -F are honoured)`,
      );
  }
  return notes;
}

/**
 * --ssh-common-args / --ssh-extra-args, checked once before any host is touched: a ProxyJump that is not
 * [user@]host[:port] is refused; what is ignored is told, as for the inventory's variables.
 */
export function sshArgsNotes(flag: string, args: string): string[] {
  const parsed = parseSshArgs(args);
  if (parsed.jump !== undefined)
    parseJumpHosts(parsed.jump, (message) => {
      throw new UsageError(
        `${flag}: ${message}`,
        'write ProxyJump as [user@]host[:port], several separated by commas: -J admin@bastion.example.com:2222',
      );
    });
  return parsed.ignored.length > 0
    ? [
        `${flag}: ${parsed.ignored.join(' ')} ignored (only -o UserKnownHostsFile, -o StrictHostKeyChecking=accept-new, -o ProxyJump / -J and -F are honoured)`,
      ]
    : [];
}

interface SshArgs {
  knownHostsFile?: string;
  acceptNewHostKeys?: boolean;
  /** ProxyJump's value as written (the first one given wins, as in ssh). */
  jump?: string;
  /** -F: the only SSH client configuration file read. */
  configFile?: string;
  ignored: string[];
}

function parseSshArgs(args: string): SshArgs {
  const words = args.match(/"[^"]*"|'[^']*'|\S+/g)?.map((w) => w.replace(/^(["'])(.*)\1$/, '$2')) ?? [];
  const out: SshArgs = { ignored: [] };
  for (let i = 0; i < words.length; i++) {
    let option: string | undefined;
    if (words[i] === '-o' && i + 1 < words.length) option = words[++i];
    else if (words[i]!.startsWith('-o')) option = words[i]!.slice(2);
    else if (words[i] === '-F' && i + 1 < words.length) {
      out.configFile ??= words[++i];
      continue;
    } else if (words[i] === '-J' && i + 1 < words.length) option = `ProxyJump=${words[++i]}`;
    else if (words[i]!.startsWith('-J')) option = `ProxyJump=${words[i]!.slice(2)}`;
    const m = option && /^(\w+)\s*[= ]\s*(.*)$/.exec(option);
    if (m && m[1]!.toLowerCase() === 'userknownhostsfile') out.knownHostsFile = m[2]!.split(/\s+/)[0];
    else if (m && m[1]!.toLowerCase() === 'proxyjump') out.jump ??= m[2]!.trim();
    else if (m && m[1]!.toLowerCase() === 'stricthostkeychecking' && m[2]!.toLowerCase() === 'accept-new')
      out.acceptNewHostKeys = true;
    else out.ignored.push(option ? `-o ${option}` : words[i]!);
  }
  return out;
}
