// `npm run demo`: the whole migration rehearsed on the lab. lab up; the migration playbook; the same run
// again, which must change nothing; a --check --diff run, which must predict nothing and change nothing;
// playbooks/verify.yml creating, finding and deleting an event on the fake EWS reached through the
// mail host's TLS forwarder; lab down, also when a step failed or Ctrl-C was pressed. Each ewsplay run is the
// real CLI in a child process (listr2 progress on a terminal); its JSON report is what the demo judges.
import { spawn } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type LabUpOptions, labDown, labUp } from './lab.js';
import { REPO_DIR } from './lab-inventory.js';
import { type LabState, labPaths, markedProcesses, readState } from './lab-state.js';

export interface DemoOptions {
  project?: string;
  hosts?: LabUpOptions['hosts'];
  forwarder?: LabUpOptions['forwarder'];
  vendorPackage?: boolean;
  /** Progress style of the ewsplay runs (default auto: a live tree on a terminal). */
  output?: 'auto' | 'tree' | 'plain';
  /** Capture the runs' output instead of showing it (tests). */
  quiet?: boolean;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export interface RunOutcome {
  code: number;
  output: string;
  report: RunReport;
}

interface RunReport {
  check: boolean;
  exitCode?: number;
  stats: Record<string, { ok: number; changed: number; failed: number; unreachable: number }>;
  tasks: {
    task: string;
    module?: string;
    hosts: Record<string, { status: string; changed?: boolean; msg?: string; data?: { protocol?: string } }>;
  }[];
}

export interface DemoResult {
  ok: boolean;
  /** What was proven, one sentence each (only the steps that passed). */
  proven: string[];
  failure?: string;
  runs: Record<'first' | 'second' | 'check' | 'verify', RunOutcome | undefined>;
  /** The fake EWS's request log over the verification run. */
  verifyRequests: { operation: string; responseCode?: string; impersonated?: string }[];
  /** Lab processes still alive after lab down (must be empty). */
  leftover: number[];
  state?: LabState;
}

class DemoFailure extends Error {}

const BIN = join(REPO_DIR, 'bin', 'ewsplay.js');

export async function runDemo(opts: DemoOptions = {}): Promise<DemoResult> {
  const log = opts.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const paths = labPaths(opts.project);
  const result: DemoResult = {
    ok: false,
    proven: [],
    runs: { first: undefined, second: undefined, check: undefined, verify: undefined },
    verifyRequests: [],
    leftover: [],
  };
  const reports = join(paths.project, '.ewsplay', 'runs', 'lab');
  await mkdir(reports, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const ewsplay = async (name: keyof DemoResult['runs'], args: string[]): Promise<RunOutcome> => {
    if (opts.signal?.aborted) throw new DemoFailure('interrupted');
    const report = join(reports, `demo-${stamp}-${name}.json`);
    const outcome = await runCli(
      [...args, '-o', opts.output ?? 'auto', '--report', report],
      paths.project,
      opts,
    );
    result.runs[name] = outcome;
    return outcome;
  };
  try {
    log('== ewsplay lab up');
    // A lab left up is replaced, so the demo starts from a site where nothing was done yet.
    if (await readState(paths)) {
      log('   a lab is up already: stopping it first');
      await labDown({ project: paths.project });
    }
    const up = await labUp({
      project: paths.project,
      ...(opts.hosts ? { hosts: opts.hosts } : {}),
      ...(opts.forwarder ? { forwarder: opts.forwarder } : {}),
      ...(opts.vendorPackage !== undefined ? { vendorPackage: opts.vendorPackage } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      log: (l) => log(`   ${l}`),
    });
    result.state = up.state;
    for (const w of up.warnings) log(`   warning: ${w}`);
    const st = up.state;
    const forwarder = st.forwarder === 'socat' ? 'socat' : 'a socat stand-in (no socat installed)';
    result.proven.push(
      `lab: mail, hypervisor and exchange as ${st.hostMode === 'sshd' ? 'real sshd hosts' : 'local hosts in their own directories'}, a fake Exchange EWS speaking TLS 1.2 only, all on 127.0.0.1`,
    );
    const inv = ['-i', st.inventoryDir];
    const migration = join(REPO_DIR, 'playbooks', 'ews-migration.yml');

    log('\n== ewsplay run playbooks/ews-migration.yml -i inventory/lab');
    const first = await ewsplay('first', ['run', migration, ...inv]);
    expectExit(first, 'the migration');
    const changedFirst = totalChanged(first.report);
    result.proven.push(
      `migration: every documented step ran green (${changedFirst} changes: ${st.vendorPackage === false ? "ewsplay's own forwarder unit" : "VK's socat-static package and its forwarder unit"} started with ${forwarder}, the impersonation role assigned, the sync scripts written, ${countSynced(first.report)} mailbox operations)`,
    );

    log('\n== the same run again: nothing may change');
    const second = await ewsplay('second', ['run', migration, ...inv]);
    expectExit(second, 'the second run');
    if (totalChanged(second.report) !== 0)
      throw new DemoFailure(
        `the second run changed something (${changedTasks(second.report).join('; ')}): the migration is not idempotent`,
      );
    result.proven.push('idempotent: the second run reported 0 changed on every host');

    log('\n== ewsplay run playbooks/ews-migration.yml -i inventory/lab --check --diff');
    const check = await ewsplay('check', ['run', migration, ...inv, '--check', '--diff']);
    expectExit(check, 'the check run');
    if (!check.report.check) throw new DemoFailure('the check run did not run in check mode');
    if (totalChanged(check.report) !== 0)
      throw new DemoFailure(
        `--check predicts changes on a migrated site: ${changedTasks(check.report).join('; ')}`,
      );
    result.proven.push('check mode: --check --diff on the migrated site predicted no change');

    log('\n== ewsplay run playbooks/verify.yml -i inventory/lab (EWS through the forwarder)');
    const requestLog = join(paths.dir, 'fake-ews', 'requests.jsonl');
    const before = (await readFile(requestLog, 'utf8').catch(() => '')).length;
    // The way the installer's containers reach Exchange: the mail server's forwarder port, whose certificate
    // is the forwarder's own (the form's "skip SSL verification").
    const viaForwarder = {
      ews_url: `https://127.0.0.1:${st.forwarderPort}/EWS/Exchange.asmx`,
      ews_skip_verify: true,
    };
    const verify = await ewsplay('verify', [
      'run',
      join(REPO_DIR, 'playbooks', 'verify.yml'),
      ...inv,
      '-e',
      JSON.stringify(viaForwarder),
    ]);
    expectExit(verify, 'the verification');
    result.verifyRequests = (await readFile(requestLog, 'utf8'))
      .slice(before)
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as DemoResult['verifyRequests'][number]);
    const done = (op: string) =>
      result.verifyRequests.some((r) => r.operation === op && r.responseCode === 'NoError' && r.impersonated);
    const v1 = verify.report.tasks.find((t) => t.module === 'ews_event' || /V1/.test(t.task));
    const v1Result = v1 && Object.values(v1.hosts)[0];
    if (!(done('CreateItem') && done('FindItem') && done('DeleteItem')) || v1Result?.status !== 'ok')
      throw new DemoFailure(
        `the verification did not create, find and delete an event on the fake EWS (${v1Result?.msg ?? 'no V1 result'})`,
      );
    const mailbox = result.verifyRequests.find((r) => r.impersonated)?.impersonated;
    const probe = verify.report.tasks.find((t) => t.module === 'tls_probe');
    const protocol = (probe && Object.values(probe.hosts)[0]?.data?.protocol) ?? 'TLS';
    result.proven.push(
      `verification: through the forwarder on 127.0.0.1:${st.forwarderPort} (${protocol} from the mail host, TLS 1.2 on to EWS) the service account impersonated ${mailbox} and created, found and deleted a test event`,
    );
    result.ok = true;
  } catch (e) {
    result.failure = e instanceof Error ? e.message : String(e);
  } finally {
    log('\n== ewsplay lab down');
    const down = await labDown({ project: paths.project });
    result.leftover = markedProcesses(paths.dir);
    if (result.leftover.length > 0) {
      result.ok = false;
      result.failure ??= `processes of the lab outlived lab down: ${result.leftover.join(', ')}`;
    } else if (result.ok) {
      result.proven.push(`clean up: lab down stopped ${down.stopped.length} processes by PID; none is left`);
    }
  }
  return result;
}

function expectExit(run: RunOutcome, what: string): void {
  if (run.code !== 0) {
    const failed = run.report.tasks
      .flatMap((t) => Object.entries(t.hosts).map(([h, r]) => ({ t: t.task, h, r })))
      .filter((x) => x.r.status === 'failed' || x.r.status === 'unreachable')
      .map((x) => `${x.h}: ${x.t}: ${x.r.msg ?? x.r.status}`);
    throw new DemoFailure(`${what} exited ${run.code}${failed.length ? `: ${failed.join('; ')}` : ''}`);
  }
}

function totalChanged(report: RunReport): number {
  return Object.values(report.stats).reduce((n, s) => n + s.changed, 0);
}

function changedTasks(report: RunReport): string[] {
  return report.tasks.flatMap((t) =>
    Object.entries(t.hosts)
      .filter(([, r]) => r.changed)
      .map(([h, r]) => `${h}: ${t.task}${r.msg ? ` (${r.msg})` : ''}`),
  );
}

function countSynced(report: RunReport): number {
  let n = 0;
  for (const t of report.tasks.filter((x) => x.module === 'calendar_sync')) {
    for (const r of Object.values(t.hosts)) {
      const m = /(\d+) mailbox(?:es)? done/.exec(r.msg ?? '');
      if (m) n += Number(m[1]);
    }
  }
  return n;
}

function runCli(args: string[], cwd: string, opts: DemoOptions): Promise<RunOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      stdio: opts.quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const onAbort = () => child.kill('SIGINT');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', reject);
    child.on('close', (code) => {
      opts.signal?.removeEventListener('abort', onAbort);
      if (opts.signal?.aborted) {
        reject(new DemoFailure('interrupted (Ctrl-C)'));
        return;
      }
      const report = args[args.indexOf('--report') + 1]!;
      readFile(report, 'utf8')
        .then((text) => resolve({ code: code ?? 1, output, report: JSON.parse(text) as RunReport }))
        .catch(() =>
          reject(
            new DemoFailure(
              `ewsplay ${args[0]} wrote no report (exit ${code}): ${output.trim().slice(-500)}`,
            ),
          ),
        );
    });
  });
}
