// `ewsplay run`: load and validate everything first (no host is touched on a mistake), then run.
import { resolve } from 'node:path';
import { ExitCode, UsageError } from '../core/problems.js';
import { Secrets } from '../core/secrets.js';
import { didYouMean } from '../core/suggest.js';
import type { TemplateApi } from '../core/template-api.js';
import { VERSION } from '../core/version.js';
import type { RunOptions } from '../engine/context.js';
import { EarlyConnections } from '../engine/early-connections.js';
import type { RunListener } from '../engine/events.js';
import { playbookTags, unknownTagProblem } from '../engine/tags.js';
import { CONNECTION_NAMES, sshArgsNotes } from '../inventory/connection-spec.js';
import type { Inventory } from '../inventory/inventory.js';
import { PlainOutput } from '../output/plain.js';
import { useColor } from '../output/style.js';
import { type RolloutInput, type RolloutResult, runRollout } from '../rollout/rollout.js';
import { inventoryLayout, type SiteInventory, selectSites } from '../rollout/sites.js';
import { canPrompt, promptHidden } from '../vault/prompt.js';
import { announcedAnsibleDefaults } from './ansible-config.js';
import { reportError } from './errors.js';
import { parseExtraVars } from './extra-vars.js';
import { checkFlagFiles, checkRunSelection } from './preflight.js';
import { loadProject } from './project.js';
import { type StepPrompter, stepPrompter } from './step.js';
import { varsPrompter } from './vars-prompt.js';
import { vaultPassphrase } from './vault-flags.js';

export interface RunFlags {
  inventory?: string[];
  check?: boolean;
  diff?: boolean;
  forks?: string;
  limit?: string;
  tags?: string[];
  skipTags?: string[];
  extraVars?: string[];
  startAtTask?: string;
  forceHandlers?: boolean;
  listHosts?: boolean;
  listTasks?: boolean;
  listTags?: boolean;
  syntaxCheck?: boolean;
  output?: 'auto' | 'tree' | 'plain';
  report?: string;
  junit?: string;
  timeout?: string;
  taskTimeout?: string;
  knownHosts?: string;
  acceptNewHostKeys?: boolean;
  user?: string;
  connection?: string;
  sshCommonArgs?: string;
  sshExtraArgs?: string;
  privateKey?: string;
  askPass?: boolean;
  become?: boolean;
  becomeUser?: string;
  askBecomePass?: boolean;
  becomeMethod?: string;
  verbose?: number;
  vaultPasswordFile?: string;
  askVaultPass?: boolean;
  vaultId?: string[];
  step?: boolean;
  sites?: string[];
  serial?: string;
  canary?: string;
  maxFailSites?: string;
  resume?: boolean;
}

export async function runCommand(playbookFile: string, given: RunFlags): Promise<number> {
  const secrets = new Secrets();
  const abort = new AbortController();
  const early: EarlyConnections[] = [];
  let stepper: StepPrompter | undefined;
  try {
    const flags = await withAnsibleDefaults(given);
    await checkFlagFiles(flags);
    const options = runOptions(flags);
    const listing = flags.syntaxCheck || flags.listHosts || flags.listTasks || flags.listTags;
    for (const note of [
      ...(flags.sshCommonArgs ? sshArgsNotes('--ssh-common-args', flags.sshCommonArgs) : []),
      ...(flags.sshExtraArgs ? sshArgsNotes('--ssh-extra-args', flags.sshExtraArgs) : []),
    ])
      if (!listing) process.stderr.write(`[WARNING]: ${note}\n`);
    await askPasswords(flags, options, secrets);
    // One passphrase for the whole rollout: asked at most once, whichever site meets a vault first (-J and
    // --vault-id LABEL@prompt ask now, as Ansible does).
    const passphrase = await vaultPassphrase(flags);
    const layout = await inventoryLayout(flags.inventory ?? []);
    const sites = selectSites(layout, list(flags.sites));
    const multi = layout.kind === 'sites';
    if (flags.step && !listing) {
      stepper = stepPrompter(process.stdin, process.stdout);
      options.step = (task) => stepper!.ask(task);
    }
    // The hosts' connections open as soon as the inventory is known, while the playbook loads: a run of
    // one site (a rollout's sites run in turn, each connecting when it starts); listings connect nowhere.
    const connectEarly =
      !listing && sites.length === 1 && process.env.EWSPLAY_CONNECT_EARLY !== '0'
        ? (inventory: Inventory, templar: TemplateApi) => {
            const pool = new EarlyConnections({ inventory, templar, options, signal: abort.signal, secrets });
            early.push(pool);
            return pool;
          }
        : undefined;
    const load = async (site: SiteInventory) => {
      const project = await loadProject(playbookFile, site.sources, secrets, undefined, {
        passphrase,
        ...(connectEarly ? { connectEarly } : {}),
      });
      // In a sites directory a --limit may name hosts of some sites only: those sites run, the others not.
      checkRunSelection(
        project.playbook,
        project.inventory,
        multi ? { startAtTask: options.startAtTask } : options,
      );
      const known = playbookTags(project.playbook);
      const problem = known && unknownTagProblem(options.tags, known);
      if (problem) throw problem;
      return project;
    };
    const askPrompts = varsPrompter(options.extraVars, secrets);
    if (listing) {
      for (const site of sites) {
        const project = await load(site);
        if (flags.syntaxCheck) continue;
        if (multi) process.stdout.write(`\nsite: ${site.name}\n`);
        process.stdout.write(
          project.describe({
            hosts: !!flags.listHosts,
            tasks: !!flags.listTasks,
            tags: !!flags.listTags,
            limit: options.limit,
          }),
        );
      }
      if (flags.syntaxCheck) process.stdout.write(`playbook: ${playbookFile}: syntax ok\n`);
      return ExitCode.ok;
    }
    const stream = process.stdout;
    const tty = stream.isTTY === true && flags.output !== 'plain';
    // --step asks between tasks on the terminal: plain lines, which a question can follow.
    const tree = !multi && !flags.step && (flags.output === 'tree' || tty);
    // listr2 is loaded only for the live tree: plain output (CI, pipes, -o plain) starts ~15 ms sooner.
    const ListrOutput = tree ? (await import('../output/listr.js')).ListrOutput : undefined;
    // Several sites on a terminal: the rollout's progress (sites done of total) on a line under theirs.
    const status =
      multi && tty && sites.length > 1
        ? (await import('../output/status-line.js')).rolloutStatusLine(stream, useColor(stream))
        : undefined;
    // Several sites print plain lines prefixed by site name (a live tree per site would interleave).
    const listener = (_site: SiteInventory, out: NodeJS.WriteStream): RunListener => {
      const outOpts = {
        stream: out,
        color: useColor(stream),
        diff: options.diff,
        verbose: flags.verbose ?? 0,
      };
      return ListrOutput ? new ListrOutput(outOpts) : new PlainOutput(outOpts);
    };
    let interrupts = 0;
    const onSigint = () => {
      interrupts++;
      if (interrupts > 1) process.exit(ExitCode.interrupted);
      process.stderr.write(
        '\ninterrupting: closing connections and writing the report (Ctrl-C again to quit now)\n',
      );
      abort.abort();
    };
    // SIGTERM (a CI job cancelled, systemd stopping a unit) ends a run the same clean way as Ctrl-C.
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigint);
    let result: RolloutResult;
    status?.line.attach([process.stdout, process.stderr]);
    try {
      result = await runRollout({
        // Lock, state and reports belong to the sites' inventory, wherever the command runs from.
        root: layout.project,
        sites,
        multi,
        ...rolloutFlags(flags, sites),
        options,
        secrets,
        version: VERSION,
        command: lockCommand(playbookFile, flags),
        abort,
        load: async (site) => {
          const project = await load(site);
          await askPrompts(project.playbook);
          return project;
        },
        listener,
        ...(status ? { progress: status.progress } : {}),
        out: stream,
        warn: (m) => process.stderr.write(`[WARNING]: ${secrets.mask(m)}\n`),
        reportError: (e) => reportError(e, (s) => secrets.mask(s)),
        ...(flags.report ? { reportFile: flags.report } : {}),
        ...(flags.junit ? { junitFile: flags.junit } : {}),
      });
    } finally {
      status?.line.detach();
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
    }
    // One site: the total line and where the reports went, always (a rollout's summary lists its reports).
    if (!multi)
      for (const o of result.outcomes) {
        if (o.totals) process.stdout.write(`\n${o.totals}\n`);
        if (o.report) process.stdout.write(`report: ${o.report}\n`);
        if (o.totals && flags.junit) process.stdout.write(`junit: ${flags.junit}\n`);
      }
    return result.exitCode;
  } catch (e) {
    return reportError(e, (s) => secrets.mask(s));
  } finally {
    stepper?.close();
    // A run closes what it did not take; a run that never started (a mistake, a lock) closes it all here.
    await Promise.all(early.map((pool) => pool.close()));
  }
}

/**
 * Flags the command line left out, from ansible.cfg and ANSIBLE_* variables (as ansible-playbook takes
 * them); what was taken from where is said with -v, and a host_key_checking = False is reported.
 */
async function withAnsibleDefaults(flags: RunFlags): Promise<RunFlags> {
  const cfg = await announcedAnsibleDefaults(flags.verbose);
  const listing = flags.syntaxCheck || flags.listHosts || flags.listTasks || flags.listTags;
  if (cfg.hostKeyCheckingOff && !flags.acceptNewHostKeys && !listing)
    process.stderr.write(
      '[WARNING]: host_key_checking is off in the Ansible configuration: ewsplay still checks host keys (pass --accept-new-host-keys to record the keys of hosts not seen before; a changed key is always refused)\n',
    );
  return {
    ...flags,
    ...(flags.inventory?.length || !cfg.inventory ? {} : { inventory: cfg.inventory }),
    ...(flags.user === undefined && cfg.remoteUser ? { user: cfg.remoteUser } : {}),
    ...(flags.privateKey === undefined && cfg.privateKeyFile ? { privateKey: cfg.privateKeyFile } : {}),
    ...(flags.forks === undefined && cfg.forks ? { forks: cfg.forks } : {}),
    ...(flags.timeout === undefined && cfg.timeout ? { timeout: cfg.timeout } : {}),
    ...(flags.become === undefined && cfg.become !== undefined ? { become: cfg.become } : {}),
    ...(flags.becomeUser === undefined && cfg.becomeUser ? { becomeUser: cfg.becomeUser } : {}),
    // A passphrase source on the command line (-J, --vault-id) replaces the configured file.
    ...(flags.vaultPasswordFile === undefined &&
    !flags.askVaultPass &&
    !flags.vaultId?.length &&
    cfg.vaultPasswordFile
      ? { vaultPasswordFile: cfg.vaultPasswordFile }
      : {}),
  };
}

/** What a lock file records of this command: no -e values, which may hold secrets. */
function lockCommand(playbookFile: string, flags: RunFlags): string {
  return [
    'ewsplay run',
    playbookFile,
    ...(flags.inventory ?? []).map((i) => `-i ${i}`),
    flags.sites ? `--sites ${list(flags.sites).join(',')}` : '',
    flags.limit ? `--limit ${flags.limit}` : '',
    flags.check ? '--check' : '',
    flags.resume ? '--resume' : '',
  ]
    .filter(Boolean)
    .join(' ');
}

function rolloutFlags(
  flags: RunFlags,
  sites: SiteInventory[],
): Pick<RolloutInput, 'serial' | 'canary' | 'maxFailSites' | 'resume'> {
  const names = sites.map((s) => s.name);
  if (flags.canary !== undefined && !names.includes(flags.canary)) {
    const hint = didYouMean(flags.canary, names);
    throw new UsageError(
      `--canary: '${flags.canary}' is not one of the sites of this run`,
      `${hint ? `${hint} ` : ''}sites: ${names.join(', ')}`,
    );
  }
  return {
    serial: int('--serial', flags.serial, 1),
    ...(flags.canary !== undefined ? { canary: flags.canary } : {}),
    ...(flags.maxFailSites !== undefined
      ? { maxFailSites: int('--max-fail-sites', flags.maxFailSites, 1) }
      : {}),
    resume: !!flags.resume,
  };
}

function int(name: string, v: string | undefined, def: number, min = 1): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`${name} must be an integer >= ${min}, got '${v}'`);
  return n;
}

function list(v: string[] | undefined): string[] {
  return (v ?? [])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
}

function runOptions(flags: RunFlags): RunOptions {
  const options: RunOptions = {
    check: !!flags.check,
    diff: !!flags.diff,
    forks: int('--forks', flags.forks, 20),
    tags: { only: list(flags.tags), skip: list(flags.skipTags) },
    extraVars: parseExtraVars(flags.extraVars),
    forceHandlers: !!flags.forceHandlers,
    interactive: process.stdin.isTTY === true && process.stdout.isTTY === true,
    taskTimeoutSec: int('--task-timeout', flags.taskTimeout, 600),
    connectTimeoutMs: int('--timeout', flags.timeout, 10) * 1000,
    acceptNewHostKeys: !!flags.acceptNewHostKeys,
    stateDir: resolve('.ewsplay', 'state'),
  };
  if (flags.limit) options.limit = flags.limit;
  if (flags.startAtTask) options.startAtTask = flags.startAtTask;
  if (flags.knownHosts) options.knownHostsFile = resolve(flags.knownHosts);
  if (flags.connection !== undefined && !CONNECTION_NAMES.includes(flags.connection)) {
    const hint = didYouMean(flags.connection, CONNECTION_NAMES);
    throw new UsageError(
      `-c/--connection ${flags.connection}: ewsplay has no such connection type`,
      `${hint ? `${hint} ` : ''}ewsplay connects with ssh (its own client: ssh, smart and paramiko mean it) or local`,
    );
  }
  if (flags.becomeMethod !== undefined && !['sudo', 'ansible.builtin.sudo'].includes(flags.becomeMethod))
    throw new UsageError(
      `--become-method ${flags.becomeMethod}: ewsplay becomes with sudo only`,
      'leave --become-method out (sudo is the default), or give the login user the rights it needs',
    );
  const connection = {
    ...(flags.user ? { user: flags.user } : {}),
    ...(flags.privateKey ? { privateKeyFile: resolve(flags.privateKey) } : {}),
    ...(flags.connection ? { connectionType: flags.connection } : {}),
    ...(flags.sshCommonArgs ? { sshCommonArgs: flags.sshCommonArgs } : {}),
    ...(flags.sshExtraArgs ? { sshExtraArgs: flags.sshExtraArgs } : {}),
  };
  if (Object.keys(connection).length) options.connection = connection;
  const become = {
    ...(flags.become ? { enabled: true } : {}),
    ...(flags.becomeUser ? { user: flags.becomeUser } : {}),
  };
  if (Object.keys(become).length) options.become = become;
  return options;
}

/** -k and -K: asked once, up front, as ansible-playbook does; the answers are secrets like any other. */
async function askPasswords(flags: RunFlags, options: RunOptions, secrets: Secrets): Promise<void> {
  if (!flags.askPass && !flags.askBecomePass) return;
  if (flags.syntaxCheck || flags.listHosts || flags.listTasks || flags.listTags) return;
  if (!canPrompt())
    throw new UsageError(
      `${flags.askPass ? '-k/--ask-pass' : '-K/--ask-become-pass'} needs a terminal to ask on`,
      'set ansible_password / ansible_become_password in the inventory instead (in a vault file: ewsplay vault create)',
    );
  if (flags.askPass) {
    const password = await promptHidden('SSH password: ');
    secrets.add(password);
    options.connection = { ...options.connection, password };
  }
  if (flags.askBecomePass) {
    // Ansible's default: the BECOME password is the SSH password when none is typed.
    const typed = await promptHidden(
      flags.askPass ? 'BECOME password[defaults to SSH password]: ' : 'BECOME password: ',
    );
    const password = typed === '' && options.connection?.password ? options.connection.password : typed;
    secrets.add(password);
    options.become = { ...options.become, password };
  }
}
