// The demo (npm run demo) end to end, with real sshd hosts and with local hosts (the latter with the Node
// socat stand-in, as on a machine without Debian's packages), and the lab's promise that nothing it
// started outlives `lab down`, nor an interrupted `lab up`. Each test has its own project directory, so
// its .ewsplay/lab and inventory/lab never meet a developer's lab. Needs `npm run build` (npm test does it).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type DemoResult, runDemo } from '../../src/lab/demo.js';
import { labDown, labStatus, labUp } from '../../src/lab/lab.js';
import { SSHD } from '../../src/lab/lab-hosts.js';
import { isRunning, labPaths, markedProcesses, servicePids } from '../../src/lab/lab-state.js';
import { descendants } from '../../src/lab/sshd.js';

const BIN = resolve('bin/ewsplay.js');
const hasSshd = existsSync(SSHD);
let project: string | undefined;

async function newProject(): Promise<string> {
  project = await mkdtemp(join(tmpdir(), 'ewsplay-demo-'));
  return project;
}

afterEach(async () => {
  if (!project) return;
  await labDown({ project }); // a failed test must not leave its lab running
  await rm(project, { recursive: true, force: true });
  project = undefined;
});

function expectProven(r: DemoResult): void {
  expect(r.failure, r.runs.first?.output ?? '').toBeUndefined();
  expect(r.ok).toBe(true);
  const changed = (run: keyof DemoResult['runs']) =>
    Object.values(r.runs[run]?.report.stats ?? {}).reduce((n, s) => n + s.changed, 0);
  // Steps 1-3 start undone: the first run stops at step 1, the operator's part follows, then green.
  expect(r.runs.empty?.code).not.toBe(0);
  expect(changed('empty')).toBeGreaterThan(0);
  expect(r.runs.first?.report.exitCode).toBe(0);
  expect(changed('first')).toBeGreaterThan(0);
  // 3.1 has no API: said so, not claimed.
  expect(r.notVerified).toEqual(['3.1']);
  expect(r.runs.second?.report.exitCode).toBe(0);
  expect(changed('second')).toBe(0);
  expect(r.runs.check?.report.check).toBe(true);
  expect(changed('check')).toBe(0);
  // The event was created, found and deleted on the fake EWS, impersonating the verification mailbox.
  const ops = r.verifyRequests.filter((q) => q.responseCode === 'NoError').map((q) => q.operation);
  expect(ops).toEqual(expect.arrayContaining(['CreateItem', 'FindItem', 'DeleteItem']));
  const created = ops.indexOf('CreateItem');
  expect(ops.indexOf('DeleteItem', created)).toBeGreaterThan(created);
  // Logged in as Exchange offers it by default: NTLM (the 401s are its handshake legs).
  const answered = r.verifyRequests.filter((q) => q.status !== 401);
  expect(new Set(answered.map((q) => q.impersonated))).toEqual(new Set(['Ivan.Petrov@lab.example.com']));
  expect(new Set(answered.map((q) => q.auth))).toEqual(new Set(['NTLM']));
  expect(r.leftover).toEqual([]);
  expect(r.proven.length).toBeGreaterThanOrEqual(8);
}

describe('npm run demo', () => {
  it.skipIf(!hasSshd)(
    'runs the migration on sshd hosts: green, then 0 changed, check clean, V1 through the forwarder',
    async () => {
      const r = await runDemo({
        project: await newProject(),
        hosts: 'sshd',
        output: 'plain',
        quiet: true,
        log: () => {},
      });
      expect(r.state?.hostMode).toBe('sshd');
      expectProven(r);
    },
    240_000,
  );

  it('runs the migration on local hosts with the socat stand-in and the own unit (a machine without Debian packages)', async () => {
    const r = await runDemo({
      project: await newProject(),
      hosts: 'local',
      forwarder: 'standin',
      vendorPackage: false,
      output: 'plain',
      quiet: true,
      log: () => {},
    });
    expect(r.state?.hostMode).toBe('local');
    expect(r.state?.forwarder).toBe('standin');
    expectProven(r);
  }, 240_000);
});

describe('lab processes', () => {
  it('no process the lab started, nor a service its hosts started, outlives lab down', async () => {
    const dir = await newProject();
    const up = await labUp({ project: dir, hosts: hasSshd ? 'sshd' : 'local' });
    expect(up.warnings.filter((w) => w.includes('inventory/example defines'))).toEqual([]);
    // The forwarder is a service started by the mail host's systemctl stand-in, outside sshd's tree.
    const run = spawn(
      process.execPath,
      [
        BIN,
        'run',
        resolve('playbooks/ews-migration.yml'),
        '-i',
        up.state.inventoryDir,
        '--tags',
        'tls',
        '-o',
        'plain',
      ],
      { cwd: dir, stdio: 'ignore' },
    );
    expect(await new Promise((r) => run.on('close', r))).toBe(0);
    const mail = up.state.hosts.find((h) => h.group === 'mail')!;
    const services = servicePids(mail.dir);
    expect(services).toHaveLength(1);
    const started = new Set<number>([...markedProcesses(up.state.dir), ...services]);
    for (const p of up.state.processes) {
      started.add(p.pid);
      for (const d of descendants(p.pid)) started.add(d);
    }
    for (const pid of services) for (const d of descendants(pid)) started.add(d);
    expect(started.size).toBeGreaterThanOrEqual(up.state.processes.length + 1);
    const status = await labStatus({ project: dir });
    expect(status.processes.every((p) => p.alive)).toBe(true);

    const down = await labDown({ project: dir });
    expect(down.wasUp).toBe(true);
    expect([...started].filter((pid) => isRunning({ pid }))).toEqual([]);
    expect(markedProcesses(up.state.dir)).toEqual([]);
    expect(existsSync(up.state.dir)).toBe(false);
    expect(existsSync(join(up.state.inventoryDir, 'hosts.yml'))).toBe(false);
  }, 240_000);

  it('Ctrl-C during lab up leaves nothing running, and up twice says it is up', async () => {
    const dir = await newProject();
    const paths = labPaths(dir);
    const child = spawn(process.execPath, [BIN, 'lab', 'up'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((r) => child.on('close', r));
    // Interrupt once the fake EWS is started (it is recorded before the hosts are).
    const recorded: number[] = [];
    for (let i = 0; i < 400 && recorded.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
      try {
        const state = JSON.parse(readFileSync(paths.pidsFile, 'utf8')) as { processes: { pid: number }[] };
        recorded.push(...state.processes.map((p) => p.pid));
      } catch {
        /* not written yet */
      }
    }
    expect(recorded.length).toBeGreaterThan(0);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(recorded.filter((pid) => isRunning({ pid }))).toEqual([]);
    expect(markedProcesses(paths.dir)).toEqual([]);
    expect(existsSync(paths.pidsFile)).toBe(false);

    await labUp({ project: dir, hosts: 'local' });
    const again = spawn(process.execPath, [BIN, 'lab', 'up'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    again.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    expect(await new Promise((r) => again.on('close', r))).toBe(0);
    expect(out).toContain('already up');
    expect(await readFile(join(dir, 'inventory', 'lab', 'hosts.yml'), 'utf8')).toContain(
      'ansible_connection: local',
    );
  });
});
