// One-line descriptions of a host's task result, shared by the plain and the listr2 outputs.
import type { HostTaskResult } from '../engine/results.js';

const LABEL: Record<HostTaskResult['status'], string> = {
  ok: 'ok',
  changed: 'changed',
  skipped: 'skipping',
  failed: 'fatal',
  unreachable: 'fatal',
};

export function hostLine(host: string, r: HostTaskResult): string {
  const who = r.delegatedTo ? `${host} -> ${r.delegatedTo}` : host;
  if (r.status === 'failed') {
    return `fatal: [${who}]: FAILED! => ${r.msg ?? 'failed'}${r.ignored ? '\n...ignoring' : ''}`;
  }
  if (r.status === 'unreachable') return `fatal: [${who}]: UNREACHABLE! => ${r.msg ?? 'unreachable'}`;
  const suffix = r.status === 'skipped' || !r.msg || r.status === 'ok' ? '' : ` => ${firstLine(r.msg)}`;
  return `${LABEL[r.status]}: [${who}]${suffix}`;
}

export function itemLines(host: string, r: HostTaskResult): string[] {
  return (r.items ?? []).map(
    (i) =>
      `${i.status === 'failed' ? 'failed' : LABEL[i.status]}: [${host}] => (item=${i.label})${i.msg && i.status === 'failed' ? ` => ${i.msg}` : ''}`,
  );
}

/** Whether a result's message is output: debug's from its verbosity on, the others from -v on. */
export function showsMessage(
  r: { msg?: string; status: string; verbosity?: number },
  verbose: number,
): boolean {
  if (!r.msg || (r.status !== 'ok' && r.status !== 'changed')) return false;
  return verbose >= (r.verbosity ?? 1);
}

/** A message under its result line, every line indented. */
export function indent(msg: string): string {
  return msg.replace(/^/gm, '  ');
}

export function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i < 0 ? s : `${s.slice(0, i)} …`;
}

export function shortStatus(r: HostTaskResult): string {
  switch (r.status) {
    case 'failed':
      return r.ignored ? 'failed (ignored)' : 'failed';
    case 'skipped':
      return 'skipped';
    default:
      return r.checkMode && r.status === 'changed' ? 'would change' : r.status;
  }
}

/** Lines of a command's output shown under a failure (the end of it: the part that says why). */
const OUTPUT_LINES = 20;

/**
 * What a failed command said, under its fatal line (Ansible prints the whole result there): cmd, rc and
 * the last lines of stdout and stderr, from the result's registered data. Empty for other failures.
 */
export function failureDetails(r: HostTaskResult): string[] {
  if (r.status !== 'failed' || !r.data) return [];
  const d = r.data;
  const lines: string[] = [];
  if (d.cmd !== undefined && d.cmd !== null)
    lines.push(`cmd: ${Array.isArray(d.cmd) ? d.cmd.map(String).join(' ') : String(d.cmd)}`);
  if (typeof d.rc === 'number') lines.push(`rc: ${d.rc}`);
  for (const stream of ['stdout', 'stderr'] as const) {
    const text = typeof d[stream] === 'string' ? (d[stream] as string).replace(/\s+$/, '') : '';
    if (!text) continue;
    const all = text.split('\n');
    const shown = all.slice(-OUTPUT_LINES);
    lines.push(
      `${stream}:${all.length > shown.length ? ` (last ${shown.length} of ${all.length} lines)` : ''}`,
    );
    lines.push(...shown.map((l) => `  ${l}`));
  }
  return lines;
}
