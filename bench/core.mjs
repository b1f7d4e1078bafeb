// Core runner benchmarks (issue 2): start-up, validation of a 1,000-task playbook, engine overhead per
// task-host on the local connection. Prints figures against targets; it is a report, not a test.
// Run: npm run bench   (builds first)
// Children are started with node's spawnSync, not zx: a shell in between would be timed as ewsplay's start-up.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const bin = join(root, 'bin', 'ewsplay.js');
const work = mkdtempSync(join(tmpdir(), 'ewsplay-bench-'));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function time(args, runs = 7, ewsplay = true) {
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    const r = spawnSync(process.execPath, ewsplay ? [bin, ...args] : args, { cwd: work, encoding: 'utf8' });
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
    if (r.status !== 0)
      throw new Error(`ewsplay ${args.join(' ')} exited ${r.status}:\n${r.stderr}${r.stdout}`);
  }
  return median(ms);
}

function report(name, value, target, unit = 'ms') {
  const ok = value <= target;
  console.log(
    `${ok ? 'PASS' : 'MISS'}  ${name.padEnd(52)} ${value.toFixed(2).padStart(9)} ${unit}   (target < ${target} ${unit})   load ${loadavg()[0].toFixed(2)}`,
  );
}

// 1. start-up: node alone, --version, and a one-task playbook on the local connection (issue 16: < 100 ms)
console.log(`node -e 0 (for comparison): ${time(['-e', '0'], 11, false).toFixed(2)} ms`);
report('ewsplay --version', time(['--version'], 11), 150);
writeFileSync(join(work, 'local.yml'), 'all:\n  hosts:\n    localhost:\n      ansible_connection: local\n');
writeFileSync(
  join(work, 'one.yml'),
  '- hosts: all\n  gather_facts: false\n  tasks:\n    - name: one\n      debug: { msg: "hi {{ inventory_hostname }}" }\n',
);
report('ewsplay run (one task, local connection)', time(['run', 'one.yml', '-i', 'local.yml'], 11), 100);

// 2. validate a generated 1,000-task playbook
const tasks = [];
for (let i = 0; i < 1000; i++) {
  const kind = i % 4;
  if (kind === 0)
    tasks.push(
      `    - name: copy ${i}\n      copy: { content: "x{{ i }}", dest: "/tmp/f${i}", mode: "0644" }`,
    );
  if (kind === 1)
    tasks.push(
      `    - name: command ${i}\n      command: echo ${i}\n      args: { creates: /tmp/c${i} }\n      when: x is defined`,
    );
  if (kind === 2)
    tasks.push(
      `    - name: file ${i}\n      file: { path: "/tmp/d${i}", state: directory }\n      tags: [t${i % 10}]`,
    );
  if (kind === 3)
    tasks.push(`    - name: debug ${i}\n      debug: { msg: "{{ item }}" }\n      loop: [1, 2]`);
}
writeFileSync(join(work, 'big.yml'), `- hosts: all\n  vars: { i: 1 }\n  tasks:\n${tasks.join('\n')}\n`);
report('ewsplay validate (1,000 tasks, end to end)', time(['validate', 'big.yml'], 5), 300);

// 3. 10 tasks x 50 hosts on the local connection: engine overhead per task-host
const hosts = Array.from({ length: 50 }, (_, i) => `h${i}`);
const inv = ['all:', '  hosts:'];
for (const h of hosts) {
  const dir = join(work, 'hosts', h);
  mkdirSync(dir, { recursive: true });
  inv.push(`    ${h}: { ansible_connection: local, ewsplay_local_root: "${dir}" }`);
}
writeFileSync(join(work, 'hosts.yml'), `${inv.join('\n')}\n`);
const engineOnly = Array.from(
  { length: 10 },
  (_, i) => `    - name: t${i}\n      set_fact: { v${i}: "{{ inventory_hostname }}-${i}" }`,
);
writeFileSync(join(work, 'ten.yml'), `- hosts: all\n  tasks:\n${engineOnly.join('\n')}\n`);
const empty = `- hosts: all\n  tasks: []\n`;
writeFileSync(join(work, 'zero.yml'), empty);
const base = time(
  ['run', 'zero.yml', '-i', 'hosts.yml', '-o', 'plain', '--report', join(work, 'r0.json')],
  5,
);
const full = time(
  ['run', 'ten.yml', '-i', 'hosts.yml', '-o', 'plain', '--forks', '50', '--report', join(work, 'r1.json')],
  5,
);
report('engine overhead per task-host (10 tasks x 50 hosts)', (full - base) / 500, 2);

// ews-javascript-api must never load on these paths: run validate and a run in-process and look at the
// CommonJS module cache (ews-javascript-api is CommonJS, so importing it fills that cache).
const probe = execFileSync(
  process.execPath,
  [
    '--input-type=module',
    '-e',
    `import { createRequire } from 'node:module';
     const { loadCli } = await import(${JSON.stringify(join(root, 'dist', 'cli', 'launch.js'))});
     const { main } = await loadCli();
     await main(['validate', 'big.yml']);
     await main(['run', 'ten.yml', '-i', 'hosts.yml', '-o', 'plain', '--report', 'r2.json']);
     const cache = Object.keys(createRequire(import.meta.url).cache);
     console.log(cache.some((f) => f.includes('ews-javascript-api')) ? 'LOADED' : 'clean');`,
  ],
  { cwd: work, encoding: 'utf8' },
);
console.log(
  `${probe.trim().endsWith('clean') ? 'PASS' : 'MISS'}  ews-javascript-api not loaded by validate or run`,
);
