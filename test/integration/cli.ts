// The ewsplay CLI as the SSH integration tests drive it: the built bin run in a project directory, and
// the recap read back per host.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';

const BIN = resolve(import.meta.dirname, '../../bin/ewsplay.js');

export interface CliResult {
  rc: number;
  stdout: string;
  stderr: string;
}

/** Runs `ewsplay ARGS` in `dir` (the built dist/: `npm test` builds first). */
export function ewsplayIn(dir: string, args: string[], timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { cwd: dir, timeout: timeoutMs }, (err, stdout, stderr) =>
      done({ rc: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** changed=N of each host's recap line, for hosts that were neither unreachable nor failed. */
export function changedPerHost(stdout: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of stdout.matchAll(/^(\S+)\s+:\s+ok=\d+\s+changed=(\d+)\s+unreachable=0\s+failed=0/gm))
    out[m[1]!] = Number(m[2]);
  return out;
}

/** Runs `ewsplay run PLAYBOOK EXTRA…` in `dir` against an sshd lab's inventory, trusting its host keys. */
export function runOnLab(
  dir: string,
  lab: { inventoryFile: string; knownHostsFile: string },
  playbook: string,
  ...extra: string[]
): Promise<CliResult> {
  return ewsplayIn(dir, [
    'run',
    playbook,
    '-i',
    lab.inventoryFile,
    '--known-hosts',
    lab.knownHostsFile,
    ...extra,
  ]);
}
