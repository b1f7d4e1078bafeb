// ewsplay against ansible-playbook on the same real sshd hosts (issue 3, item 9). For 10 and then 50 hosts:
// the same idempotent 10-task playbook (ansible.yml / ewsplay.yml), run by each tool in turn: a first run on
// fresh directories, a second run, then --check. Prints medians of wall clock and CPU, the ratios, and the
// targets; asserts as it goes that second runs and check runs change nothing.
// The hosts are the product's sshd lab (dist/lab/sshd.js): real OpenSSH sshd processes on 127.0.0.1.
// Run: npm run bench:ansible   (builds first; takes several minutes, so it is run by hand, not in CI).
// Needs ansible-playbook (Debian: apt-get install ansible-core), sshd (openssh-server) and GNU time.
// Options: --hosts 10,50  --ansible-reps 3,1  --ewsplay-reps 5
//      --only ewsplay|ansible  --cpu-prof (writes ewsplay CPU profiles into the work directory)
//      --ewsplay-bin PATH (another build's bin/ewsplay.js, to compare)
//      --login-user NAME (log in as this user, created when missing; default: the current user, or, when
//      that is root, a user `ewsplay-bench` with Debian's stock dotfiles: a developer's root ~/.bashrc (pyenv,
//      cargo) runs on every SSH command of both tools and would measure that instead of the tools)
// Shell work (who am I, what is installed, the process table, user accounts) goes through zx's $; the timed
// runs keep node's spawn, which runs the tool under GNU time with no shell in between and kills it on time.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { $, which } from 'zx/core';

const here = import.meta.dirname;
const root = resolve(here, '..', '..');
const WORK = '/tmp/ewsplay-bench';
const TASKS = 10;
/** Tasks that change something on fresh directories: all but stat and the read-only shell. */
const CHANGED_ON_FIRST_RUN = 8;
const TARGETS = { ratioAt10: 30, msPerTaskHostAt50: 5, rssMbAt50: 150 };
const PHASES = ['first', 'second', 'check'];

const { values: opts } = parseArgs({
  options: {
    hosts: { type: 'string', default: '10,50' },
    'ansible-reps': { type: 'string', default: '3,1' },
    'ewsplay-reps': { type: 'string', default: '5' },
    only: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    'login-user': { type: 'string' },
    'ewsplay-bin': { type: 'string', default: join(root, 'bin', 'ewsplay.js') },
  },
});
const list = (s) => s.split(',').map((x) => Number.parseInt(x, 10));
const sizes = list(opts.hosts);
const repsFor = (s, i) => {
  const reps = list(s);
  return reps[Math.min(i, reps.length - 1)];
};
const tools = opts.only ? [opts.only] : ['ansible', 'ewsplay'];
const ewsplayBin = resolve(opts['ewsplay-bin']);
const currentUser = (await $`id -un`).stdout.trim();
const loginUser = opts['login-user'] ?? (currentUser === 'root' ? 'ewsplay-bench' : currentUser);

/** Stops before any work with what to install or build, rather than failing minutes in. */
function preflight() {
  const missing = [];
  const onPath = (cmd) => which.sync(cmd, { nothrow: true }) !== null;
  if (tools.includes('ansible') && !onPath('ansible-playbook'))
    missing.push(
      'ansible-playbook is not installed. On Debian/Ubuntu: `sudo apt-get update && sudo apt-get install -y ansible-core`\n' +
        '  (elsewhere: `pipx install ansible-core`), or run only ewsplay with `--only ewsplay`.',
    );
  if (!existsSync('/usr/sbin/sshd'))
    missing.push('sshd is not installed: `sudo apt-get install -y openssh-server`.');
  if (!existsSync('/usr/bin/time'))
    missing.push('GNU time is not installed: `sudo apt-get install -y time`.');
  if (
    !existsSync(join(root, 'dist', 'lab', 'sshd.js')) ||
    !existsSync(join(ewsplayBin, '..', '..', 'dist', 'cli', 'main.js'))
  )
    missing.push('no build found: run `npm run build` (or `npm run bench:ansible`, which builds first).');
  if (missing.length) {
    process.stderr.write(`cannot run the benchmark:\n${missing.map((m) => `- ${m}`).join('\n')}\n`);
    process.exit(2);
  }
}
preflight();
const { startSshdLab } = await import('../../dist/lab/sshd.js');

const CLK_TCK = 100; // Linux USER_HZ, the unit of /proc/stat
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** A failed run or a broken assertion: the figures would mean nothing. Thrown so the lab still stops. */
class BenchFailure extends Error {}
function fail(message) {
  throw new BenchFailure(message);
}

/** CPU seconds the whole machine spent busy so far (every process: the tool, sshd, remote shells, python). */
function machineCpuSeconds() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = f;
  return (user + nice + system + irq + softirq + steal) / CLK_TCK;
}

/** utime+stime+cutime+cstime of a process in seconds (0 when it is gone). */
function processCpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime is field 14 of the line, so index 11 here.
    const f = stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
    return (f[11] + f[12] + f[13] + f[14]) / CLK_TCK;
  } catch {
    return 0;
  }
}

/**
 * CPU seconds spent so far on the hosts' side (each sshd, its sessions, the shells and commands they ran:
 * an exited process's time is in its parent's cutime) and by Ansible's ControlPersist masters (detached
 * ssh processes that GNU time cannot see). Unlike the whole machine's CPU, other users' load is not in it.
 */
function workloadCpuSeconds(lab) {
  const children = new Map();
  const masters = [];
  for (const line of $.sync`ps -e -o pid=,ppid=,args=`.stdout.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const [pid, ppid] = [Number(m[1]), Number(m[2])];
    children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    if (m[3].startsWith('ssh: ') && m[3].includes(join(WORK, 'cp'))) masters.push(pid);
  }
  const pids = [...masters];
  const hostPids = lab.hosts.map((h) => h.pid);
  for (let i = 0; i < hostPids.length; i++) hostPids.push(...(children.get(hostPids[i]) ?? []));
  return [...pids, ...hostPids].reduce((sum, pid) => sum + processCpuSeconds(pid), 0);
}

/**
 * Runs a command under GNU time (which waits for it, so user+sys include its waited-for children, and %M
 * is the largest max RSS among them). Resolves with wall, CPU and output; never rejects.
 */
function measured(argv, { cwd, env, timeoutMs, lab }) {
  const timeFile = join(WORK, 'time.out');
  return new Promise((done) => {
    const cpu0 = machineCpuSeconds();
    const hosts0 = workloadCpuSeconds(lab);
    const load = loadavg()[0];
    const t0 = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', '%U %S %M', '-o', timeFile, '--', ...argv], {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
      const machineCpu = machineCpuSeconds() - cpu0;
      const hostsCpu = workloadCpuSeconds(lab) - hosts0;
      const lines = existsSync(timeFile) ? readFileSync(timeFile, 'utf8').trim().split('\n') : [];
      const [user, sys, rssKb] = (lines.at(-1) ?? '0 0 0').split(' ').map(Number);
      const cpu = user + sys;
      done({
        code,
        signal,
        out,
        wallMs,
        cpu,
        totalCpu: cpu + hostsCpu,
        machineCpu,
        rssMb: rssKb / 1024,
        load,
      });
    });
  });
}

/** Per-host counters from a PLAY RECAP (both tools print Ansible's layout). */
function parseRecap(out) {
  const at = out.lastIndexOf('PLAY RECAP');
  if (at < 0) return undefined;
  const stats = {};
  const line =
    /^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)\s+rescued=(\d+)\s+ignored=(\d+)/gm;
  for (const m of out.slice(at).matchAll(line)) {
    const [ok, changed, unreachable, failed, skipped] = m.slice(2, 7).map(Number);
    stats[m[1]] = { ok, changed, unreachable, failed, skipped };
  }
  return stats;
}

/** What a host's counters must be after each phase; returns the first host that breaks them. */
function recapProblem(stats, hosts, phase) {
  if (!stats) return 'no PLAY RECAP in the output';
  for (const h of hosts) {
    const s = stats[h.name];
    if (!s) return `${h.name} missing from the recap`;
    const wantChanged = phase === 'first' ? CHANGED_ON_FIRST_RUN : 0;
    // In check mode Ansible may report a command task as skipped; every task still has to end ok or skipped.
    const done = phase === 'check' ? s.ok + s.skipped : s.ok;
    if (s.failed || s.unreachable || s.changed !== wantChanged || done !== TASKS) {
      return `${h.name}: ${JSON.stringify(s)}, expected ${wantChanged} changed and ${TASKS} tasks ok`;
    }
  }
  return undefined;
}

/**
 * Splits an ewsplay run by its JSON report: the first task's slowest host (it opens the SSH connection and
 * the remote shell) and the other tasks, each counted at its slowest host (the linear strategy waits for it).
 */
function ewsplayBreakdown(reportFile) {
  const report = JSON.parse(readFileSync(reportFile, 'utf8'));
  const slowest = report.tasks.map((t) => Math.max(...Object.values(t.hosts).map((h) => h.durationMs)));
  return { firstTaskMs: slowest[0], otherTasksMs: slowest.slice(1).reduce((a, b) => a + b, 0) };
}

/** Every file and directory under `dir`: mode, content hash, and times (ctime moves on chmod too). */
function snapshot(dir) {
  const entries = {};
  const walk = (d, rel) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(p);
      const content = st.isFile() ? createHash('sha256').update(readFileSync(p)).digest('hex') : '';
      entries[r] = { mode: (st.mode & 0o7777).toString(8), content, mtime: st.mtimeMs, ctime: st.ctimeMs };
      if (st.isDirectory()) walk(p, r);
    }
  };
  walk(dir, '');
  return entries;
}

/** Paths whose entries differ between two snapshots, comparing only the given fields. */
function differences(a, b, fields) {
  const paths = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return paths.filter((p) => !a[p] || !b[p] || fields.some((f) => a[p][f] !== b[p][f]));
}

/** Empties every host's work directory (the lab made them writable by any login user). */
async function freshHostDirs(lab) {
  for (const h of lab.hosts) {
    for (const name of readdirSync(h.workDir))
      await rm(join(h.workDir, name), { recursive: true, force: true });
  }
}

/** The login user, created when missing with Debian's default dotfiles (the lab itself creates no user). */
async function ensureUser(name) {
  if ((await $({ nothrow: true })`id -u ${name}`).ok) return;
  await $`useradd --create-home --shell /bin/bash ${name}`;
  // No password, but not locked: without PAM, sshd refuses key logins to a locked ('!') account.
  await $`usermod -p '*' ${name}`;
}

function ansibleConfig(lab, forks) {
  const file = join(WORK, 'ansible.cfg');
  writeFileSync(
    file,
    [
      '[defaults]',
      `inventory = ${lab.inventoryFile}`,
      `forks = ${forks}`,
      'host_key_checking = True',
      'gathering = explicit',
      // A fixed interpreter spares Ansible its per-host discovery round trip.
      'interpreter_python = /usr/bin/python3',
      'retry_files_enabled = False',
      'nocolor = True',
      `local_tmp = ${join(WORK, 'ansible-tmp')}`,
      '',
      '[ssh_connection]',
      'pipelining = True',
      // Ansible's default ssh_args minus -C (compression only costs CPU on loopback), plus the lab's keys.
      `ssh_args = -o ControlMaster=auto -o ControlPersist=600s -o UserKnownHostsFile=${lab.knownHostsFile} -o StrictHostKeyChecking=yes`,
      `control_path_dir = ${join(WORK, 'cp')}`,
      '',
    ].join('\n'),
  );
  return file;
}

async function runTool(tool, phase, lab, n, rep) {
  const check = phase === 'check' ? ['--check'] : [];
  const env = { ...process.env, NO_COLOR: '1', ANSIBLE_CONFIG: join(WORK, 'ansible.cfg') };
  const timeoutMs = 20 * 60_000;
  if (tool === 'ansible') {
    return measured(
      ['ansible-playbook', join(here, 'ansible.yml'), '-i', lab.inventoryFile, '-f', `${n}`, ...check],
      { cwd: WORK, env, timeoutMs, lab },
    );
  }
  const prof = opts['cpu-prof']
    ? ['--cpu-prof', '--cpu-prof-dir', join(WORK, 'prof', `${n}-${phase}-${rep}`)]
    : [];
  return measured(
    [
      process.execPath,
      ...prof,
      ewsplayBin,
      'run',
      join(here, 'ewsplay.yml'),
      '-i',
      lab.inventoryFile,
      '--forks',
      `${n}`,
      '--known-hosts',
      lab.knownHostsFile,
      '-o',
      'plain',
      '--report',
      join(WORK, 'ewsplay-report.json'),
      ...check,
    ],
    { cwd: WORK, env, timeoutMs, lab },
  );
}

async function benchSize(n, sizeIndex) {
  const reps = {
    ansible: repsFor(opts['ansible-reps'], sizeIndex),
    ewsplay: repsFor(opts['ewsplay-reps'], sizeIndex),
  };
  if (loginUser !== currentUser) await ensureUser(loginUser);
  const lab = await startSshdLab(n, { prefix: 'bench', group: 'bench', user: loginUser });
  const hostsDir = join(lab.dir, 'hosts');
  ansibleConfig(lab, n);
  console.log(
    `  load average before: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const samples = {};
  const finalState = {};
  try {
    const maxReps = Math.max(...tools.map((t) => reps[t]));
    for (let rep = 0; rep < maxReps; rep++) {
      for (const tool of tools) {
        if (rep >= reps[tool]) continue;
        await freshHostDirs(lab);
        for (const phase of PHASES) {
          // A second run and a check run must not touch a file: not its content, mode or times.
          const before = phase === 'first' ? undefined : snapshot(hostsDir);
          const r = await runTool(tool, phase, lab, n, rep);
          const label = `${tool} ${phase} run, ${n} hosts, repetition ${rep + 1}`;
          if (r.code !== 0) fail(`${label} exited ${r.code ?? r.signal}:\n${r.out}`);
          const problem = recapProblem(parseRecap(r.out), lab.hosts, phase);
          if (problem) fail(`${label}: ${problem}\n${r.out}`);
          if (before) {
            const touched = differences(before, snapshot(hostsDir), ['mode', 'content', 'mtime', 'ctime']);
            if (touched.length) fail(`${label} changed files: ${touched.slice(0, 10).join(', ')}\n${r.out}`);
          }
          if (phase === 'second') finalState[tool] = snapshot(hostsDir);
          if (tool === 'ewsplay') Object.assign(r, ewsplayBreakdown(join(WORK, 'ewsplay-report.json')));
          const key = `${tool}/${phase}`;
          samples[key] = [...(samples[key] ?? []), r];
          process.stdout.write(
            `  ${label}: ${(r.wallMs / 1000).toFixed(2)} s wall, ${r.cpu.toFixed(2)} s CPU, ${r.totalCpu.toFixed(2)} s with hosts, ${r.rssMb.toFixed(0)} MB (load ${r.load.toFixed(2)})\n`,
          );
        }
      }
    }
  } finally {
    await lab.stop();
  }
  if (finalState.ansible && finalState.ewsplay) {
    const diff = differences(finalState.ansible, finalState.ewsplay, ['mode', 'content']);
    console.log(
      diff.length
        ? `  WARN  end states differ between the tools: ${diff.slice(0, 10).join(', ')}`
        : `  end state identical for both tools (${Object.keys(finalState.ewsplay).length} paths: modes and contents)`,
    );
  }
  return { n, reps, samples };
}

function summarise({ n, reps, samples }) {
  const fmt = (v, unit, digits = 2) => (v === undefined ? '-' : `${v.toFixed(digits)} ${unit}`);
  const stat = (tool, phase, key) => {
    const s = samples[`${tool}/${phase}`];
    return s ? median(s.map((r) => r[key])) : undefined;
  };
  console.log(
    `\n${n} hosts x ${TASKS} tasks (medians; ansible n=${reps.ansible}, ewsplay n=${reps.ewsplay}; load average at the end ${loadavg()[0].toFixed(2)})`,
  );
  console.log(
    `  ${'phase'.padEnd(8)}${'measure'.padEnd(24)}${'ansible'.padStart(12)}${'ewsplay'.padStart(12)}${'ratio'.padStart(10)}`,
  );
  const rows = [
    ['wall', 'wallMs', (v) => v / 1000],
    ['CPU user+sys (tool)', 'cpu', (v) => v],
    ['CPU tool+hosts', 'totalCpu', (v) => v],
    ['CPU whole machine*', 'machineCpu', (v) => v],
  ];
  const results = {};
  for (const phase of PHASES) {
    for (const [label, key, scale] of rows) {
      const a = stat('ansible', phase, key);
      const e = stat('ewsplay', phase, key);
      const ratio = a !== undefined && e !== undefined ? a / e : undefined;
      if (key === 'wallMs') results[phase] = { ratio, wallMs: e };
      console.log(
        `  ${phase.padEnd(8)}${label.padEnd(24)}${fmt(a && scale(a), 's').padStart(12)}${fmt(e && scale(e), 's').padStart(12)}${fmt(ratio, 'x', 1).padStart(10)}`,
      );
    }
    const e = stat('ewsplay', phase, 'wallMs');
    if (e === undefined) continue;
    const indent = `  ${phase.padEnd(8)}`;
    console.log(
      `${indent}${'ewsplay ms/task-host'.padEnd(24)}${''.padStart(12)}${fmt(e / (n * TASKS), 'ms').padStart(12)}`,
    );
    const first = stat('ewsplay', phase, 'firstTaskMs');
    const rest = stat('ewsplay', phase, 'otherTasksMs');
    console.log(
      `${indent}${'  first task (connects)'.padEnd(24)}${''.padStart(12)}${fmt(first / 1000, 's').padStart(12)}`,
    );
    console.log(
      `${indent}${`  other ${TASKS - 1} tasks`.padEnd(24)}${''.padStart(12)}${fmt(rest / 1000, 's').padStart(12)}  = ${(rest / (n * (TASKS - 1))).toFixed(2)} ms/task-host`,
    );
  }
  const rss = Math.max(
    ...Object.entries(samples)
      .filter(([k]) => k.startsWith('ewsplay/'))
      .flatMap(([, s]) => s.map((r) => r.rssMb)),
  );
  if (Number.isFinite(rss)) console.log(`  ewsplay max RSS over all runs: ${rss.toFixed(1)} MB`);
  console.log('  * includes whatever else the machine ran meanwhile (see the load averages)');
  const medians = {};
  for (const key of Object.keys(samples)) {
    medians[key] = {};
    for (const m of ['wallMs', 'cpu', 'totalCpu', 'machineCpu', 'rssMb', 'load'])
      medians[key][m] = median(samples[key].map((r) => r[m]));
  }
  return { n, results, rss, medians };
}

function verdicts(summaries) {
  console.log('\nTargets');
  const line = (ok, text) => console.log(`  ${ok ? 'PASS' : 'MISS'}  ${text}`);
  for (const { n, results, rss } of summaries) {
    for (const phase of PHASES) {
      const { ratio, wallMs } = results[phase] ?? {};
      if (n === 10 && ratio !== undefined)
        line(
          ratio >= TARGETS.ratioAt10,
          `${phase} run at 10 hosts: ewsplay ${ratio.toFixed(1)}x faster than Ansible (target >= ${TARGETS.ratioAt10}x)`,
        );
      if (n === 50 && wallMs !== undefined) {
        const per = wallMs / (n * TASKS);
        line(
          per < TARGETS.msPerTaskHostAt50,
          `${phase} run at 50 hosts: ${per.toFixed(2)} ms per task-host (target < ${TARGETS.msPerTaskHostAt50} ms)`,
        );
      }
    }
    if (n === 50 && Number.isFinite(rss))
      line(
        rss < TARGETS.rssMbAt50,
        `max RSS at 50 hosts: ${rss.toFixed(1)} MB (target < ${TARGETS.rssMbAt50} MB)`,
      );
  }
}

await rm(WORK, { recursive: true, force: true });
await mkdir(join(WORK, 'cp'), { recursive: true });
console.log(
  `ewsplay vs ansible-playbook: ${TASKS} tasks on ${sizes.join(' and ')} local sshd hosts, login user ${loginUser}; ${cpus().length} cores, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
try {
  const summaries = [];
  for (const [i, n] of sizes.entries()) {
    console.log(`\n${n} hosts`);
    summaries.push(summarise(await benchSize(n, i)));
  }
  verdicts(summaries);
  // The medians for bench/RESULTS.md.
  writeFileSync(
    join(WORK, 'results.json'),
    `${JSON.stringify({ cores: cpus().length, summaries }, null, 2)}\n`,
  );
  console.log(`\nmedians written to ${join(WORK, 'results.json')}`);
} catch (e) {
  if (!(e instanceof BenchFailure)) throw e;
  process.stderr.write(`\nBENCH FAILED: ${e.message}\n`);
  process.exitCode = 1;
}
