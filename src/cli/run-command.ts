// `ewsplay run`: load and validate everything first (no host is touched on a mistake), then run.
import { resolve } from 'node:path';
import type { RunOptions } from '../engine/context.js';
import type { RunListener } from '../engine/events.js';
import type { RunReport } from '../engine/results.js';
import { runPlaybook } from '../engine/run.js';
import { ExitCode, UsageError } from '../load/problems.js';
import { ListrOutput } from '../output/listr.js';
import { PlainOutput } from '../output/plain.js';
import { defaultReportPath, writeJsonReport, writeJunit } from '../output/report.js';
import { useColor } from '../output/style.js';
import { Secrets } from '../template/secrets.js';
import { reportError } from './errors.js';
import { parseExtraVars } from './extra-vars.js';
import { VERSION } from './main.js';
import { loadProject } from './project.js';

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
  syntaxCheck?: boolean;
  output?: 'auto' | 'tree' | 'plain';
  report?: string;
  junit?: string;
  timeout?: string;
  taskTimeout?: string;
  knownHosts?: string;
  acceptNewHostKeys?: boolean;
  verbose?: number;
  vaultPasswordFile?: string;
}

export async function runCommand(playbookFile: string, flags: RunFlags): Promise<number> {
  const secrets = new Secrets();
  try {
    const options = runOptions(flags);
    const project = await loadProject(playbookFile, flags.inventory, secrets, undefined, {
      vaultPasswordFile: flags.vaultPasswordFile,
    });
    if (flags.syntaxCheck) {
      process.stdout.write(`playbook: ${playbookFile}: syntax ok\n`);
      return ExitCode.ok;
    }
    if (flags.listHosts || flags.listTasks) {
      process.stdout.write(
        project.describe({ hosts: !!flags.listHosts, tasks: !!flags.listTasks, limit: options.limit }),
      );
      return ExitCode.ok;
    }
    const stream = process.stdout;
    const tty = stream.isTTY === true && flags.output !== 'plain';
    const outOpts = { stream, color: useColor(stream), diff: options.diff, verbose: flags.verbose ?? 0 };
    const listener: RunListener =
      flags.output === 'tree' || (flags.output !== 'plain' && tty)
        ? new ListrOutput(outOpts)
        : new PlainOutput(outOpts);
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
    process.on('SIGINT', onSigint);
    let report: RunReport;
    try {
      report = await runPlaybook({
        playbook: project.playbook,
        inventory: project.inventory,
        inventorySources: flags.inventory ?? [],
        options,
        templar: project.templar,
        secrets,
        listener,
        version: VERSION,
        abort,
        loadVarsFile: project.loadVarsFile,
      });
    } finally {
      process.off('SIGINT', onSigint);
    }
    const code = exitCodeOf(report);
    report.exitCode = code;
    listener.runEnd(report);
    const reportFile = flags.report ?? defaultReportPath(process.cwd(), options.site, report.startedAt);
    await writeJsonReport(reportFile, report, secrets);
    if (flags.junit) await writeJunit(flags.junit, report, secrets);
    if ((flags.verbose ?? 0) > 0) process.stdout.write(`report: ${reportFile}\n`);
    return code;
  } catch (e) {
    return reportError(e, (s) => secrets.mask(s));
  }
}

export function exitCodeOf(report: RunReport): number {
  if (report.interrupted) return ExitCode.interrupted;
  const stats = Object.values(report.stats);
  if (stats.some((s) => s.failed > 0)) return ExitCode.hostFailed;
  if (stats.some((s) => s.unreachable > 0)) return ExitCode.hostUnreachable;
  return ExitCode.ok;
}

function runOptions(flags: RunFlags): RunOptions {
  const int = (name: string, v: string | undefined, def: number, min = 1): number => {
    if (v === undefined) return def;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min)
      throw new UsageError(`${name} must be an integer >= ${min}, got '${v}'`);
    return n;
  };
  const list = (v: string[] | undefined) =>
    (v ?? [])
      .flatMap((s) => s.split(','))
      .map((s) => s.trim())
      .filter(Boolean);
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
  return options;
}
