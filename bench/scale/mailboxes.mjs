// Many mailboxes (issue 16, item 5): calendar_sync over 500, 1000, 2000 and 5000 mailboxes in batches of 50,
// through the CLI, on the lab's hypervisor host: a real sshd host (dist/lab/sshd.js) whose sessions find the
// lab's vendor stand-ins on their PATH (dist/lab/lab-hosts.js: sudo, and docker with the VK subscriber), as
// in the lab and the tests. The playbook is the migration's own step 4.1 and 4.2-4.4 task files
// (tasks/sync-scripts.yml, tasks/calendar-sync.yml) with the mailboxes in a CSV file (sync_mailboxes_file).
// The subscriber stand-in does not call the fake EWS (neither does the vendor's sync script: it talks to VK's
// own services), so no EWS server is involved.
//
// Per size: a first run on a fresh state (every mailbox synced) and a second run (every mailbox skipped),
// several repetitions. Measured: wall (spawn to exit), the calendar_sync task's own time (from the report),
// CPU of ewsplay and of the host's side, max RSS, the state file (.ewsplay/state/SITE/calendar-sync.json),
// the site's state file (which carries the mailbox outcomes for `ewsplay status`) and the report, and the
// load average. Asserts: the first run syncs every mailbox once (the stand-in's record), the second run
// changes nothing. Goals: time and state size linear in the number of mailboxes; the re-run under 1 s.
// Run: npm run bench:mailboxes   (builds first). Options: --mailboxes 500,1000,2000,5000  --reps 3
//   --batch 50  --hosts sshd|local  --ewsplay-bin PATH  --cpu-prof  --dry (leave RESULTS.md alone)
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  fail,
  fmt,
  fmtRange,
  load1,
  machine,
  main,
  markdownTable,
  measured,
  median,
  preflight,
  range,
  replaceResultsBlock,
  root,
  tailOf,
} from './lib.mjs';

const WORK = '/tmp/ewsplay-bench-mailboxes';
const GOALS = { rerunMs: 1000, linear: 1.25 };

const { values: opts } = parseArgs({
  options: {
    mailboxes: { type: 'string', default: '500,1000,2000,5000' },
    reps: { type: 'string', default: '3' },
    batch: { type: 'string', default: '50' },
    hosts: { type: 'string', default: 'sshd' },
    'ewsplay-bin': { type: 'string', default: join(root, 'bin', 'ewsplay.js') },
    'cpu-prof': { type: 'boolean', default: false },
    dry: { type: 'boolean', default: false },
  },
});
const sizes = opts.mailboxes.split(',').map(Number);
const reps = Number(opts.reps);
const bin = resolve(opts['ewsplay-bin']);
preflight({ sshd: opts.hosts === 'sshd' });
const { startSshdLab } = await import(join(root, 'dist', 'lab', 'sshd.js'));
const { prepareHost } = await import(join(root, 'dist', 'lab', 'lab-hosts.js'));

const PROJECT = join(WORK, 'project');
const HOST_DIR = join(WORK, 'hosts', 'lab-hypervisor');
const DEPLOYER = join(HOST_DIR, 'home', 'deployer');
const SITE = 'bench';
const stateFile = join(PROJECT, '.ewsplay', 'state', SITE, 'calendar-sync.json');
const siteStateFile = join(PROJECT, '.ewsplay', 'state', `${SITE}.json`);
const subscribed = join(HOST_DIR, 'state', 'docker', 'subscriber', 'sync_all');

/** The hypervisor host: the lab's stand-ins in its bin/, reached over sshd (or as a local host). */
async function startHost() {
  await prepareHost(WORK, { name: 'lab-hypervisor', group: 'hypervisor', dir: HOST_DIR }, 'socat', {
    deployerHome: DEPLOYER,
  });
  const inventory = join(PROJECT, 'inventory', SITE);
  mkdirSync(inventory, { recursive: true });
  if (opts.hosts === 'local') {
    writeFileSync(
      join(inventory, 'hosts.yml'),
      `all:\n  children:\n    hypervisor:\n      hosts:\n        lab-hypervisor: { ansible_connection: local, ewsplay_local_root: ${JSON.stringify(HOST_DIR)} }\n`,
    );
    return { stop: async () => {}, pids: [] };
  }
  const lab = await startSshdLab(1, {
    names: ['lab-hypervisor'],
    hostConfig: () => [
      `SetEnv PATH=${join(HOST_DIR, 'bin')}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    ],
  });
  const h = lab.hosts[0];
  writeFileSync(
    join(inventory, 'hosts.yml'),
    [
      'all:',
      '  children:',
      '    hypervisor:',
      '      hosts:',
      '        lab-hypervisor:',
      '          ansible_host: 127.0.0.1',
      `          ansible_port: ${h.port}`,
      `          ansible_user: ${JSON.stringify(lab.user)}`,
      `          ansible_ssh_private_key_file: ${JSON.stringify(lab.clientKeyFile)}`,
      `          ansible_ssh_common_args: ${JSON.stringify(`-F /dev/null -o UserKnownHostsFile=${lab.knownHostsFile}`)}`,
      '',
    ].join('\n'),
  );
  return { stop: () => lab.stop(), pids: [h.pid] };
}

/** The migration's steps 4.1-4.4 with the mailboxes of `file` (its templates found beside the playbook). */
function writePlaybook(file) {
  const vars = {
    deployer_home: DEPLOYER,
    exchange_sync_container: 'exchange-sync-api1',
    sync_mailboxes: [],
    sync_mailboxes_file: file,
    subscribe_mailboxes: [],
    subscribe_mailboxes_file: '',
    sync_batch_size: Number(opts.batch),
    sync_retry_failed: false,
    site_name: '{{ ewsplay_site }}',
  };
  writeFileSync(
    join(PROJECT, 'sync.yml'),
    [
      '- name: Calendar sync',
      '  hosts: hypervisor',
      '  gather_facts: false',
      '  vars:',
      ...Object.entries(vars).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`),
      '  tasks:',
      '    - name: "Step 4.1: sync scripts in the deployer\'s home"',
      `      import_tasks: ${join(root, 'tasks', 'sync-scripts.yml')}`,
      '    - name: "Steps 4.2-4.4: calendar sync"',
      `      import_tasks: ${join(root, 'tasks', 'calendar-sync.yml')}`,
      '',
    ].join('\n'),
  );
}

function mailboxFile(n) {
  const file = join(PROJECT, 'files', `mailboxes-${n}.csv`);
  mkdirSync(join(PROJECT, 'files'), { recursive: true });
  const lines = ['email,name'];
  for (let i = 1; i <= n; i++) lines.push(`User${String(i).padStart(5, '0')}.Test@corp.example,User ${i}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function fresh() {
  rmSync(join(PROJECT, '.ewsplay'), { recursive: true, force: true });
  rmSync(join(HOST_DIR, 'state', 'docker', 'subscriber'), { recursive: true, force: true });
  rmSync(join(HOST_DIR, 'state', 'calls.log'), { force: true });
}

const size = (f) => (existsSync(f) ? statSync(f).size : 0);

/** The calendar_sync task's result from the report. */
function syncResult(report) {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  const task = r.tasks.find(
    (t) => t.module === 'calendar_sync' && Object.values(t.hosts)[0].status !== 'skipped',
  );
  const h = task && Object.values(task.hosts)[0];
  if (!h) fail('no calendar_sync result in the report');
  return { status: h.status, msg: h.msg ?? '', taskMs: h.durationMs, runMs: r.durationMs };
}

async function run(n, phase, rep, host) {
  const report = join(WORK, 'report.json');
  const prof = opts['cpu-prof']
    ? ['--cpu-prof', '--cpu-prof-dir', join(WORK, 'prof', `${n}-${phase}-${rep}`)]
    : [];
  const r = await measured(
    [
      process.execPath,
      ...prof,
      bin,
      'run',
      'sync.yml',
      '-i',
      `inventory/${SITE}`,
      '-o',
      'plain',
      '--report',
      report,
    ],
    { cwd: PROJECT, env: { ...process.env, NO_COLOR: '1' }, hostPids: host.pids, work: WORK },
  );
  if (r.code !== 0) fail(`${phase} run of ${n} mailboxes exited ${r.code}:\n${tailOf(r.out)}`);
  const s = syncResult(report);
  if (phase === 'first') {
    if (s.status !== 'changed' || !s.msg.startsWith(`sync: ${n} mailboxes done`))
      fail(`first run of ${n}: ${s.status}: ${s.msg.slice(0, 300)}`);
    const lines = readFileSync(subscribed, 'utf8').trim().split('\n');
    if (lines.length !== n || new Set(lines).size !== n)
      fail(
        `first run of ${n}: the subscriber recorded ${lines.length} mailboxes (${new Set(lines).size} distinct)`,
      );
  } else if (s.status !== 'ok' || !s.msg.startsWith(`all ${n} mailboxes already done`))
    fail(`second run of ${n}: ${s.status}: ${s.msg.slice(0, 300)}`);
  return {
    ...r,
    out: undefined,
    ...s,
    stateBytes: size(stateFile),
    siteStateBytes: size(siteStateFile),
    reportBytes: size(report),
  };
}

await main(async () => {
  await rm(WORK, { recursive: true, force: true });
  mkdirSync(PROJECT, { recursive: true });
  // The migration's templates (playbooks/templates/*.sh.j2) beside the playbook, as for the migration.
  symlinkSync(join(root, 'playbooks', 'templates'), join(PROJECT, 'templates'));
  console.log(
    `mailboxes: calendar_sync over ${sizes.join(', ')} mailboxes, batches of ${opts.batch}, ${opts.hosts} host, ${reps} repetitions; ${machine()}`,
  );
  const host = await startHost();
  const results = [];
  try {
    for (const n of sizes) {
      writePlaybook(mailboxFile(n));
      const samples = { first: [], second: [] };
      for (let rep = 0; rep < reps; rep++) {
        fresh();
        for (const phase of ['first', 'second']) {
          const x = await run(n, phase, rep, host);
          samples[phase].push(x);
          console.log(
            `  ${n} mailboxes, ${phase} run ${rep + 1}: ${(x.wallMs / 1000).toFixed(2)} s wall, calendar_sync ${(x.taskMs / 1000).toFixed(2)} s, ewsplay CPU ${x.cpu.toFixed(2)} s, host ${x.hostsCpu.toFixed(2)} s, ${x.rssMb.toFixed(0)} MB; state ${(x.stateBytes / 1024).toFixed(0)} KB, site state ${(x.siteStateBytes / 1024).toFixed(0)} KB, report ${(x.reportBytes / 1024).toFixed(0)} KB (load ${x.load.toFixed(2)} -> ${x.loadAfter.toFixed(2)})`,
          );
        }
      }
      const m = (phase, k) => median(samples[phase].map((x) => x[k]));
      results.push({
        n,
        first: {
          wallMs: m('first', 'wallMs'),
          taskMs: m('first', 'taskMs'),
          cpu: m('first', 'cpu'),
          hostsCpu: m('first', 'hostsCpu'),
          rssMb: Math.max(...samples.first.map((x) => x.rssMb)),
          stateBytes: m('first', 'stateBytes'),
          siteStateBytes: m('first', 'siteStateBytes'),
          reportBytes: m('first', 'reportBytes'),
          load: range(samples.first.flatMap((x) => [x.load, x.loadAfter])),
        },
        second: {
          wallMs: m('second', 'wallMs'),
          wallRange: range(samples.second.map((x) => x.wallMs)),
          taskMs: m('second', 'taskMs'),
          cpu: m('second', 'cpu'),
          rssMb: Math.max(...samples.second.map((x) => x.rssMb)),
          reportBytes: m('second', 'reportBytes'),
          load: range(samples.second.flatMap((x) => [x.load, x.loadAfter])),
        },
      });
    }
  } finally {
    await host.stop();
  }
  const head = [
    'mailboxes',
    'first run',
    'calendar_sync',
    'per mailbox',
    'CPU ewsplay',
    'CPU host',
    'max RSS',
    'state file',
    'per mailbox',
    'site state',
    'report',
    'load',
    're-run',
    're-run CPU',
    're-run task',
    're-run RSS',
    're-run load',
  ];
  const rows = results.map(({ n, first: f, second: s }) => [
    n,
    `${fmt(f.wallMs / 1000)} s`,
    `${fmt(f.taskMs / 1000)} s`,
    `${fmt(f.taskMs / n)} ms`,
    `${fmt(f.cpu)} s`,
    `${fmt(f.hostsCpu)} s`,
    `${fmt(f.rssMb, 0)} MB`,
    `${fmt(f.stateBytes / 1024, 0)} KB`,
    `${fmt(f.stateBytes / n, 0)} B`,
    `${fmt(f.siteStateBytes / 1024, 0)} KB`,
    `${fmt(f.reportBytes / 1024, 0)} KB`,
    fmtRange(f.load, 1),
    `${fmt(s.wallMs / 1000)} s`,
    `${fmt(s.cpu)} s`,
    `${fmt(s.taskMs, 0)} ms`,
    `${fmt(s.rssMb, 0)} MB`,
    fmtRange(s.load, 1),
  ]);
  const table = markdownTable(head, rows);
  const per = results.map((r) => r.first.taskMs / r.n);
  // CPU is what grows with the work, whatever else the machine runs: ewsplay's (the first run's beyond the
  // re-run's, which does everything but the syncing) and the host's (sshd, the sync script, the stand-ins).
  const cpuPer = results.map((r) => ((r.first.cpu - r.second.cpu + r.first.hostsCpu) * 1000) / r.n);
  const perState = results.map((r) => r.first.stateBytes / r.n);
  const slowest = results.reduce((a, r) => (r.second.wallMs > a.second.wallMs ? r : a));
  const goals = [
    `${Math.max(...cpuPer) / Math.min(...cpuPer) <= GOALS.linear ? 'PASS' : 'MISS'}  time linear: CPU per mailbox ${cpuPer.map((p) => p.toFixed(2)).join(' / ')} ms at ${sizes.join(' / ')} (ewsplay beyond the re-run, plus the host; goal: within ${GOALS.linear}x of each other); wall of calendar_sync ${per.map((p) => p.toFixed(2)).join(' / ')} ms per mailbox (the load average moves it)`,
    `${Math.max(...perState) / Math.min(...perState) <= 1.05 ? 'PASS' : 'MISS'}  state file linear: ${perState.map((p) => p.toFixed(0)).join(' / ')} bytes per mailbox`,
    `${slowest.second.wallMs < GOALS.rerunMs ? 'PASS' : 'MISS'}  re-run that skips everything: ${results.map((r) => `${(r.second.wallMs / 1000).toFixed(2)} s at ${r.n}`).join(', ')} (whole command, SSH login and step 4.1 included; goal < 1 s); its CPU ${results.map((r) => `${r.second.cpu.toFixed(2)} s`).join(', ')}, calendar_sync itself ${results.map((r) => `${r.second.taskMs.toFixed(0)} ms`).join(', ')}`,
  ];
  console.log(`\n${table}\n\n${goals.join('\n')}\n\nload average now ${load1().toFixed(2)}`);
  writeFileSync(join(WORK, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  if (opts.dry) return;
  const block = [
    `Written by \`npm run bench:mailboxes\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC (${opts.hosts} host, batches of ${opts.batch}, medians of ${reps}):`,
    '',
    table,
    '',
    ...goals.map((g) => `- ${g}`),
  ].join('\n');
  console.log(
    replaceResultsBlock('mailboxes', block)
      ? 'bench/RESULTS.md (block mailboxes) written'
      : 'bench/RESULTS.md has no <!-- mailboxes:begin --> block: left alone',
  );
});
