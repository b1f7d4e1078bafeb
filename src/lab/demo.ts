// `npm run demo`: the whole migration rehearsed on the lab. lab up (steps 1-3 not done); the migration
// playbook, which must stop at step 1 (the installer form is empty); the operator's part done as an operator
// does it (the values ewsplay printed typed into the installer stand-in, Play, the admin panel); the
// migration again, green; the same run again, which must change nothing; a --check --diff run, which must
// predict nothing and change nothing; playbooks/verify.yml creating, finding and deleting an event on the
// fake EWS (TLS 1.0 only) reached through the mail host's TLS forwarder; lab down, also when a step failed
// or Ctrl-C was pressed. Each ewsplay run is the
// real CLI in a child process (listr2 progress on a terminal); its JSON report is what the demo judges.
import { spawn } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { type LabUpOptions, labDown, labUp } from './lab.js';
import { LAB_DOMAIN, REPO_DIR } from './lab-inventory.js';
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
    hosts: Record<
      string,
      { status: string; changed?: boolean; msg?: string; data?: { protocol?: string; http_status?: number } }
    >;
  }[];
}

export interface DemoResult {
  ok: boolean;
  /** What was proven, one sentence each (only the steps that passed). */
  proven: string[];
  /** Steps no check could see the effect of (also on a real site): said so, not claimed. */
  notVerified: string[];
  failure?: string;
  /**
   * empty: the first run, against a site where the operator has done nothing (it must stop at step 1);
   * first: the run after the operator's part (green); second: the same again (0 changed).
   */
  runs: Record<'empty' | 'first' | 'second' | 'check' | 'verify', RunOutcome | undefined>;
  /** The fake EWS's request log over the verification run (NTLM's handshake legs are its 401s). */
  verifyRequests: {
    operation: string;
    status: number;
    responseCode?: string;
    impersonated?: string;
    auth?: string;
  }[];
  /** Lab processes still alive after lab down (must be empty). */
  leftover: number[];
  state?: LabState;
}

class DemoFailure extends Error {}

const BIN = join(REPO_DIR, 'bin', 'ewsplay.js');
/** What the operator states for step 3.1 (no API: nothing can check it) once done in the admin panel. */
const ADMIN_DONE = ['-e', 'admin_ews_domain_connected=true'];

export async function runDemo(opts: DemoOptions = {}): Promise<DemoResult> {
  const log = opts.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const paths = labPaths(opts.project);
  const result: DemoResult = {
    ok: false,
    proven: [],
    notVerified: [],
    runs: { empty: undefined, first: undefined, second: undefined, check: undefined, verify: undefined },
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
    const forwarder =
      st.forwarder === 'socat'
        ? "the distribution's socat (real)"
        : 'the Node socat stand-in (socat is not installed here)';
    const inv = ['-i', st.inventoryDir];
    const migration = join(REPO_DIR, 'playbooks', 'ews-migration.yml');

    log('\n== ewsplay run playbooks/ews-migration.yml -i inventory/lab (the operator has done nothing yet)');
    const empty = await ewsplay('empty', ['run', migration, ...inv]);
    const stopped = failures(empty.report);
    const step1 = stopped.find((f) => /^1\.2-1\.4/.test(f.task));
    if (empty.code === 0 || !step1 || stopped.length !== 1)
      throw new DemoFailure(
        `on a site where the installer form is empty, the run must stop at step 1.2-1.4 and only there (exit ${empty.code}: ${stopped.map((f) => `${f.host}: ${f.task}`).join('; ') || 'no failure'})`,
      );
    const oldTls = probeOf(empty.report, /^P5/);
    if (oldTls?.protocol !== 'TLSv1')
      throw new DemoFailure(
        `the preflight did not see the lab's Exchange speak TLS 1.0 (${oldTls?.protocol ?? 'no probe'})`,
      );
    result.proven.push(
      `lab: mail, hypervisor and exchange as ${st.hostMode === 'sshd' ? 'real sshd hosts' : 'local hosts in their own directories'}, a fake Exchange EWS that speaks only TLS 1.0 (the preflight from the mail host got ${oldTls.protocol}), all on 127.0.0.1; steps 1-3 not done`,
    );
    result.proven.push(
      'an empty installer form is not taken as done: the first run stopped at step 1.2-1.4 (no exchange-sync container, no settings), printing the values to enter',
    );

    log(
      '\n== the operator: the installer form (step 1), its environment tab (step 2), Play, the admin panel (step 3)',
    );
    const entered = await operatorPart(step1.msg, paths.dir);
    result.proven.push(
      `the operator's part, as an operator does it: ${entered} typed into the installer stand-in from what ewsplay printed, CEXSY_ACCESS_LIST_MODE set, Play pressed, the EWS domain connected in the admin panel stand-in`,
    );

    log('\n== ewsplay run playbooks/ews-migration.yml -i inventory/lab -e admin_ews_domain_connected=true');
    const first = await ewsplay('first', ['run', migration, ...inv, ...ADMIN_DONE]);
    expectExit(first, 'the migration');
    const changedFirst = totalChanged(first.report);
    const a34 = probeOf(first.report, /^A3\.4/) ?? probeOf(empty.report, /^A3\.4/);
    if (a34?.http_status === undefined)
      throw new DemoFailure('A3.4 got no HTTP answer from EWS through the forwarder');
    const shell = await readFile(join(hostDir(st, 'exchange'), 'state', 'calls.log'), 'utf8').catch(() => '');
    const throughWindowsShell = shell
      .split('\n')
      .some((l) => l.startsWith("powershell.exe '-c' 'powershell -NoProfile -NonInteractive -Command -'"));
    if (st.hostMode === 'sshd' && !throughWindowsShell)
      throw new DemoFailure(
        "A2 did not reach the exchange host through Windows OpenSSH's default shell stand-in",
      );
    result.proven.push(
      `migration: every documented step ran green (${changedFirst} changes: ${st.vendorPackage === false ? "ewsplay's own forwarder unit" : "VK's socat-static package and its forwarder unit"} started with ${forwarder}; A3.4: ${a34.protocol} to the forwarder and HTTP ${a34.http_status} from EWS behind it, over TLS 1.0; the impersonation role assigned ${st.hostMode === 'sshd' ? 'through the stand-in of Windows OpenSSH\'s default shell (powershell.exe -c "<command>")' : 'by the PowerShell stand-in (local hosts: no Windows OpenSSH stand-in)'} and proven over EWS through the forwarder; the integration read back from the exchange-sync container; the sync scripts written, ${countSynced(first.report)} mailbox operations)`,
    );
    result.notVerified = notVerified(first.report);

    log('\n== the same run again: nothing may change');
    const second = await ewsplay('second', ['run', migration, ...inv, ...ADMIN_DONE]);
    expectExit(second, 'the second run');
    if (totalChanged(second.report) !== 0)
      throw new DemoFailure(
        `the second run changed something (${changedTasks(second.report).join('; ')}): the migration is not idempotent`,
      );
    result.proven.push('idempotent: the second run reported 0 changed on every host');

    log('\n== ewsplay run playbooks/ews-migration.yml -i inventory/lab --check --diff');
    const check = await ewsplay('check', ['run', migration, ...inv, ...ADMIN_DONE, '--check', '--diff']);
    expectExit(check, 'the check run');
    if (!check.report.check) throw new DemoFailure('the check run did not run in check mode');
    if (totalChanged(check.report) !== 0)
      throw new DemoFailure(
        `--check predicts changes on a migrated site: ${changedTasks(check.report).join('; ')}`,
      );
    result.proven.push('check mode: --check --diff on the migrated site predicted no change');

    log(
      '\n== ewsplay run playbooks/verify.yml -i inventory/lab (EWS through the forwarder, as the containers reach it)',
    );
    const requestLog = join(paths.dir, 'fake-ews', 'requests.jsonl');
    const before = (await readFile(requestLog, 'utf8').catch(() => '')).length;
    const verify = await ewsplay('verify', ['run', join(REPO_DIR, 'playbooks', 'verify.yml'), ...inv]);
    expectExit(verify, 'the verification');
    result.verifyRequests = (await readFile(requestLog, 'utf8'))
      .slice(before)
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as DemoResult['verifyRequests'][number]);
    const done = (op: string) =>
      result.verifyRequests.some((r) => r.operation === op && r.responseCode === 'NoError' && r.impersonated);
    const v1 = verify.report.tasks.find((t) => t.module === 'ews_event' || /V1: a test event/.test(t.task));
    const v1Result = v1 && Object.values(v1.hosts)[0];
    if (!(done('CreateItem') && done('FindItem') && done('DeleteItem')) || v1Result?.status !== 'ok')
      throw new DemoFailure(
        `the verification did not create, find and delete an event on the fake EWS (${v1Result?.msg ?? 'no V1 result'})`,
      );
    const mailbox = result.verifyRequests.find((r) => r.impersonated)?.impersonated;
    const served = probeOf(verify.report, /^V1/);
    result.proven.push(
      `verification: through the forwarder on 127.0.0.1:${st.forwarderPort} (${served?.protocol ?? 'TLS'} from the mail host, trusting the certificate it serves; TLS 1.0 on to EWS) the service account impersonated ${mailbox} and created, found and deleted a test event`,
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

function hostDir(st: LabState, group: 'mail' | 'hypervisor' | 'exchange'): string {
  return st.hosts.find((h) => h.group === group)?.dir ?? '';
}

/**
 * The operator's part of steps 1-3, done the way an operator does it: the values of the form are read from
 * what ewsplay printed when it stopped at step 1 (the password, masked there, from the operator's own
 * records: the lab's secret file), typed into the installer stand-in, Play pressed; step 2's variable and
 * step 3's domain from the site's choices (the inventory). Returns what was entered.
 */
async function operatorPart(printed: string, labDir: string): Promise<string> {
  const field = (label: string) => {
    const m = new RegExp(`^ {2}${label.replace(/[()]/g, '\\$&')} +(.+)$`, 'm').exec(printed);
    if (!m?.[1]) throw new DemoFailure(`step 1's instructions do not show the field "${label}"`);
    return m[1].trim();
  };
  const certificate = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(printed)?.[0];
  if (!certificate) throw new DemoFailure("step 1's instructions do not show the forwarder's certificate");
  const password = await readFile(join(labDir, 'secrets', 'ews_service_password'), 'utf8');
  const fake = JSON.parse(await readFile(join(labDir, 'fake-ews', 'state.json'), 'utf8')) as {
    installerPort: number;
    adminPort: number;
  };
  const installer = `http://127.0.0.1:${fake.installerPort}`;
  const post = async (url: string, body: unknown) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw new DemoFailure(`${url} answered HTTP ${res.status}: ${await res.text()}`);
  };
  const address = field('EWS server address');
  const login = field('Login');
  await post(`${installer}/products`, { ews_calendar_migration: true });
  await post(`${installer}/integrations/ews`, {
    address,
    login,
    password,
    rights_type: field('Account rights type'),
    skip_ssl_verification: field('Skip SSL verification') === 'true',
    certificate,
  });
  await post(`${installer}/environment/calendar-cexsy`, { name: 'CEXSY_ACCESS_LIST_MODE', value: 'black' });
  await post(`${installer}/play`, {});
  // The admin panel serves the lab CA's certificate, which the operator's browser would be told to trust.
  const ca = await readFile(join(labDir, 'files', 'exchange-root-ca.pem'), 'utf8');
  await postTls(`https://127.0.0.1:${fake.adminPort}/projects`, { domain: `exchange.${LAB_DOMAIN}` }, ca);
  return `EWS address ${address}, login ${login}, the password, the forwarder's certificate`;
}

function postTls(url: string, body: unknown, ca: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      { method: 'POST', ca, headers: { 'Content-Type': 'application/json' }, timeout: 10_000 },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 200
            ? resolve()
            : reject(new DemoFailure(`${url} answered HTTP ${res.statusCode}`)),
        );
      },
    );
    req.on('timeout', () => req.destroy(new DemoFailure(`${url} did not answer`)));
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

function failures(report: RunReport): { host: string; task: string; msg: string }[] {
  return report.tasks.flatMap((t) =>
    Object.entries(t.hosts)
      .filter(([, r]) => r.status === 'failed' || r.status === 'unreachable')
      .map(([host, r]) => ({ host, task: t.task, msg: r.msg ?? r.status })),
  );
}

/** The data of the first tls_probe whose task name matches. */
function probeOf(report: RunReport, name: RegExp): { protocol?: string; http_status?: number } | undefined {
  const t = report.tasks.find((x) => x.module === 'tls_probe' && name.test(x.task));
  const r = t && Object.values(t.hosts).find((h) => h.status === 'ok');
  return r?.data;
}

/** The steps whose result says no check could see their effect. */
function notVerified(report: RunReport): string[] {
  return report.tasks
    .filter((t) =>
      Object.values(t.hosts).some(
        (r) => r.status === 'ok' && /not verified/.test(`${t.task} ${r.msg ?? ''}`),
      ),
    )
    .map((t) => t.task.replace(/^(\S+): .*$/, '$1'))
    .filter((v, i, all) => all.indexOf(v) === i);
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
