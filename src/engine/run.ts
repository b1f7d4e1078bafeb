// One run of one playbook against one inventory: the entry point the CLI calls.
import { setMaxListeners } from 'node:events';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { InputFileError, readInputText } from '../core/input-file.js';
import type { Play, Playbook, Vars } from '../core/model.js';
import { type Problem, UserError } from '../core/problems.js';
import type { Secrets } from '../core/secrets.js';
import type { TemplateApi } from '../core/template-api.js';
import type { Inventory } from '../inventory/inventory.js';
import { loadVarsFiles } from '../inventory/vars-files.js';
import { newHostState, type RunContext, type RunOptions } from './context.js';
import type { EarlyConnections } from './early-connections.js';
import type { RunListener } from './events.js';
import { PlayRunner } from './play-runner.js';
import { emptyStats, type RunReport } from './results.js';
import { playbookSteps } from './steps.js';
import { lazyVars } from './vars.js';

export interface RunInput {
  playbook: Playbook;
  inventory: Inventory;
  inventorySources: string[];
  options: RunOptions;
  templar: TemplateApi;
  secrets: Secrets;
  listener: RunListener;
  version: string;
  /** Aborted by the CLI on Ctrl-C. */
  abort: AbortController;
  /** Loads a vars file (vault-aware); defaults to plain YAML. */
  loadVarsFile?: (file: string) => Promise<Vars>;
  /** Connections opened while the playbook loaded: the run takes them, and closes what it did not take. */
  early?: EarlyConnections;
}

export async function runPlaybook(input: RunInput): Promise<RunReport> {
  const { playbook, inventory, options } = input;
  // Every host in flight listens to the run's abort signal (forks may be hundreds): not a leak.
  setMaxListeners(0, input.abort.signal);
  const report: RunReport = {
    tool: 'ewsplay',
    version: input.version,
    playbook: playbook.file,
    inventory: input.inventorySources,
    ...(options.site ? { site: options.site } : {}),
    startedAt: new Date().toISOString(),
    check: options.check,
    diff: options.diff,
    interrupted: false,
    tasks: [],
    steps: playbookSteps(playbook).map((s) => ({ id: s.id, play: s.play, name: s.name, status: 'not run' })),
    stats: {},
  };
  const rc: RunContext = {
    playbook,
    inventory,
    options,
    templar: input.templar,
    secrets: input.secrets,
    listener: input.listener,
    hosts: new Map(),
    extraConnections: new Map(),
    stats: new Map(),
    report,
    abort: input.abort,
    playVarsFiles: {},
    loadVarsFile: input.loadVarsFile ?? ((file) => loadYamlVars(file)),
    playbookDir: dirname(resolve(playbook.file)),
    ...(input.early ? { early: input.early } : {}),
  };
  const runner = new PlayRunner(rc);
  const started = performance.now();
  try {
    for (const [index, play] of playbook.plays.entries()) {
      if (input.abort.signal.aborted) break;
      const hosts = playHosts(rc, play);
      for (const h of hosts) {
        // A host may already have state without stats: facts a delegate_facts task gave it.
        if (!rc.hosts.has(h)) rc.hosts.set(h, newHostState());
        if (!rc.stats.has(h)) rc.stats.set(h, emptyStats());
      }
      // Hosts that failed or were unreachable in an earlier play stay out, as in Ansible.
      const live = hosts.filter((h) => !rc.hosts.get(h)!.failed && !rc.hosts.get(h)!.unreachable);
      rc.playVarsFiles = await loadPlayVarsFiles(rc, play, rc.loadVarsFile);
      if (live.length === 0) {
        input.listener.warn(`play '${play.name}': no hosts left to run on`);
        continue;
      }
      await runner.runPlay(play, index, live);
    }
  } finally {
    report.interrupted = input.abort.signal.aborted;
    await Promise.all([
      input.early?.close(),
      ...[...[...rc.hosts.values()].map((s) => s.connection), ...rc.extraConnections.values()].map(
        async (connection) => {
          const c = await connection?.catch(() => undefined);
          await c?.close().catch(() => undefined);
        },
      ),
    ]);
    report.finishedAt = new Date().toISOString();
    report.durationMs = Math.round(performance.now() - started);
    report.stats = Object.fromEntries(rc.stats);
  }
  return report;
}

function playHosts(rc: RunContext, play: Play): string[] {
  let hosts = rc.inventory.match(play.hosts);
  if (rc.options.limit) {
    const allowed = new Set(rc.inventory.match(rc.options.limit));
    hosts = hosts.filter((h) => allowed.has(h));
  }
  return hosts;
}

async function loadPlayVarsFiles(
  rc: RunContext,
  play: Play,
  load: (file: string) => Promise<Vars>,
): Promise<Vars> {
  const merged: Vars = {};
  const vars = lazyVars({ ...play.vars, ...rc.options.extraVars, playbook_dir: rc.playbookDir }, rc.templar);
  for (const entry of play.varsFiles) {
    const name = String(rc.templar.render(entry, vars));
    const file = isAbsolute(name) ? name : join(rc.playbookDir, name);
    Object.assign(merged, await load(file));
  }
  return merged;
}

/** Loads a vars file; `read` gives its text (the vault's reader decrypts age files). */
export async function loadYamlVars(
  file: string,
  read: (file: string) => Promise<string> = readInputText,
): Promise<Vars> {
  const problems: Problem[] = [];
  try {
    const layer = await loadVarsFiles([file], problems, read);
    if (problems.length > 0) throw new UserError(problems);
    return layer.vars;
  } catch (e) {
    if (!(e instanceof InputFileError)) throw e;
    throw UserError.at(
      { file, line: 1, col: 1 },
      e.code === 'missing' ? `vars file not found: ${file}` : e.message,
      e.code === 'missing' ? 'check the vars_files path (relative to the playbook)' : e.hint,
    );
  }
}
