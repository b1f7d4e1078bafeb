// Wide (issue 16, item 3): the 10-task benchmark playbook of bench/vs-ansible (ewsplay.yml) on 10, 50, 100 and
// 200 real sshd hosts (the product's lab, dist/lab/sshd.js), ewsplay alone: per size a first run on fresh
// directories, a second run and a --check run, several repetitions. Asserts as it goes that the first run
// changes 8 tasks per host and the second and check runs 0; prints medians of wall time, ms per task-host,
// CPU (ewsplay; the hosts' sshd and commands) and max RSS with the load average of every sample, and writes
// the table into bench/RESULTS.md (between <!-- wide:begin --> and <!-- wide:end -->) and a plot of wall
// time, ms per task-host and RSS against hosts into bench/wide.svg.
// Run: npm run bench:wide   (builds first). Options:
//   --hosts 10,50,100,200  --reps 3  --phases first,second,check  --timeout 30 (ewsplay -T, s)
//   --ewsplay-bin PATH (another build)  --cpu-prof / --heap-prof (profiles into the work directory)
//   --login-user NAME (default: the current user, or ewsplay-bench for root, as bench:ansible)
//   --dry (print only: leave RESULTS.md and wide.svg alone)
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { $ } from 'zx/core';
import {
  checkLimits,
  fail,
  fmt,
  fmtRange,
  load1,
  machine,
  main,
  markdownTable,
  measured,
  median,
  parseRecap,
  preflight,
  range,
  replaceResultsBlock,
  root,
  svgChart,
  tailOf,
} from './lib.mjs';

const WORK = '/tmp/ewsplay-bench-wide';
const PLAYBOOK = join(root, 'bench', 'vs-ansible', 'ewsplay.yml');
const TASKS = 10;
const CHANGED_ON_FIRST_RUN = 8;
const GOALS = { msPerTaskHost: 3, rssMb: 250, at: 200 };

const { values: opts } = parseArgs({
  options: {
    hosts: { type: 'string', default: '10,50,100,200' },
    reps: { type: 'string', default: '3' },
    phases: { type: 'string', default: 'first,second,check' },
    timeout: { type: 'string', default: '30' },
    'ewsplay-bin': { type: 'string', default: join(root, 'bin', 'ewsplay.js') },
    'cpu-prof': { type: 'boolean', default: false },
    'heap-prof': { type: 'boolean', default: false },
    'login-user': { type: 'string' },
    dry: { type: 'boolean', default: false },
  },
});
const sizes = opts.hosts.split(',').map(Number);
const reps = Number(opts.reps);
const phases = opts.phases.split(',');
const bin = resolve(opts['ewsplay-bin']);
preflight({ sshd: true });
const { startSshdLab } = await import(join(root, 'dist', 'lab', 'sshd.js'));
const currentUser = (await $`id -un`).stdout.trim();
const loginUser = opts['login-user'] ?? (currentUser === 'root' ? 'ewsplay-bench' : currentUser);

/** The login user, created when missing with Debian's default dotfiles (as bench:ansible does). */
async function ensureUser(name) {
  if ((await $({ nothrow: true })`id -u ${name}`).ok) return;
  await $`useradd --create-home --shell /bin/bash ${name}`;
  await $`usermod -p '*' ${name}`;
}

function check(r, phase, hosts, label) {
  if (r.code !== 0) fail(`${label} exited ${r.code ?? r.signal}:\n${tailOf(r.out)}`);
  const stats = parseRecap(r.out);
  if (!stats) fail(`${label}: no PLAY RECAP:\n${tailOf(r.out)}`);
  const want = phase === 'first' ? CHANGED_ON_FIRST_RUN : 0;
  for (const h of hosts) {
    const s = stats[h.name];
    if (!s || s.failed || s.unreachable || s.changed !== want || s.ok !== TASKS)
      fail(`${label}: ${h.name} ${JSON.stringify(s)}, expected ${want} changed of ${TASKS} ok`);
  }
}

/** From the JSON report: the run's own duration, the first task (it connects) and the other tasks. */
function breakdown(file) {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  const slowest = report.tasks.map((t) => Math.max(...Object.values(t.hosts).map((h) => h.durationMs)));
  return {
    runMs: report.durationMs,
    firstTaskMs: slowest[0],
    otherTasksMs: slowest.slice(1).reduce((a, b) => a + b, 0),
  };
}

async function freshHostDirs(lab) {
  for (const h of lab.hosts)
    for (const name of readdirSync(h.workDir))
      await rm(join(h.workDir, name), { recursive: true, force: true });
}

/**
 * n sshd hosts bench1..benchN with one inventory (group bench) and one known_hosts file. Started 50 at a
 * time: 200 sshd processes starting at once on 2 busy cores miss the lab's 10 s wait for their banner.
 */
async function startWideLab(n) {
  const labs = [];
  try {
    for (let i = 0; i < n; i += 50) {
      const names = Array.from({ length: Math.min(50, n - i) }, (_, j) => `bench${i + j + 1}`);
      labs.push(await startSshdLab(names.length, { names, group: 'bench', user: loginUser }));
    }
  } catch (e) {
    await Promise.all(labs.map((l) => l.stop()));
    throw e;
  }
  const dir = join(WORK, 'lab');
  await mkdir(dir, { recursive: true });
  const knownHostsFile = join(dir, 'known_hosts');
  writeFileSync(knownHostsFile, labs.map((l) => readFileSync(l.knownHostsFile, 'utf8')).join(''));
  const lines = ['all:', '  children:', '    bench:', '      hosts:'];
  for (const l of labs)
    for (const h of l.hosts)
      lines.push(
        `        ${h.name}:`,
        '          ansible_host: 127.0.0.1',
        `          ansible_port: ${h.port}`,
        `          ansible_ssh_private_key_file: ${JSON.stringify(l.clientKeyFile)}`,
        `          lab_dir: ${JSON.stringify(h.workDir)}`,
      );
  lines.push(
    '      vars:',
    '        ansible_connection: ssh',
    `        ansible_user: ${JSON.stringify(loginUser)}`,
    `        ansible_ssh_common_args: ${JSON.stringify(`-F /dev/null -o UserKnownHostsFile=${knownHostsFile}`)}`,
    '',
  );
  const inventoryFile = join(dir, 'inventory.yml');
  writeFileSync(inventoryFile, lines.join('\n'));
  return {
    hosts: labs.flatMap((l) => l.hosts),
    inventoryFile,
    knownHostsFile,
    stop: () => Promise.all(labs.map((l) => l.stop())),
  };
}

async function benchSize(n, prefix) {
  const lab = await startWideLab(n);
  console.log(`\n${n} hosts (lab up; load average ${machine()})`);
  const samples = Object.fromEntries(phases.map((p) => [p, []]));
  try {
    for (let rep = 0; rep < reps; rep++) {
      await freshHostDirs(lab);
      for (const phase of phases) {
        const report = join(WORK, 'report.json');
        const prof = [
          ...(opts['cpu-prof']
            ? ['--cpu-prof', '--cpu-prof-dir', join(WORK, 'prof', `${n}-${phase}-${rep}`)]
            : []),
          ...(opts['heap-prof']
            ? ['--heap-prof', '--heap-prof-dir', join(WORK, 'prof', `${n}-${phase}-${rep}`)]
            : []),
        ];
        const argv = [
          process.execPath,
          ...prof,
          bin,
          'run',
          PLAYBOOK,
          '-i',
          lab.inventoryFile,
          '--forks',
          `${n}`,
          '--known-hosts',
          lab.knownHostsFile,
          '-T',
          opts.timeout,
          '-o',
          'plain',
          '--report',
          report,
          ...(phase === 'check' ? ['--check'] : []),
        ];
        const r = await measured(argv, {
          cwd: WORK,
          env: { ...process.env, NO_COLOR: '1' },
          hostPids: lab.hosts.map((h) => h.pid),
          prefix,
          work: WORK,
        });
        const label = `${phase} run, ${n} hosts, repetition ${rep + 1}`;
        check(r, phase, lab.hosts, label);
        Object.assign(r, breakdown(report));
        delete r.out;
        samples[phase].push(r);
        console.log(
          `  ${label}: ${(r.wallMs / 1000).toFixed(2)} s wall = ${(r.wallMs / (n * TASKS)).toFixed(2)} ms/task-host, ewsplay ${r.cpu.toFixed(2)} s CPU, hosts ${r.hostsCpu.toFixed(2)} s, ${r.rssMb.toFixed(0)} MB (load ${r.load.toFixed(2)} -> ${r.loadAfter.toFixed(2)})`,
        );
      }
    }
  } finally {
    await lab.stop();
  }
  return { n, samples };
}

function summarise({ n, samples }) {
  const rows = {};
  for (const [phase, s] of Object.entries(samples)) {
    const m = (k) => median(s.map((r) => r[k]));
    rows[phase] = {
      wallMs: m('wallMs'),
      wallRange: range(s.map((r) => r.wallMs / 1000)),
      msPerTaskHost: m('wallMs') / (n * TASKS),
      cpu: m('cpu'),
      hostsCpu: m('hostsCpu'),
      machineCpu: m('machineCpu'),
      rssMb: Math.max(...s.map((r) => r.rssMb)),
      startMs: m('wallMs') - m('runMs'),
      firstTaskMs: m('firstTaskMs'),
      otherPerTaskHost: m('otherTasksMs') / (n * (TASKS - 1)),
      load: range(s.flatMap((r) => [r.load, r.loadAfter])),
      reps: s.length,
    };
  }
  return { n, rows };
}

function table(summaries) {
  const head = [
    'hosts',
    'phase',
    'wall (median)',
    'wall (range)',
    'ms/task-host',
    'start+exit',
    'first task',
    'other tasks ms/task-host',
    'CPU ewsplay',
    'CPU hosts',
    'max RSS',
    'load average',
  ];
  const rows = [];
  for (const { n, rows: r } of summaries)
    for (const [phase, x] of Object.entries(r))
      rows.push([
        n,
        phase,
        `${fmt(x.wallMs / 1000)} s`,
        `${fmtRange(x.wallRange)} s`,
        fmt(x.msPerTaskHost),
        `${fmt(x.startMs / 1000)} s`,
        `${fmt(x.firstTaskMs / 1000)} s`,
        fmt(x.otherPerTaskHost),
        `${fmt(x.cpu)} s`,
        `${fmt(x.hostsCpu)} s`,
        `${fmt(x.rssMb, 1)} MB`,
        fmtRange(x.load, 1),
      ]);
  return markdownTable(
    head,
    rows,
    head.map((_, i) => (i === 1 ? 'l' : 'r')),
  );
}

function verdicts(summaries) {
  const at = summaries.find((s) => s.n === GOALS.at);
  if (!at) return [];
  const lines = [];
  for (const [phase, x] of Object.entries(at.rows))
    lines.push(
      `${x.msPerTaskHost <= GOALS.msPerTaskHost ? 'PASS' : 'MISS'}  ${phase} run at ${GOALS.at} hosts: ${x.msPerTaskHost.toFixed(2)} ms per task-host (goal <= ${GOALS.msPerTaskHost} ms)`,
    );
  const rss = Math.max(...Object.values(at.rows).map((x) => x.rssMb));
  lines.push(
    `${rss <= GOALS.rssMb ? 'PASS' : 'MISS'}  max RSS at ${GOALS.at} hosts: ${rss.toFixed(1)} MB (goal <= ${GOALS.rssMb} MB)`,
  );
  return lines;
}

function chart(summaries) {
  const xs = summaries.map((s) => s.n);
  const colors = { first: '#d62728', second: '#1f77b4', check: '#2ca02c' };
  const series = (key, scale = 1) =>
    phases.map((p) => ({
      label: `${p} run`,
      color: colors[p] ?? '#555',
      points: summaries.map((s) => [s.n, s.rows[p] ? s.rows[p][key] * scale : undefined]),
    }));
  return svgChart(
    [
      {
        title: 'Wall time',
        xLabel: 'hosts (x 10 tasks)',
        yLabel: 'seconds',
        xs,
        series: series('wallMs', 1 / 1000),
        goal: {
          label: `goal: ${GOALS.msPerTaskHost} ms per task-host`,
          color: '#999',
          points: xs.map((n) => [n, (n * TASKS * GOALS.msPerTaskHost) / 1000]),
        },
      },
      {
        title: 'Wall time per task-host',
        xLabel: 'hosts (x 10 tasks)',
        yLabel: 'ms',
        xs,
        series: series('msPerTaskHost'),
        goal: {
          label: `goal <= ${GOALS.msPerTaskHost} ms (at ${GOALS.at})`,
          color: '#999',
          points: xs.map((n) => [n, GOALS.msPerTaskHost]),
        },
      },
      {
        title: 'Max RSS of ewsplay',
        xLabel: 'hosts',
        yLabel: 'MB',
        xs,
        series: series('rssMb'),
        goal: { label: `goal <= ${GOALS.rssMb} MB`, color: '#999', points: xs.map((n) => [n, GOALS.rssMb]) },
      },
    ],
    `ewsplay, bench/vs-ansible/ewsplay.yml on N sshd hosts, medians of ${reps}; ${new Date().toISOString().slice(0, 10)}; load average ${summaries
      .flatMap((s) => Object.values(s.rows).flatMap((r) => r.load))
      .reduce((a, b) => [Math.min(a[0], b), Math.max(a[1], b)], [Infinity, 0])
      .map((l) => l.toFixed(1))
      .join('-')}`,
  );
}

await main(async () => {
  await rm(WORK, { recursive: true, force: true });
  await mkdir(WORK, { recursive: true });
  const biggest = Math.max(...sizes);
  // Per host: its sshd, the connection's two sshd processes, a few shells and the commands they run; the
  // ewsplay process holds a socket and a few pipes per host.
  const { limits, prefix } = await checkLimits({ processes: biggest * 8 + 200, files: biggest * 8 + 256 });
  if (loginUser !== currentUser) await ensureUser(loginUser);
  console.log(
    `wide: ${TASKS} tasks on ${sizes.join(', ')} sshd hosts, ${reps} repetitions, login user ${loginUser}; ${machine()}`,
  );
  console.log(
    `  limits: ${JSON.stringify(limits)}${prefix.length ? `; children run under ${prefix.join(' ')}` : ''}`,
  );
  const summaries = [];
  for (const n of sizes) summaries.push(summarise(await benchSize(n, prefix)));
  const text = table(summaries);
  const goals = verdicts(summaries);
  console.log(`\n${text}\n\n${goals.join('\n')}`);
  writeFileSync(join(WORK, 'results.json'), `${JSON.stringify({ limits, summaries }, null, 2)}\n`);
  console.log(`\nmedians written to ${join(WORK, 'results.json')}; load average now ${load1().toFixed(2)}`);
  if (opts.dry) return;
  writeFileSync(join(root, 'bench', 'wide.svg'), chart(summaries));
  const block = [
    `Written by \`npm run bench:wide\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC (${reps} repetitions, \`-T ${opts.timeout}\`):`,
    '',
    text,
    '',
    ...goals.map((g) => `- ${g}`),
    '',
    '![wall time, ms per task-host and RSS against hosts](wide.svg)',
  ].join('\n');
  console.log(
    replaceResultsBlock('wide', block)
      ? 'bench/RESULTS.md (block wide) and bench/wide.svg written'
      : 'bench/wide.svg written; bench/RESULTS.md has no <!-- wide:begin --> block: left alone',
  );
});
