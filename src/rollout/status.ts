// `ewsplay status`: sites x steps as plain text within 100 columns (steps are rows, sites are columns, in
// groups of as many sites as fit), or the same data as JSON.
import { basename } from 'node:path';
import type { LockInfo } from './lock.js';
import type { SiteState, StepState } from './state.js';

export interface SiteStatus {
  site: string;
  /** undefined: the site has never run (no state file). */
  state?: SiteState;
  lock?: LockInfo;
  lockProblem?: string;
}

const WIDTH = 100;
const CELL = 19;
const GAP = 2;
const MIN_LABEL = 30;
const WORD: Record<StepState['status'], string> = { done: 'done', failed: 'failed', interrupted: 'stopped' };

function when(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '?';
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

function clip(s: string, width: number): string {
  return s.length <= width ? s.padEnd(width) : `${s.slice(0, width - 3)}...`;
}

interface Row {
  play?: string;
  label: string;
  cell(s: SiteStatus): string;
}

function rows(sites: SiteStatus[]): Row[] {
  // Steps in playbook order: those of each playbook a site ran, then any others a state still records.
  const steps = new Map<string, { playbook: string; play: string; name: string }>();
  const playbooks = new Set<string>();
  for (const s of sites) for (const p of Object.keys(s.state?.playbooks ?? {})) playbooks.add(p);
  for (const p of [...playbooks].sort())
    for (const s of sites)
      for (const st of s.state?.playbooks?.[p] ?? [])
        if (!steps.has(st.id)) steps.set(st.id, { ...st, playbook: p });
  const recorded = sites.flatMap((s) => Object.entries(s.state?.steps ?? {}));
  recorded.sort(([, a], [, b]) => a.order[0] - b.order[0] || a.order[1] - b.order[1]);
  for (const [id, st] of recorded) if (!steps.has(id)) steps.set(id, st);
  // The playbook is named only when steps of several playbooks are listed.
  const several = new Set([...steps.values()].map((st) => st.playbook)).size > 1;
  const out: Row[] = [...steps.entries()].map(([id, st]) => ({
    play: several ? `${basename(st.playbook)}: ${st.play}` : st.play,
    label: st.name,
    cell: (s) => {
      const mine = s.state?.steps[id];
      return mine ? `${WORD[mine.status]} ${when(mine.at)}` : 'not run';
    },
  }));
  const operations = new Set<string>();
  for (const s of sites)
    for (const m of s.state?.mailboxes ?? [])
      for (const op of Object.keys(m.operations ?? {})) operations.add(op);
  for (const op of operations)
    out.push({
      label: `mailboxes: ${op}`,
      cell: (s) => {
        const outcomes = (s.state?.mailboxes ?? []).flatMap((m) => Object.values(m.operations?.[op] ?? {}));
        if (outcomes.length === 0) return 'not run';
        const done = outcomes.filter((o) => o.status === 'done').length;
        return `${done} done, ${outcomes.length - done} failed`;
      },
    });
  out.push({
    label: 'last run',
    cell: (s) =>
      s.state?.lastRun ? `${s.state.lastRun.result} ${when(s.state.lastRun.startedAt)}` : 'never',
  });
  return out;
}

export function renderStatus(sites: SiteStatus[]): string {
  if (sites.length === 0) return 'no sites: no state under .ewsplay/state (run a playbook first, or pass -i)';
  const all = rows(sites);
  const perTable = Math.max(1, Math.floor((WIDTH - MIN_LABEL) / (CELL + GAP)));
  const out: string[] = [];
  for (let i = 0; i < sites.length; i += perTable) {
    const group = sites.slice(i, i + perTable);
    const longest = Math.max(4, ...all.map((r) => r.label.length + 2));
    const label = Math.min(longest, WIDTH - group.length * (CELL + GAP));
    const line = (first: string, cells: string[]) =>
      [clip(first, label), ...cells.map((c) => clip(c, CELL))].join(' '.repeat(GAP)).trimEnd();
    if (out.length > 0) out.push('');
    out.push(
      line(
        'STEP',
        group.map((s) => s.site),
      ),
    );
    let play: string | undefined;
    for (const r of all) {
      if (r.play && r.play !== play) {
        play = r.play;
        out.push(clip(`[${play}]`, WIDTH).trimEnd());
      }
      if (!r.play && play !== undefined) {
        play = undefined;
        out.push('');
      }
      out.push(
        line(
          r.play ? `  ${r.label}` : r.label,
          group.map((s) => r.cell(s)),
        ),
      );
    }
  }
  const notes: string[] = [];
  for (const s of sites) {
    if (s.lock)
      notes.push(
        `${s.site}: running now: ${s.lock.user}@${s.lock.hostname} pid ${s.lock.pid} since ${when(s.lock.startedAt)}`,
      );
    if (s.lockProblem) notes.push(`${s.site}: ${s.lockProblem}`);
    if (s.state?.lastRun) notes.push(`${s.site}: last report ${s.state.lastRun.report}`);
  }
  if (notes.length > 0) out.push('', ...notes.map((n) => clip(n, WIDTH).trimEnd()));
  return out.join('\n');
}
