// Where the lab keeps everything (.ewsplay/lab/ of the project) and how it finds and stops what it started.
// Every process is recorded in pids.json the moment it starts (with its kernel start time, so a PID reused
// by an unrelated process is never signalled), and every process the lab starts, directly or through a
// host's stand-ins, carries EWSPLAY_LAB=<lab dir> in its environment: `lab down` stops both sets.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../util/write-file-atomic.js';
import { descendants, isAlive } from './sshd.js';

export type HostMode = 'sshd' | 'local';
export type ForwarderMode = 'socat' | 'standin';

export interface LabProcess {
  name: string;
  pid: number;
  /** Field 22 of /proc/PID/stat: tells this process from a later one with the same PID. */
  startTime?: string;
  port?: number;
}

export interface LabHostInfo {
  name: string;
  group: 'mail' | 'hypervisor' | 'exchange';
  /** The host's own directory: HOME and root of a local host; stand-in state under state/. */
  dir: string;
  port?: number;
}

export interface LabState {
  version: 1;
  dir: string;
  inventoryDir: string;
  hostMode: HostMode;
  forwarder: ForwarderMode;
  /** Whether the site installs the forwarder from VK's package (stand-in) or with ewsplay's own unit. */
  vendorPackage?: boolean;
  /** The fake EWS offers Basic too (lab up --basic-auth); otherwise Negotiate and NTLM only, as Exchange. */
  basicAuth?: boolean;
  ewsUrl?: string;
  ewsPort?: number;
  forwarderPort?: number;
  hosts: LabHostInfo[];
  processes: LabProcess[];
  startedAt: string;
}

export interface LabPaths {
  /** The project: .ewsplay/lab and inventory/lab are under it. */
  project: string;
  dir: string;
  pidsFile: string;
  inventoryDir: string;
}

export function labPaths(project = process.cwd(), inventoryDir?: string): LabPaths {
  const root = resolve(project);
  const dir = join(root, '.ewsplay', 'lab');
  return {
    project: root,
    dir,
    pidsFile: join(dir, 'pids.json'),
    inventoryDir: resolve(inventoryDir ?? join(root, 'inventory', 'lab')),
  };
}

export async function readState(paths: LabPaths): Promise<LabState | undefined> {
  try {
    return JSON.parse(await readFile(paths.pidsFile, 'utf8')) as LabState;
  } catch {
    return undefined;
  }
}

export async function writeState(paths: LabPaths, state: LabState): Promise<void> {
  await writeFileAtomic(paths.pidsFile, `${JSON.stringify(state, null, 2)}\n`);
}

export function startTimeOf(pid: number): string | undefined {
  try {
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing one.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Alive, not a zombie, and (when known) the very process that was recorded. */
export function isRunning(p: Pick<LabProcess, 'pid' | 'startTime'>): boolean {
  if (!isAlive(p.pid)) return false;
  try {
    const stat = readFileSync(`/proc/${p.pid}/stat`, 'utf8');
    if (/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2))) return false;
  } catch {
    return true; // no /proc: trust kill(0)
  }
  return p.startTime === undefined || startTimeOf(p.pid) === p.startTime;
}

/** PIDs whose environment says EWSPLAY_LAB=dir (readable only for our own processes, which is all we want). */
export function markedProcesses(dir: string): number[] {
  const marker = `EWSPLAY_LAB=${dir}\0`;
  const out: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${e}/environ`, 'latin1').includes(marker)) out.push(Number(e));
    } catch {
      /* gone, or another user's */
    }
  }
  return out;
}

function signalAll(pids: Iterable<number>, sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  }
}

/**
 * Stops these processes and all their descendants: SIGTERM, then SIGKILL for what is left after
 * `graceMs`. Descendants are collected first, since a stopped parent's children are re-parented to init.
 */
export async function stopProcesses(pids: number[], graceMs = 3000): Promise<void> {
  const all = new Set<number>();
  for (const pid of pids) {
    if (!isAlive(pid)) continue;
    all.add(pid);
    for (const d of descendants(pid)) all.add(d);
  }
  if (all.size === 0) return;
  signalAll(all, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && [...all].some((p) => isRunning({ pid: p }))) {
    await new Promise((r) => setTimeout(r, 50));
  }
  signalAll(
    [...all].filter((p) => isRunning({ pid: p })),
    'SIGKILL',
  );
}

/** Process ids recorded by the systemctl stand-in (services it started) under a host's state. */
export function servicePids(hostDir: string): number[] {
  const run = join(hostDir, 'state', 'systemd', 'run');
  try {
    return readdirSync(run)
      .filter((f) => f.endsWith('.pid'))
      .map((f) => Number(readFileSync(join(run, f), 'utf8').trim()))
      .filter((n) => Number.isInteger(n) && n > 1);
  } catch {
    return [];
  }
}

/** Whether a program is on PATH (or at an absolute path). */
export function hasProgram(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v "$0"`, name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
