// ewsplay's command line. Subcommands load their implementation lazily so `--version` and `--help`
// start fast; ews-javascript-api is never loaded here.
import { Argument, Command, CommanderError, Option } from 'commander';
import { ExitCode } from '../core/problems.js';
import { VERSION } from '../core/version.js';
import { reportError } from './errors.js';
import type { InventoryFlags } from './inventory-command.js';
import type { ValidateFlags } from './validate-command.js';
import type { VaultAction, VaultFlags } from './vault-command.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];
const VAULT_PASSWORD_HELP =
  'file holding the vault passphrase (or EWSPLAY_VAULT_PASSWORD, or asked on a terminal)';
const VAULT_ACTIONS = ['create', 'edit', 'view', 'encrypt', 'decrypt', 'rekey'];
const ASK_VAULT_PASS_HELP = 'ask for the vault passphrase on the terminal, before anything runs';
const VAULT_ID_HELP =
  'label@source: the vault passphrase from a file, an executable printing it, or `prompt` (one per run)';

/**
 * Commander's usage errors on one line with the fix: "error: unknown option '--chek' (did you mean
 * --check?)", and a pointer to --help where commander has no suggestion.
 */
export function oneLineError(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const [first = 'error', ...rest] = lines;
  const suggestion = rest.find((l) => /^\(Did you mean/i.test(l));
  if (suggestion) return `${first} ${suggestion.replace(/^\(Did/, '(did')}\n`;
  const unknown = /^error: (unknown option|unknown command|too many arguments)/.test(first);
  return `${[first, ...rest].join(' ')}${unknown ? " (see 'ewsplay help' or 'ewsplay COMMAND --help')" : ''}\n`;
}

export function buildProgram(): Command {
  const program = new Command('ewsplay')
    .description('Playbook runner for the VK WorkSpace Mail <-> Exchange 2013 EWS calendar migration')
    .version(VERSION, '--version', 'print the version')
    .showSuggestionAfterError(true)
    .configureOutput({ outputError: (text, write) => write(oneLineError(text)) })
    .exitOverride();

  program
    .command('run')
    .description('run a playbook against an inventory (like ansible-playbook)')
    .argument('<playbook>', 'playbook file (YAML)')
    .option('-i, --inventory <path>', 'inventory file or directory (repeatable)', collect)
    .option('-C, --check', 'check mode: report what would change, change nothing', false)
    .option('-D, --diff', 'show unified diffs of the files that change (or would change)', false)
    .option('-f, --forks <n>', 'hosts worked on in parallel (default 20, or forks in ansible.cfg)')
    .option('-l, --limit <pattern>', 'further limit the hosts (Ansible host pattern, or @file)')
    .option('-t, --tags <tags>', 'run only tasks with these tags (comma-separated, repeatable)', collect)
    .option('--skip-tags <tags>', 'skip tasks with these tags (comma-separated, repeatable)', collect)
    .option(
      '-e, --extra-vars <vars>',
      'key=value pairs, JSON/YAML, or @file (repeatable; highest precedence)',
      collect,
    )
    .option('--start-at-task <name>', 'start at the task with this name')
    .option('--force-handlers', 'run notified handlers even on hosts that failed', false)
    .option('--list-hosts', 'print the hosts each play would run on, then exit')
    .option('--list-tasks', 'print the tasks each play would run, then exit')
    .option('--list-tags', 'print the tags of each play and its tasks, then exit')
    .option('--syntax-check', 'validate the playbook only, then exit (same as `ewsplay validate`)')
    .addOption(
      new Option('-o, --output <mode>', 'progress output').choices(['auto', 'tree', 'plain']).default('auto'),
    )
    .option('--report <file>', 'JSON report path (default .ewsplay/runs/<site>/<time>.json)')
    .option('--junit <file>', 'also write a JUnit XML report')
    .option('-T, --timeout <seconds>', 'SSH connect timeout (default 10, or timeout in ansible.cfg)')
    .option('--task-timeout <seconds>', 'default timeout of every task (a task may set `timeout:`)', '600')
    .option('-u, --user <name>', 'SSH login user where the inventory sets no ansible_user')
    .option('-c, --connection <type>', 'connection type where the inventory and play set none: ssh or local')
    .option(
      '--ssh-common-args <args>',
      'SSH options where the inventory sets no ansible_ssh_common_args (-o ProxyJump=, -J, -o UserKnownHostsFile=, -F)',
    )
    .option('--ssh-extra-args <args>', 'the same, where the inventory sets no ansible_ssh_extra_args')
    .option('--key-file, --private-key <file>', 'SSH private key where the inventory sets none')
    .option('-k, --ask-pass', 'ask for the SSH password (where the inventory sets no ansible_password)')
    .option('-b, --become', 'become (sudo) where the playbook and inventory do not say otherwise')
    .option(
      '--become-user <name>',
      'user to become where the playbook and inventory name none (default root)',
    )
    .option('-K, --ask-become-pass', 'ask for the sudo password (where the inventory sets none)')
    .option('--become-method <method>', 'how to become: sudo (the only method ewsplay has)')
    .option('--known-hosts <file>', 'extra known_hosts file to verify SSH host keys against')
    .option(
      '--accept-new-host-keys',
      'accept and record keys of hosts never seen before (never a changed key)',
    )
    .option('-v, --verbose', 'more detail (repeat for more)', (_v: string, n: number) => n + 1, 0)
    .option('--vault-password-file <file>', VAULT_PASSWORD_HELP)
    .option('-J, --ask-vault-pass', ASK_VAULT_PASS_HELP)
    .option('--vault-id <id>', VAULT_ID_HELP, collect)
    .option('--step', 'confirm each task before it runs: (N)o/(y)es/(c)ontinue')
    .option('--sites <names>', 'sites directory: run only these sites (comma-separated, repeatable)', collect)
    .option('--serial <n>', 'sites directory: sites run at a time (default 1; play `serial:` is hosts)')
    .option('--canary <site>', 'run this site first, alone; the others only if it succeeded')
    .option('--max-fail-sites <n>', 'start no more sites once this many have failed')
    .option('--resume', 'run each site from its first step not done (earlier done steps are skipped)')
    .action(async (playbook: string, opts: Record<string, unknown>) => {
      const { runCommand } = await import('./run-command.js');
      process.exitCode = await runCommand(playbook, opts);
    });

  program
    .command('validate')
    .description('check a playbook (and its task files) without touching any host')
    .argument('<playbook>', 'playbook file')
    .option('-i, --inventory <path>', 'also check host patterns against this inventory (repeatable)', collect)
    .option(
      '-e, --extra-vars <vars>',
      'as for run: checked, and used for templated vars_files names (repeatable)',
      collect,
    )
    .option('--vault-password-file <file>', VAULT_PASSWORD_HELP)
    .option('-J, --ask-vault-pass', ASK_VAULT_PASS_HELP)
    .option('--vault-id <id>', VAULT_ID_HELP, collect)
    .action(async (playbook: string, opts: ValidateFlags) => {
      const { validateCommand } = await import('./validate-command.js');
      process.exitCode = await validateCommand(playbook, opts);
    });

  program
    .command('inventory')
    .description('show an inventory as ansible-inventory does')
    .option('-i, --inventory <path>', 'inventory file or directory (repeatable)', collect)
    .option('--list', 'all groups and hosts with their variables, as JSON')
    .option('--host <host>', "one host's merged variables, as JSON")
    .option('--graph [group]', 'the group tree')
    .option('--vars', "with --graph: each host's and group's variables under it")
    .option('-y, --yaml', 'with --list or --host: YAML instead of JSON')
    .option(
      '--sites <names>',
      'sites directory: show only these sites (comma-separated, repeatable)',
      collect,
    )
    .option('--vault-password-file <file>', VAULT_PASSWORD_HELP)
    .option('-J, --ask-vault-pass', ASK_VAULT_PASS_HELP)
    .option('--vault-id <id>', VAULT_ID_HELP, collect)
    .action(async (opts: InventoryFlags) => {
      const { inventoryCommand } = await import('./inventory-command.js');
      process.exitCode = await inventoryCommand(opts);
    });

  program
    .command('vault')
    .description('create, edit, view, encrypt, decrypt or rekey an age-encrypted vault file (passphrase)')
    .addArgument(new Argument('<action>', 'what to do').choices(VAULT_ACTIONS))
    .argument('<file>', 'the vault file')
    .option('--vault-password-file <file>', VAULT_PASSWORD_HELP)
    .option('--new-vault-password-file <file>', 'rekey: file holding the new passphrase (default: ask)')
    .action(async (action: VaultAction, file: string, opts: VaultFlags) => {
      const { vaultCommand } = await import('./vault-command.js');
      process.exitCode = await vaultCommand(action, file, opts);
    });

  program
    .command('status')
    .description("show each site's steps: done, failed or not run, and when (from .ewsplay/state)")
    .option('-i, --inventory <path>', 'sites directory or inventory (default: all sites with state)', collect)
    .option('--json', 'print the state as JSON')
    .action(async (opts: { inventory?: string[]; json?: boolean }) => {
      const { statusCommand } = await import('./status-command.js');
      process.exitCode = await statusCommand(opts);
    });

  program
    .command('schema')
    .description('write the JSON Schemas of playbooks, task files and inventories (for editors)')
    .option('--out <dir>', 'directory to write *.schema.json into (default: print the playbook schema)')
    .action(async (opts: { out?: string }) => {
      const { schemaCommand } = await import('./schema-command.js');
      process.exitCode = await schemaCommand(opts);
    });

  program
    .command('lab')
    .description('the built-in lab site on loopback: fake EWS, hosts, forwarder, inventory/lab')
    .argument('<action>', 'up | down | status')
    .option('--hosts <kind>', 'up: sshd (real OpenSSH), local (local-connection hosts) or auto', 'auto')
    .option(
      '--forwarder <kind>',
      "up: socat (the distribution's), standin (lab/vendor/socat-lite.mjs) or auto",
      'auto',
    )
    .option(
      '--basic-auth',
      "up: the fake EWS also offers Basic (Exchange's default, and the lab's, is Windows authentication only)",
    )
    .action(async (action: string, opts: { hosts?: string; forwarder?: string; basicAuth?: boolean }) => {
      const { labCommand } = await import('./lab-command.js');
      process.exitCode = await labCommand(action, opts);
    });

  return program;
}

export async function main(argv: string[]): Promise<void> {
  // As ansible-playbook --version: what runs, with which config file and Node (loaded only when asked).
  if (argv.length === 1 && argv[0] === '--version') {
    const { versionText } = await import('./version-command.js');
    process.stdout.write(await versionText());
    return;
  }
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version are "errors" to commander; usage mistakes exit 2 like every user error.
      process.exitCode = e.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
      return;
    }
    process.exitCode = reportError(e);
  }
}
