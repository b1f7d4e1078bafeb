// ewsplay's command line. Subcommands load their implementation lazily so `--version` and `--help`
// start fast; ews-javascript-api is never loaded here.
import { Argument, Command, CommanderError, Option } from 'commander';
import { ExitCode } from '../core/problems.js';
import { VERSION } from '../core/version.js';
import { reportError } from './errors.js';
import type { VaultAction, VaultFlags } from './vault-command.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];
const VAULT_PASSWORD_HELP =
  'file holding the vault passphrase (or EWSPLAY_VAULT_PASSWORD, or asked on a terminal)';
const VAULT_ACTIONS = ['create', 'edit', 'view', 'encrypt', 'decrypt', 'rekey'];

export function buildProgram(): Command {
  const program = new Command('ewsplay')
    .description('Playbook runner for the VK WorkSpace Mail <-> Exchange 2013 EWS calendar migration')
    .version(VERSION, '--version', 'print the version')
    .showSuggestionAfterError(true)
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
    .option('--key-file, --private-key <file>', 'SSH private key where the inventory sets none')
    .option('-k, --ask-pass', 'ask for the SSH password (where the inventory sets no ansible_password)')
    .option('-b, --become', 'become (sudo) where the playbook and inventory do not say otherwise')
    .option(
      '--become-user <name>',
      'user to become where the playbook and inventory name none (default root)',
    )
    .option('-K, --ask-become-pass', 'ask for the sudo password (where the inventory sets none)')
    .option('--known-hosts <file>', 'extra known_hosts file to verify SSH host keys against')
    .option(
      '--accept-new-host-keys',
      'accept and record keys of hosts never seen before (never a changed key)',
    )
    .option('-v, --verbose', 'more detail (repeat for more)', (_v: string, n: number) => n + 1, 0)
    .option('--vault-password-file <file>', VAULT_PASSWORD_HELP)
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
    .option('--vault-password-file <file>', VAULT_PASSWORD_HELP)
    .action(async (playbook: string, opts: { inventory?: string[]; vaultPasswordFile?: string }) => {
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
    .option(
      '--sites <names>',
      'sites directory: show only these sites (comma-separated, repeatable)',
      collect,
    )
    .option('--vault-password-file <file>', VAULT_PASSWORD_HELP)
    .action(
      async (opts: {
        inventory?: string[];
        list?: boolean;
        host?: string;
        graph?: string | boolean;
        vaultPasswordFile?: string;
        sites?: string[];
      }) => {
        const { inventoryCommand } = await import('./inventory-command.js');
        process.exitCode = await inventoryCommand(opts);
      },
    );

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
