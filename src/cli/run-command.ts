// `ewsplay run`: load and validate everything first (no host is touched on a mistake), then run.
import { resolve } from 'node:path';
import { ExitCode, UsageError } from '../core/problems.js';
import { Secrets } from '../core/secrets.js';
import { didYouMean } from '../core/suggest.js';
import { VERSION } from '../core/version.js';
import type { RunOptions } from '../engine/context.js';
import type { RunListener } from '../engine/events.js';
import { playbookTags, unknownTagProblem } from '../engine/tags.js';
import { PlainOutput } from '../output/plain.js';
import { useColor } from '../output/style.js';
import { type RolloutInput, type RolloutResult, runRollout } from '../rollout/rollout.js';
import { inventoryLayout, type SiteInventory, selectSites } from '../rollout/sites.js';
import { passphraseSource } from '../vault/passphrase.js';
import { canPrompt, promptHidden } from '../vault/prompt.js';
import { announcedAnsibleDefaults } from './ansible-config.js';
import { reportError } from './errors.js';
import { parseExtraVars } from './extra-vars.js';
import { checkFlagFiles, checkRunSelection } from './preflight.js';
import { loadProject } from './project.js';
import { varsPrompter } from './vars-prompt.js';

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
  privateKey?: string;
  askPass?: boolean;
  become?: boolean;
  becomeUser?: string;
  askBecomePass?: boolean;
  verbose?: number;
  vaultPasswordFile?: string;
  sites?: string[];
  serial?: string;
  canary?: string;
  maxFailSites?: string;
  resume?: boolean;
}

export async function runCommand(playbookFile: string, given: RunFlags): Promise<number> {
  const secrets = new Secrets();
  try {
    const flags = await withAnsibleDefaults(given);
    await checkFlagFiles(flags);
    const options = runOptions(flags);
    await askPasswords(flags, options, secrets);
    const layout = await inventoryLayout(flags.inventory ?? []);
    const sites = selectSites(layout, list(flags.sites));
    const multi = layout.kind === 'sites';
    // One passphrase for the whole rollout: asked at most once, whichever site meets a vault first.
    const passphrase = passphraseSource({ passwordFile: flags.vaultPasswordFile });
    const load = async (site: SiteInventory) => {
      const project = await loadProject(playbookFile, site.sources, secrets, undefined, { passphrase });
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
    if (flags.syntaxCheck || flags.listHosts || flags.listTasks || flags.listTags) {
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
    const tree = !multi && (flags.output === 'tree' || tty);
    // listr2 is loaded only for the live tree: plain output (CI, pipes, -o plain) starts ~15 ms sooner.
    const ListrOutput = tree ? (await import('../output/listr.js')).ListrOutput : undefined;
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
    const abort = new AbortController();
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
        out: stream,
        warn: (m) => process.stderr.write(`[WARNING]: ${secrets.mask(m)}\n`),
        reportError: (e) => reportError(e, (s) => secrets.mask(s)),
        ...(flags.report ? { reportFile: flags.report } : {}),
        ...(flags.junit ? { junitFile: flags.junit } : {}),
      });
    } finally {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
    }
    if ((flags.verbose ?? 0) > 0 && !multi)
      for (const o of result.outcomes) if (o.report) process.stdout.write(`report: ${o.report}\n`);
    return result.exitCode;
  } catch (e) {
    return reportError(e, (s) => secrets.mask(s));
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
    ...(flags.vaultPasswordFile === undefined && cfg.vaultPasswordFile
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
  const connection = {
    ...(flags.user ? { user: flags.user } : {}),
    ...(flags.privateKey ? { privateKeyFile: resolve(flags.privateKey) } : {}),
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
