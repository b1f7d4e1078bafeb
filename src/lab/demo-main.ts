// Entry point of `npm run demo` (see demo.ts). Options: --hosts sshd|local|auto, --output auto|tree|plain.
// Exits 0 when everything was proven, 3 when a step failed, 130 on Ctrl-C; the lab is down in every case.
import { ExitCode } from '../core/problems.js';
import { runDemo } from './demo.js';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

const hosts = option('--hosts') ?? 'auto';
const output = option('--output') ?? 'auto';
if (!['sshd', 'local', 'auto'].includes(hosts) || !['auto', 'tree', 'plain'].includes(output)) {
  process.stderr.write('usage: npm run demo -- [--hosts sshd|local|auto] [--output auto|tree|plain]\n');
  process.exit(ExitCode.usage);
}
const abort = new AbortController();
// Ctrl-C reaches the running ewsplay too (same terminal); the demo then stops the lab and exits 130.
process.on('SIGINT', () => abort.abort());
process.on('SIGTERM', () => abort.abort());

const result = await runDemo({
  hosts: hosts as 'sshd' | 'local' | 'auto',
  output: output as 'auto' | 'tree' | 'plain',
  signal: abort.signal,
});
process.stdout.write('\n== what the demo proved\n');
for (const line of result.proven) process.stdout.write(`  ok  ${line}\n`);
if (result.ok) {
  // No check can see these effects, on the lab or on a real site: said so, not claimed.
  for (const step of result.notVerified)
    process.stdout.write(`  not verified  ${step}: no check can see its effect (see its task's message)\n`);
  process.stdout.write(
    `  forwarder  ${result.state?.forwarder === 'socat' ? "the distribution's socat (real)" : 'the Node socat stand-in (socat is not installed)'}\n`,
  );
}
if (!result.ok) {
  process.stdout.write(`  FAILED  ${result.failure ?? 'unknown failure'}\n`);
  process.stdout.write('  (the reports of each run are in .ewsplay/runs/lab/)\n');
}
process.exitCode = result.ok
  ? ExitCode.ok
  : abort.signal.aborted
    ? ExitCode.interrupted
    : ExitCode.hostFailed;
