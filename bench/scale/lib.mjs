// Shared by the scale benchmarks (bench/scale/*.mjs, issue 16 items 3-5): timed child runs under GNU time,
// medians, the machine's load, limits, a small SVG line chart drawn here (no plotting dependency), and the
// replacement of a marked block of bench/RESULTS.md by a benchmark's own tables.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { $ } from 'zx/core';

export const root = resolve(import.meta.dirname, '..', '..');
export const resultsFile = join(root, 'bench', 'RESULTS.md');

export const median = (xs) => {
  const s = [...xs].filter((x) => x !== undefined && !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return undefined;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
export const range = (xs) => {
  const s = xs.filter((x) => x !== undefined && !Number.isNaN(x));
  return s.length ? [Math.min(...s), Math.max(...s)] : [undefined, undefined];
};
export const load1 = () => loadavg()[0];
export const loadText = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
export const machine = () => `${cpus().length} cores, load average ${loadText()}`;

/** A failed run or a broken assertion: the figures would mean nothing. */
export class BenchFailure extends Error {}
export function fail(message) {
  throw new BenchFailure(message);
}

/** Exits 1 with the message of a BenchFailure (after `finally` blocks stopped what the bench started). */
export async function main(fn) {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof BenchFailure)) throw e;
    process.stderr.write(`\nBENCH FAILED: ${e.message}\n`);
    process.exitCode = 1;
  }
}

/** Stops with what to install or build when a tool is missing, before any work. */
export function preflight({ sshd = false } = {}) {
  const missing = [];
  if (sshd && !existsSync('/usr/sbin/sshd'))
    missing.push('sshd is not installed: `sudo apt-get install -y openssh-server`.');
  if (!existsSync('/usr/bin/time'))
    missing.push('GNU time is not installed: `sudo apt-get install -y time`.');
  if (!existsSync(join(root, 'dist', 'lab', 'sshd.js')) || !existsSync(join(root, 'dist', 'cli', 'main.js')))
    missing.push('no build found: run `npm run build` (the npm run bench:* scripts build first).');
  if (missing.length) {
    process.stderr.write(`cannot run the benchmark:\n${missing.map((m) => `- ${m}`).join('\n')}\n`);
    process.exit(2);
  }
}

/**
 * The limits a run of `processes` processes and `files` open files per process needs, checked up front
 * (each with how to raise it); returns the `prlimit` prefix that raises this process's soft open-files
 * limit for the children when the hard limit allows it.
 */
export async function checkLimits({ processes, files }) {
  const read = (f) => Number(readFileSync(f, 'utf8').trim().split(/\s+/)[0]);
  // This process's limits (children inherit them): "Max open files  SOFT  HARD  files".
  const limit = (name) => {
    const m = new RegExp(`^${name}\\s+(\\S+)\\s+(\\S+)`, 'm').exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? m.slice(1, 3).map((v) => (v === 'unlimited' ? Number.POSITIVE_INFINITY : Number(v))) : [];
  };
  const [soft, hardN] = limit('Max open files');
  const hard = String(hardN);
  const nproc = String(limit('Max processes')[0]);
  const pidMax = read('/proc/sys/kernel/pid_max');
  const threadsMax = read('/proc/sys/kernel/threads-max');
  const [portLow, portHigh] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
    .trim()
    .split(/\s+/)
    .map(Number);
  const problems = [];
  if (pidMax < processes * 2)
    problems.push(`kernel.pid_max is ${pidMax}: sysctl -w kernel.pid_max=${processes * 4}`);
  if (threadsMax < processes * 4)
    problems.push(`kernel.threads-max is ${threadsMax}: sysctl -w kernel.threads-max=${processes * 8}`);
  if (Number(nproc) < processes * 2)
    problems.push(`ulimit -u is ${nproc}: raise it (ulimit -u ${processes * 4}, or limits.conf)`);
  if (portHigh - portLow < processes * 2)
    problems.push(`net.ipv4.ip_local_port_range is ${portLow}-${portHigh}: widen it`);
  if (hardN < files) problems.push(`ulimit -Hn is ${hard}: raise it to at least ${files} (limits.conf)`);
  if (problems.length) fail(`limits too low for this run:\n${problems.map((p) => `- ${p}`).join('\n')}`);
  const limits = {
    openFiles: soft,
    openFilesHard: hard,
    nproc,
    pidMax,
    threadsMax,
    ports: `${portLow}-${portHigh}`,
  };
  const prefix = soft < files ? ['prlimit', `--nofile=${Math.min(hardN, Math.max(files, 65536))}`, '--'] : [];
  return { limits, prefix };
}

const CLK_TCK = 100; // Linux USER_HZ, the unit of /proc/stat

/** CPU seconds the whole machine spent busy so far. */
export function machineCpuSeconds() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = f;
  return (user + nice + system + irq + softirq + steal) / CLK_TCK;
}

/** utime+stime+cutime+cstime of a process and its live descendants, in seconds. */
export function treeCpuSeconds(pids) {
  const children = new Map();
  for (const line of $.sync`ps -e -o pid=,ppid=`.stdout.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)/.exec(line);
    if (m) children.set(Number(m[2]), [...(children.get(Number(m[2])) ?? []), Number(m[1])]);
  }
  const all = [...pids];
  for (let i = 0; i < all.length; i++) all.push(...(children.get(all[i]) ?? []));
  let sum = 0;
  for (const pid of all) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat
        .slice(stat.lastIndexOf(')') + 2)
        .split(' ')
        .map(Number);
      sum += (f[11] + f[12] + f[13] + f[14]) / CLK_TCK;
    } catch {
      /* gone */
    }
  }
  return sum;
}

/**
 * Runs argv under GNU time (user+sys of the process and its waited-for children, max RSS); resolves with
 * exit code, output, wall ms, CPU s, RSS MB, the 1-minute load average at the start and, given `hostPids`,
 * the CPU the hosts' processes (sshd and what they ran) spent meanwhile. Never rejects.
 */
export function measured(argv, { cwd, env, timeoutMs = 30 * 60_000, hostPids = [], prefix = [], work }) {
  const timeFile = join(work, `time-${process.pid}.out`);
  return new Promise((done) => {
    const cpu0 = machineCpuSeconds();
    const hosts0 = hostPids.length ? treeCpuSeconds(hostPids) : 0;
    const load = load1();
    const t0 = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', '%U %S %M', '-o', timeFile, '--', ...prefix, ...argv], {
      cwd,
      env: env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => out.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', async (code, signal) => {
      clearTimeout(timer);
      const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
      const machineCpu = machineCpuSeconds() - cpu0;
      // A connection's sshd process is reaped (its CPU added to the listener's) a moment after the tool exits.
      if (hostPids.length) await new Promise((r) => setTimeout(r, 300));
      const hostsCpu = hostPids.length ? treeCpuSeconds(hostPids) - hosts0 : 0;
      const lines = existsSync(timeFile) ? readFileSync(timeFile, 'utf8').trim().split('\n') : [];
      const [user, sys, rssKb] = (lines.at(-1) ?? '0 0 0').split(' ').map(Number);
      done({
        code,
        signal,
        out: Buffer.concat(out).toString('utf8'),
        wallMs,
        cpu: user + sys,
        hostsCpu,
        machineCpu,
        rssMb: rssKb / 1024,
        load,
        loadAfter: load1(),
      });
    });
  });
}

/** Per-host counters of a PLAY RECAP. */
export function parseRecap(out) {
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

/** The last `n` lines of a run's output, for a failure message. */
export function tailOf(out, n = 40) {
  return out.trimEnd().split('\n').slice(-n).join('\n');
}

/** A Markdown table with right-aligned numeric columns, padded as biome/prettier would leave it. */
export function markdownTable(head, rows, align) {
  const cells = [head, ...rows].map((r) => r.map(String));
  const widths = head.map((_, i) => Math.max(3, ...cells.map((r) => r[i].length)));
  const right = (i) => (align ? align[i] === 'r' : i > 0);
  const fmt = (r) =>
    `| ${r.map((c, i) => (right(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (right(i) ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [fmt(cells[0]), rule, ...cells.slice(1).map(fmt)].join('\n');
}

/**
 * Replaces the block between `<!-- NAME:begin -->` and `<!-- NAME:end -->` of bench/RESULTS.md with `text`
 * (the markers stay). Returns false, changing nothing, when the markers are not there.
 */
export function replaceResultsBlock(name, text, file = resultsFile) {
  const doc = readFileSync(file, 'utf8');
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const a = doc.indexOf(begin);
  const b = doc.indexOf(end);
  if (a < 0 || b < a) return false;
  writeFileSync(file, `${doc.slice(0, a + begin.length)}\n${text.trim()}\n${doc.slice(b)}`);
  return true;
}

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Round axis steps: 1, 2 or 5 times a power of ten, giving about `n` ticks up to `max`. */
function ticks(max, n = 5) {
  const raw = max / n;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((k) => k * p).find((s) => s >= raw);
  const out = [];
  for (let v = 0; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/**
 * One panel of a line chart: series of [x, y] points (y undefined: no point), optional dashed goal line.
 * Returns SVG elements placed at (ox, oy) in a w x h box.
 */
function panel({ ox, oy, w, h, title, xLabel, yLabel, xs, series, goal }) {
  const left = 52;
  const bottom = 40;
  const top = 28;
  const right = 12;
  const pw = w - left - right;
  const ph = h - top - bottom;
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).filter((y) => y !== undefined);
  if (goal) ys.push(...goal.points.map((p) => p[1]));
  const yt = ticks(Math.max(...ys, 1e-9) * 1.05);
  const yMax = yt.at(-1);
  const xMax = Math.max(...xs);
  const X = (x) => ox + left + (x / xMax) * pw;
  const Y = (y) => oy + top + ph - (y / yMax) * ph;
  const el = [];
  el.push(`<text x="${ox + left}" y="${oy + 16}" font-weight="bold">${esc(title)}</text>`);
  for (const t of yt) {
    el.push(
      `<line x1="${X(0)}" y1="${Y(t)}" x2="${X(xMax)}" y2="${Y(t)}" stroke="#ddd"/>`,
      `<text x="${X(0) - 6}" y="${Y(t) + 4}" text-anchor="end">${t}</text>`,
    );
  }
  for (const x of xs)
    el.push(
      `<line x1="${X(x)}" y1="${Y(0)}" x2="${X(x)}" y2="${Y(0) + 4}" stroke="#333"/>`,
      `<text x="${X(x)}" y="${Y(0) + 17}" text-anchor="middle">${x}</text>`,
    );
  el.push(
    `<line x1="${X(0)}" y1="${Y(0)}" x2="${X(xMax)}" y2="${Y(0)}" stroke="#333"/>`,
    `<line x1="${X(0)}" y1="${Y(0)}" x2="${X(0)}" y2="${Y(yMax)}" stroke="#333"/>`,
    `<text x="${X(xMax / 2)}" y="${oy + h - 6}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text transform="translate(${ox + 14} ${oy + top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
  );
  const line = (pts, attrs) => {
    const d = pts
      .filter((p) => p[1] !== undefined)
      .map((p, i) => `${i ? 'L' : 'M'}${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`)
      .join(' ');
    return d ? `<path d="${d}" fill="none" ${attrs}/>` : '';
  };
  if (goal) el.push(line(goal.points, `stroke="${goal.color}" stroke-width="1.5" stroke-dasharray="6 4"`));
  for (const s of series) {
    el.push(line(s.points, `stroke="${s.color}" stroke-width="2"`));
    for (const [x, y] of s.points)
      if (y !== undefined)
        el.push(`<circle cx="${X(x).toFixed(1)}" cy="${Y(y).toFixed(1)}" r="3" fill="${s.color}"/>`);
  }
  // Legend, top left inside the plot.
  const legend = [...series, ...(goal ? [{ ...goal, dashed: true }] : [])];
  legend.forEach((s, i) => {
    const ly = oy + top + 12 + i * 16;
    const lx = X(0) + 10;
    el.push(
      `<line x1="${lx}" y1="${ly - 4}" x2="${lx + 22}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      `<text x="${lx + 28}" y="${ly}">${esc(s.label)}</text>`,
    );
  });
  return el;
}

/** An SVG of panels side by side (each as `panel` takes it, without its position), with a caption. */
export function svgChart(panels, caption) {
  const w = 420;
  const h = 300;
  const width = w * panels.length;
  const height = h + (caption ? 22 : 0);
  const el = panels.flatMap((p, i) => panel({ ...p, ox: i * w, oy: 0, w, h }));
  if (caption) el.push(`<text x="8" y="${h + 15}" fill="#555">${esc(caption)}</text>`);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    ...el,
    '</svg>',
    '',
  ].join('\n');
}

export const fmt = (v, digits = 2) => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(digits));
export const fmtRange = ([a, b], digits = 2) =>
  a === undefined
    ? '-'
    : a.toFixed(digits) === b.toFixed(digits)
      ? a.toFixed(digits)
      : `${a.toFixed(digits)}-${b.toFixed(digits)}`;
