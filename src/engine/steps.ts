// Steps: the top-level entries of each play's task list (a task, a block, an import or include). They are
// the unit of rollout state and `--resume`; a step is identified by its play's name and its own name.
import type { Node, Playbook } from '../core/model.js';

export interface StepInfo {
  /** `<play name> > <step name>`, with ` #2`, ` #3`... when the playbook repeats one. */
  id: string;
  play: string;
  playIndex: number;
  /** Position in the play's task list. */
  index: number;
  name: string;
  tags: string[];
}

export type StepStatus = 'done' | 'failed' | 'interrupted' | 'not run' | 'skipped';

export interface StepReport {
  id: string;
  play: string;
  name: string;
  /** done: every host that ran it succeeded; skipped: left out by --resume (done before). */
  status: StepStatus;
  startedAt?: string;
  finishedAt?: string;
  /** Hosts that failed or were unreachable in this step. */
  failedHosts?: string[];
  /** Each host's outcome of this step in this run (what --resume goes by): hosts it skipped are absent. */
  hosts?: Record<string, HostStepStatus>;
}

export type HostStepStatus = 'done' | 'failed' | 'interrupted';

export function stepName(node: Node): string {
  if (node.name) return node.name;
  if (node.kind === 'task') return node.module;
  if (node.kind === 'include')
    return node.includeRole ? `include_role: ${node.file}` : `include_tasks: ${node.file}`;
  if (node.role) return `role: ${node.role.name}`;
  return `block at line ${node.pos.line}`;
}

/** Every step of a playbook, in execution order. */
export function playbookSteps(playbook: Playbook): StepInfo[] {
  const steps: StepInfo[] = [];
  const seen = new Map<string, number>();
  for (const [playIndex, play] of playbook.plays.entries()) {
    for (const [index, node] of play.tasks.entries()) {
      const name = stepName(node);
      const base = `${play.name} > ${name}`;
      const n = (seen.get(base) ?? 0) + 1;
      seen.set(base, n);
      const id = n > 1 ? `${base} #${n}` : base;
      steps.push({ id, play: play.name, playIndex, index, name, tags: node.tags });
    }
  }
  return steps;
}
