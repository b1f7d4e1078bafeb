// Many sites (issue 16, item 4): a rollout of the migration playbook (playbooks/ews-migration.yml) over 10, 50
// and 100 sites with --serial 10, a first run and a second run, through the CLI.
//
// The migration needs a whole site behind every inventory: the installer and admin panel stand-ins, a fake
// Exchange (TLS 1.0, NTLM), the TLS forwarder on the mail host, the vendor stand-ins on three hosts. So the
// sites share one lab (`ewsplay lab up`: three real sshd hosts by default, --hosts local for local ones):
// the bench brings it up, does the operator's part of steps 1-3 as `npm run demo` does, and migrates it once
// as the site `lab` (not measured). Every benchmark site is then a copy of the lab's inventory in a sites
// directory (inventory/sites/siteNNN) with its own name as site_name, so each has its own state file, lock,
// reports and calendar_sync mailbox state (.ewsplay/state/siteNNN/calendar-sync.json); the hosts' side is
// already migrated, so a site's first run changes its mailbox sync only, and its second run nothing.
//
// Measured per size: wall, CPU and max RSS of the rollout process (GNU time), the load average, the sizes
// of the state files and reports; and the rollout machinery's own cost per site beyond the site's run: a
// rollout of M sites with --serial 1 against a rollout of 1 site, both second runs, minus the sites' own
// run time (each report's durationMs): ((T_M - sum d) - (T_1 - d_1)) / (M - 1); and what one site costs
// outside its run when run alone (T_1 - d_1: the process, loading, lock, state and report).
// Asserts: every site ok; the second run changes nothing.
// Run: npm run bench:rollout   (builds first). Options: --sites 10,50,100  --serial 10  --overhead-sites 20
//   --reps 3 (of the 1-site and M-site rollouts)  --hosts sshd|local  --dry (leave RESULTS.md alone)
//   --ewsplay-bin PATH  --cpu-prof (profiles of the largest rollout's runs into the work directory)
//   --keep (leave the lab up and the projects in /tmp/ewsplay-bench-rollout, to look at)
import { cpSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
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

const WORK = '/tmp/ewsplay-bench-rollout';
const MIGRATION = join(root, 'playbooks', 'ews-migration.yml');
const ADMIN_DONE = ['-e', 'admin_ews_domain_connected=true'];
const GOALS = { overheadMs: 50 };

const { values: opts } = parseArgs({
  options: {
    sites: { type: 'string', default: '10,50,100' },
    serial: { type: 'string', default: '10' },
    'overhead-sites': { type: 'string', default: '20' },
    reps: { type: 'string', default: '3' },
    hosts: { type: 'string', default: 'sshd' },
    'ewsplay-bin': { type: 'string', default: join(root, 'bin', 'ewsplay.js') },
    'cpu-prof': { type: 'boolean', default: false },
    dry: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
const sizes = opts.sites.split(',').map(Number);
const serial = Number(opts.serial);
const overheadSites = Number(opts['overhead-sites']);
const reps = Number(opts.reps);
const bin = resolve(opts['ewsplay-bin']);
preflight({ sshd: opts.hosts === 'sshd' });
const { labUp, labDown } = await import(join(root, 'dist', 'lab', 'lab.js'));

const LAB = join(WORK, 'lab');
const labInventory = join(LAB, 'inventory', 'lab');

function ewsplay(args, { cwd, prof } = {}) {
  const profile = prof ? ['--cpu-prof', '--cpu-prof-dir', join(WORK, 'prof', prof)] : [];
  return measured([process.execPath, ...profile, bin, 'run', MIGRATION, '-o', 'plain', ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1' },
    work: WORK,
  });
}

/** The operator's part of steps 1-3 as `npm run demo` does it: the installer form from what ewsplay printed. */
async function operatorPart(printed) {
  const labDir = join(LAB, '.ewsplay', 'lab');
  const field = (label) => {
    const m = new RegExp(`^ {2}${label.replace(/[()]/g, '\\$&')} +(.+)$`, 'm').exec(printed);
    if (!m?.[1]) fail(`step 1's instructions do not show the field "${label}":\n${tailOf(printed)}`);
    return m[1].trim();
  };
  const certificate = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(printed)?.[0];
  if (!certificate) fail("step 1's instructions do not show the forwarder's certificate");
  const password = readFileSync(join(labDir, 'secrets', 'ews_service_password'), 'utf8');
  const fake = JSON.parse(readFileSync(join(labDir, 'fake-ews', 'state.json'), 'utf8'));
  const installer = `http://127.0.0.1:${fake.installerPort}`;
  const post = async (url, body) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) fail(`${url} answered HTTP ${res.status}: ${await res.text()}`);
  };
  await post(`${installer}/products`, { ews_calendar_migration: true });
  await post(`${installer}/integrations/ews`, {
    address: field('EWS server address'),
    login: field('Login'),
    password,
    rights_type: field('Account rights type'),
    skip_ssl_verification: field('Skip SSL verification') === 'true',
    certificate,
  });
  await post(`${installer}/environment/calendar-cexsy`, { name: 'CEXSY_ACCESS_LIST_MODE', value: 'black' });
  await post(`${installer}/play`, {});
  const ca = readFileSync(join(labDir, 'files', 'exchange-root-ca.pem'), 'utf8');
  await new Promise((done, reject) => {
    const req = httpsRequest(
      `https://127.0.0.1:${fake.adminPort}/projects`,
      { method: 'POST', ca, headers: { 'Content-Type': 'application/json' }, timeout: 10_000 },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 200 ? done() : reject(new Error(`admin panel: HTTP ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ domain: 'exchange.lab.example.com' }));
  });
}

/** The lab, brought up and migrated once as the site `lab` (the hosts' side is then in place). */
async function prepareLab() {
  mkdirSync(LAB, { recursive: true });
  const up = await labUp({ project: LAB, hosts: opts.hosts, log: (l) => console.log(`  lab: ${l}`) });
  for (const w of up.warnings) console.log(`  lab warning: ${w}`);
  const report = join(WORK, 'empty-report.json');
  const empty = await ewsplay(['-i', labInventory, '--report', report], { cwd: LAB });
  const step1 = JSON.parse(readFileSync(report, 'utf8'))
    .tasks.filter((t) => /^1\.2-1\.4/.test(t.task))
    .flatMap((t) => Object.values(t.hosts))
    .find((h) => h.status === 'failed');
  if (empty.code === 0 || !step1)
    fail(`the first run on the empty lab should stop at step 1.2-1.4:\n${tailOf(empty.out)}`);
  await operatorPart(step1.msg);
  const migrated = await ewsplay(['-i', labInventory, ...ADMIN_DONE], { cwd: LAB });
  if (migrated.code !== 0) fail(`the lab's migration failed:\n${tailOf(migrated.out, 60)}`);
  console.log(
    `  lab migrated as the site lab in ${(migrated.wallMs / 1000).toFixed(1)} s (load ${load1().toFixed(2)})`,
  );
}

/** A project with a sites directory of `n` sites, each a copy of the lab's inventory under its own name. */
function sitesProject(n, name) {
  const project = join(WORK, name);
  const sites = join(project, 'inventory', 'sites');
  for (let i = 1; i <= n; i++) {
    const site = join(sites, `site${String(i).padStart(3, '0')}`);
    cpSync(labInventory, site, { recursive: true });
    // The lab's inventory says site_name: lab; named after the site, its mailbox state is its own.
    writeFileSync(join(site, 'group_vars', 'all', 'zzz-site.yml'), 'site_name: "{{ ewsplay_site }}"\n');
  }
  return { project, sites: 'inventory/sites' };
}

function bytesUnder(dir, filter = () => true) {
  let total = 0;
  let files = 0;
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (filter(p)) {
        total += statSync(p).size;
        files++;
      }
    }
  };
  try {
    walk(dir);
  } catch {
    /* none yet */
  }
  return { bytes: total, files };
}

/** The reports of the runs started since `since` (ms): duration, changed; asserts every site ran ok. */
function siteReports(project, expectChanged, since) {
  const runs = join(project, '.ewsplay', 'runs');
  const out = [];
  for (const site of readdirSync(runs).sort()) {
    const files = readdirSync(join(runs, site)).sort();
    const report = JSON.parse(readFileSync(join(runs, site, files.at(-1)), 'utf8'));
    if (Date.parse(report.startedAt) < since) continue;
    const stats = Object.values(report.stats);
    const changed = stats.reduce((n, s) => n + s.changed, 0);
    if (report.exitCode !== 0 || stats.some((s) => s.failed || s.unreachable))
      fail(`${site}: exit ${report.exitCode}, ${JSON.stringify(report.stats)}`);
    if (expectChanged === 0 && changed !== 0) fail(`${site}: the second run changed ${changed} task(s)`);
    out.push({ site, durationMs: report.durationMs, changed, startedAt: Date.parse(report.startedAt) });
  }
  return out;
}

async function rollout(n) {
  const { project, sites } = sitesProject(n, `rollout-${n}`);
  const result = { n };
  for (const phase of ['first', 'second']) {
    const prof = opts['cpu-prof'] && n === Math.max(...sizes) ? `rollout-${n}-${phase}` : undefined;
    const since = Date.now();
    const r = await ewsplay(['-i', sites, '--serial', `${serial}`, ...ADMIN_DONE], { cwd: project, prof });
    if (r.code !== 0) fail(`${phase} rollout of ${n} sites exited ${r.code}:\n${tailOf(r.out, 60)}`);
    const reports = siteReports(project, phase === 'first' ? undefined : 0, since);
    if (reports.length !== n) fail(`${phase} rollout of ${n} sites: ${reports.length} reports`);
    const sum = reports.reduce((a, s) => a + s.durationMs, 0);
    const state = bytesUnder(join(project, '.ewsplay', 'state'), (p) => /site\d+\.json$/.test(p));
    const mailboxes = bytesUnder(join(project, '.ewsplay', 'state'), (p) => p.endsWith('calendar-sync.json'));
    const runs = bytesUnder(join(project, '.ewsplay', 'runs'));
    result[phase] = {
      wallMs: r.wallMs,
      cpu: r.cpu,
      rssMb: r.rssMb,
      load: [r.load, r.loadAfter],
      sumSiteMs: sum,
      siteMs: median(reports.map((s) => s.durationMs)),
      changed: reports.reduce((a, s) => a + s.changed, 0),
      stateBytesPerSite: state.bytes / n,
      mailboxBytesPerSite: mailboxes.bytes / n,
      reportBytesPerRun: runs.bytes / runs.files,
    };
    const x = result[phase];
    console.log(
      `  ${n} sites, ${phase} run: ${(x.wallMs / 1000).toFixed(1)} s wall = ${(x.wallMs / n).toFixed(0)} ms per site, sites' own runs ${(sum / 1000).toFixed(1)} s (median ${x.siteMs} ms), ${x.changed} changed, CPU ${x.cpu.toFixed(1)} s, ${x.rssMb.toFixed(0)} MB; state ${(x.stateBytesPerSite / 1024).toFixed(1)} KB + mailboxes ${(x.mailboxBytesPerSite / 1024).toFixed(1)} KB per site, report ${(x.reportBytesPerRun / 1024).toFixed(0)} KB (load ${x.load.map((l) => l.toFixed(1)).join(' -> ')})`,
    );
  }
  if (!opts.keep) await rm(project, { recursive: true, force: true });
  return result;
}

/** `ewsplay validate` of the sites directory: loading and checking every site, no host touched. */
async function validate(project, sites) {
  const r = await measured([process.execPath, bin, 'validate', MIGRATION, '-i', sites], {
    cwd: project,
    env: { ...process.env, NO_COLOR: '1' },
    work: WORK,
  });
  if (r.code !== 0) fail(`validate -i ${sites} exited ${r.code}:\n${tailOf(r.out)}`);
  return r;
}

/**
 * The machinery's cost per site, second runs of M sites: a rollout with --serial 1 against a rollout of one
 * site, the sites' own runs (each report's durationMs) subtracted: ((T_M - sum d) - (T_1 - d_1)) / (M - 1),
 * i.e. what one more site costs outside its run (loading its inventory and the playbook, its lock, state and
 * report, its summary line). Beside it: each site run alone by its own command (T_alone per site against
 * T_M / M), and the loading alone (`ewsplay validate` of M sites against 1).
 */
async function overhead(m) {
  const { project, sites } = sitesProject(m, 'overhead');
  // First runs bring every site to its steady state (not measured).
  const warmSince = Date.now();
  const warm = await ewsplay(['-i', sites, '--serial', `${serial}`, ...ADMIN_DONE], { cwd: project });
  if (warm.code !== 0) fail(`warm-up rollout exited ${warm.code}:\n${tailOf(warm.out, 60)}`);
  siteReports(project, undefined, warmSince);
  const reps_ = [];
  for (let rep = 0; rep < reps; rep++) {
    let since = Date.now();
    const r1 = await ewsplay(['-i', sites, '--sites', 'site001', ...ADMIN_DONE], { cwd: project });
    if (r1.code !== 0) fail(`1-site rollout exited ${r1.code}:\n${tailOf(r1.out)}`);
    const d1 = siteReports(project, 0, since)[0].durationMs;
    since = Date.now();
    const rM = await ewsplay(['-i', sites, '--serial', '1', ...ADMIN_DONE], { cwd: project });
    if (rM.code !== 0) fail(`${m}-site rollout exited ${rM.code}:\n${tailOf(rM.out)}`);
    const found = siteReports(project, 0, since);
    if (found.length !== m) fail(`${m}-site rollout: ${found.length} reports`);
    const sum = found.reduce((a, s) => a + s.durationMs, 0);
    // Each site alone, by its own command, as a shell loop over the sites would run them (three of them).
    const alone = [];
    for (const site of ['site002', 'site003', 'site004'].slice(0, Math.max(1, Math.min(3, m - 1)))) {
      since = Date.now();
      const ra = await ewsplay(['-i', `${sites}/${site}`, ...ADMIN_DONE], { cwd: project });
      if (ra.code !== 0) fail(`${site} alone exited ${ra.code}:\n${tailOf(ra.out)}`);
      alone.push({ wallMs: ra.wallMs, cpu: ra.cpu, runMs: siteReports(project, 0, since)[0].durationMs });
    }
    const v1 = await validate(project, `${sites}/site001`);
    const vM = await validate(project, sites);
    const x = {
      perSiteMs: (rM.wallMs - sum - (r1.wallMs - d1)) / (m - 1),
      outsideOneMs: r1.wallMs - d1,
      rolloutPerSiteMs: rM.wallMs / m,
      rolloutCpuPerSite: rM.cpu / m,
      siteRunMs: sum / m,
      aloneMs: median(alone.map((a) => a.wallMs)),
      aloneCpu: median(alone.map((a) => a.cpu)),
      aloneOutsideMs: median(alone.map((a) => a.wallMs - a.runMs)),
      loadMs: (vM.wallMs - v1.wallMs) / (m - 1),
      loadCpuMs: ((vM.cpu - v1.cpu) * 1000) / (m - 1),
      load: [rM.load, rM.loadAfter],
    };
    reps_.push(x);
    console.log(
      `  overhead, repetition ${rep + 1}: ${x.perSiteMs.toFixed(0)} ms per site outside its run (1 site ${(r1.wallMs / 1000).toFixed(2)} s, run ${(d1 / 1000).toFixed(2)} s; ${m} sites ${(rM.wallMs / 1000).toFixed(1)} s, runs ${(sum / 1000).toFixed(1)} s), of which loading ${x.loadMs.toFixed(0)} ms (${x.loadCpuMs.toFixed(0)} ms CPU); per site in the rollout ${(x.rolloutPerSiteMs / 1000).toFixed(2)} s against ${(x.aloneMs / 1000).toFixed(2)} s alone (load ${rM.load.toFixed(1)} -> ${rM.loadAfter.toFixed(1)})`,
    );
  }
  if (!opts.keep) await rm(project, { recursive: true, force: true });
  const med = (k) => median(reps_.map((x) => x[k]));
  return {
    m,
    perSiteMs: med('perSiteMs'),
    perSiteRange: range(reps_.map((x) => x.perSiteMs)),
    outsideOneMs: med('outsideOneMs'),
    rolloutPerSiteMs: med('rolloutPerSiteMs'),
    rolloutCpuPerSite: med('rolloutCpuPerSite'),
    siteRunMs: med('siteRunMs'),
    aloneMs: med('aloneMs'),
    aloneCpu: med('aloneCpu'),
    aloneOutsideMs: med('aloneOutsideMs'),
    loadMs: med('loadMs'),
    loadCpuMs: med('loadCpuMs'),
    load: range(reps_.flatMap((x) => x.load)),
  };
}

function tables(results, cost) {
  const head = [
    'sites',
    'run',
    'wall',
    'wall per site',
    "sites' own runs (sum)",
    'median site run',
    'changed',
    'CPU',
    'max RSS',
    'state per site',
    'mailbox state per site',
    'report per run',
    'load average',
  ];
  const rows = [];
  for (const r of results)
    for (const phase of ['first', 'second']) {
      const x = r[phase];
      rows.push([
        r.n,
        phase,
        `${fmt(x.wallMs / 1000, 1)} s`,
        `${fmt(x.wallMs / r.n, 0)} ms`,
        `${fmt(x.sumSiteMs / 1000, 1)} s`,
        `${fmt(x.siteMs / 1000)} s`,
        x.changed,
        `${fmt(x.cpu, 1)} s`,
        `${fmt(x.rssMb, 1)} MB`,
        `${fmt(x.stateBytesPerSite / 1024, 1)} KB`,
        `${fmt(x.mailboxBytesPerSite / 1024, 1)} KB`,
        `${fmt(x.reportBytesPerRun / 1024, 0)} KB`,
        fmtRange(x.load, 1),
      ]);
    }
  const main = markdownTable(
    head,
    rows,
    head.map((_, i) => (i === 1 ? 'l' : 'r')),
  );
  const costTable = markdownTable(
    ['measure (second runs, medians)', 'value'],
    [
      [
        `a site outside its run in a rollout: (T_${cost.m} - sum d - (T_1 - d_1)) / ${cost.m - 1}, --serial 1`,
        `${fmt(cost.perSiteMs, 0)} ms (${fmtRange(cost.perSiteRange, 0)})`,
      ],
      [
        `of which loading the site (validate of ${cost.m} sites against 1)`,
        `${fmt(cost.loadMs, 0)} ms (${fmt(cost.loadCpuMs, 0)} ms CPU)`,
      ],
      ["a site's own run (report durationMs)", `${fmt(cost.siteRunMs, 0)} ms`],
      [
        `per site in the ${cost.m}-site rollout (T_${cost.m} / ${cost.m}) / alone (its own command)`,
        `${fmt(cost.rolloutPerSiteMs, 0)} ms / ${fmt(cost.aloneMs, 0)} ms`,
      ],
      [
        'CPU per site in the rollout / alone',
        `${fmt(cost.rolloutCpuPerSite * 1000, 0)} ms / ${fmt(cost.aloneCpu * 1000, 0)} ms`,
      ],
      [
        'a site alone outside its run (Node start, loading, lock, state, report, exit)',
        `${fmt(cost.aloneOutsideMs, 0)} ms`,
      ],
      ['a 1-site rollout outside its run', `${fmt(cost.outsideOneMs, 0)} ms`],
      ['load average', fmtRange(cost.load, 1)],
    ],
    ['l', 'r'],
  );
  return { main, costTable };
}

await main(async () => {
  await rm(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  console.log(
    `rollout: ${MIGRATION} over ${sizes.join(', ')} sites, --serial ${serial}, ${opts.hosts} lab hosts shared; ${machine()}`,
  );
  try {
    await prepareLab();
    const cost = await overhead(overheadSites);
    const results = [];
    for (const n of sizes) results.push(await rollout(n));
    const { main: table, costTable } = tables(results, cost);
    const rss = results.map((r) => Math.max(r.first.rssMb, r.second.rssMb));
    const goals = [
      `${cost.perSiteMs < GOALS.overheadMs ? 'PASS' : 'MISS'}  the rollout machinery adds ${cost.perSiteMs.toFixed(0)} ms per site beyond the site's run, loading the site included (goal < ${GOALS.overheadMs} ms); ${(cost.perSiteMs - cost.loadMs).toFixed(0)} ms without loading; against running each site alone: ${(cost.rolloutPerSiteMs - cost.aloneMs).toFixed(0)} ms per site`,
      `${rss.at(-1) <= rss[0] * 1.25 ? 'PASS' : 'MISS'}  memory with the number of sites: max RSS ${results.map((r, i) => `${rss[i].toFixed(0)} MB at ${r.n}`).join(', ')} (goal: flat)`,
    ];
    console.log(`\n${table}\n\n${costTable}\n\n${goals.join('\n')}`);
    writeFileSync(join(WORK, 'results.json'), `${JSON.stringify({ results, cost }, null, 2)}\n`);
    if (!opts.dry) {
      const block = [
        `Written by \`npm run bench:rollout\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC (${opts.hosts} lab hosts, --serial ${serial}):`,
        '',
        table,
        '',
        costTable,
        '',
        ...goals.map((g) => `- ${g}`),
      ].join('\n');
      console.log(
        replaceResultsBlock('rollout', block)
          ? 'bench/RESULTS.md (block rollout) written'
          : 'bench/RESULTS.md has no <!-- rollout:begin --> block: left alone',
      );
    }
  } finally {
    if (opts.keep) console.log(`lab left up: cd ${LAB} && ewsplay lab down`);
    else await labDown({ project: LAB });
  }
});
