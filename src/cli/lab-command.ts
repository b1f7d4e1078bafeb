// `ewsplay lab up | down | status`: the built-in lab site (src/lab/lab.ts). Ctrl-C during `up` stops
// whatever had been started and exits 130.
import { relative } from 'node:path';
import { ExitCode, UsageError } from '../core/problems.js';
import { labDown, labStatus, labUp } from '../lab/lab.js';
import { reportError } from './errors.js';

export interface LabFlags {
  hosts?: string;
  forwarder?: string;
  /** The fake EWS offers Basic beside Negotiate and NTLM. */
  basicAuth?: boolean;
}

export async function labCommand(action: string, flags: LabFlags): Promise<number> {
  try {
    if (action === 'up') return await up(flags);
    if (action === 'down') {
      const { wasUp, stopped } = await labDown();
      process.stdout.write(
        wasUp
          ? `lab down: stopped ${stopped.length} process(es), removed .ewsplay/lab and inventory/lab\n`
          : 'lab is not up\n',
      );
      return ExitCode.ok;
    }
    if (action === 'status') return await status();
    throw new UsageError(`unknown lab action '${action}'`, 'use: ewsplay lab up | down | status');
  } catch (e) {
    return reportError(e);
  }
}

async function up(flags: LabFlags): Promise<number> {
  const hosts = flags.hosts ?? 'auto';
  if (!['sshd', 'local', 'auto'].includes(hosts))
    throw new UsageError(`--hosts ${hosts}: use sshd, local or auto`);
  const forwarder = flags.forwarder ?? 'auto';
  if (!['socat', 'standin', 'auto'].includes(forwarder))
    throw new UsageError(`--forwarder ${forwarder}: use socat, standin or auto`);
  const abort = new AbortController();
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  try {
    const result = await labUp({
      hosts: hosts as 'sshd' | 'local' | 'auto',
      forwarder: forwarder as 'socat' | 'standin' | 'auto',
      basicAuth: flags.basicAuth === true,
      signal: abort.signal,
      log: (line) => process.stdout.write(`  ${line}\n`),
    });
    if (result.already) {
      process.stdout.write('lab is already up (ewsplay lab status shows it; ewsplay lab down stops it)\n');
      return ExitCode.ok;
    }
    for (const w of result.warnings) process.stderr.write(`[WARNING]: ${w}\n`);
    const inv = relative(process.cwd(), result.state.inventoryDir) || '.';
    process.stdout.write(
      `lab up: ${result.state.hostMode} hosts, fake EWS at ${result.state.ewsUrl} (${ewsAuthOf(result.state)})\n` +
        `  ewsplay run playbooks/ews-migration.yml -i ${inv}\n` +
        '  ewsplay lab down    (stops everything)\n',
    );
    return ExitCode.ok;
  } catch (e) {
    if (interrupted) {
      process.stderr.write('lab up interrupted: everything it had started is stopped\n');
      return ExitCode.interrupted;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}

async function status(): Promise<number> {
  const { state, processes } = await labStatus();
  if (!state) {
    process.stdout.write('lab is not up\n');
    return ExitCode.ok;
  }
  process.stdout.write(
    `lab (${state.hostMode} hosts, forwarder ${state.forwarder}, EWS ${ewsAuthOf(state)}) since ${state.startedAt}\n` +
      `  inventory ${relative(process.cwd(), state.inventoryDir) || '.'}\n`,
  );
  const rows = processes.map((p) => [
    p.name,
    String(p.pid),
    p.port ? String(p.port) : '-',
    p.alive ? 'alive' : 'dead',
  ]);
  const widths = [0, 1, 2].map((i) =>
    Math.max(...[['process', 'pid', 'port'][i]!.length, ...rows.map((r) => r[i]!.length)]),
  );
  const line = (r: string[]) => `  ${r.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c)).join('  ')}\n`;
  process.stdout.write(line(['process', 'pid', 'port', 'state']));
  for (const r of rows) process.stdout.write(line(r));
  // Exit 3 when the lab is partly down, so scripts can tell.
  return processes.every((p) => p.alive) ? ExitCode.ok : ExitCode.hostFailed;
}

/** What the lab's fake EWS offers in its 401. */
function ewsAuthOf(state: { basicAuth?: boolean }): string {
  return state.basicAuth ? 'auth Negotiate, NTLM, Basic' : 'auth Negotiate, NTLM; Basic off';
}
