// The play keyword gather_facts: Ansible's implicit "Gathering Facts" task (the setup module) before a
// play's first task. true: every host of the play, every time. false: never. Not set: Ansible gathers by
// default, which costs a round trip per host and play; ewsplay gathers only when the play can use a fact:
// its tasks, handlers, vars, vars_files, extra vars or the hosts' inventory vars mention `ansible_facts` or an
// `ansible_<fact>` setup gives, or it includes a task file whose name is templated (not known before the run).
// A host's facts gathered once in the run serve the later plays (Ansible caches them in memory too).
import type { Node, Play, TaskNode } from '../core/model.js';
import { FACT_NAMES } from '../modules/setup-facts.js';
import type { RunContext } from './context.js';

const REFERENCE = new RegExp(`\\bansible_(?:facts|${FACT_NAMES.join('|')})\\b`);
const WINDOWS_SHELLS = new Set(['powershell', 'cmd']);

/** Hosts whose facts this run has gathered implicitly, per run. */
const gatheredIn = new WeakMap<RunContext, Set<string>>();

/** Ansible's implicit setup task; tagged `always` as Ansible's is, so --tags does not leave it out. */
export function gatherFactsTask(play: Play): TaskNode {
  return {
    kind: 'task',
    name: 'Gathering Facts',
    pos: play.pos,
    when: [],
    tags: ['always'],
    vars: {},
    module: 'setup',
    args: {},
    argsPos: play.pos,
    loopVar: 'item',
    retries: 0,
    delay: 5,
    notify: [],
  };
}

/**
 * Runs the implicit fact gathering of a play on the hosts that need it (see the rule at the top), through
 * `run`, which runs a task on hosts with the engine's full semantics. `startAt`: the --start-at-task name
 * not met yet; as in Ansible, a play without that task gathers nothing (none of it runs).
 */
export async function gatherPlayFacts(
  rc: RunContext,
  play: Play,
  hosts: string[],
  startAt: string | undefined,
  run: (task: TaskNode, hosts: string[]) => Promise<void>,
): Promise<void> {
  if (startAt !== undefined && !hasTaskNamed(play.tasks, startAt) && !hasDynamicInclude(play.tasks)) return;
  const targets = hostsToGather(rc, play, hosts);
  if (targets.length === 0) return;
  await run(gatherFactsTask(play), targets);
  const gathered = gatheredIn.get(rc) ?? new Set<string>();
  gatheredIn.set(rc, gathered);
  for (const h of targets) if (rc.hosts.get(h)?.facts.ansible_facts) gathered.add(h);
}

/** Which of the play's hosts gather facts before its first task. */
export function hostsToGather(rc: RunContext, play: Play, hosts: string[]): string[] {
  if (play.gatherFacts === false) return [];
  if (play.gatherFacts === true) return hosts;
  const gathered = gatheredIn.get(rc);
  // A Windows host cannot run setup: left out unless the play asks for facts explicitly.
  const fresh = hosts.filter(
    (h) =>
      !gathered?.has(h) && !WINDOWS_SHELLS.has(String(rc.inventory.hostVars(h).ansible_shell_type ?? '')),
  );
  if (fresh.length === 0) return [];
  return playUsesFacts(play, [
    rc.playVarsFiles,
    rc.options.extraVars,
    ...fresh.map((h) => rc.inventory.hostVars(h)),
  ])
    ? fresh
    : [];
}

/** True when the play (or the given variables) mention a fact, or include a file that cannot be read before the run. */
export function playUsesFacts(play: Play, vars: unknown[] = []): boolean {
  if (hasDynamicInclude([...play.tasks, ...play.handlers])) return true;
  return [play.tasks, play.handlers, play.vars, ...vars].some((v) => mentionsFact(v));
}

/** The value mentions `ansible_facts` or an `ansible_<fact>` (positions left out: a file name is no reference). */
export function mentionsFact(value: unknown): boolean {
  let text: string;
  try {
    text = JSON.stringify(value, (k, v: unknown) => (k === 'pos' || k === 'argsPos' ? undefined : v)) ?? '';
  } catch {
    // Something that cannot be read as data: gather rather than miss a reference.
    return true;
  }
  return REFERENCE.test(text);
}

function hasDynamicInclude(nodes: Node[]): boolean {
  return nodes.some((n) =>
    n.kind === 'include'
      ? n.tasks === undefined || n.file.includes('{{') || hasDynamicInclude(n.tasks)
      : n.kind === 'block' && hasDynamicInclude([...n.block, ...n.rescue, ...n.always]),
  );
}

function hasTaskNamed(nodes: Node[], name: string): boolean {
  return nodes.some((n) =>
    n.kind === 'task'
      ? n.name === name
      : n.kind === 'block'
        ? hasTaskNamed([...n.block, ...n.rescue, ...n.always], name)
        : n.tasks !== undefined && hasTaskNamed(n.tasks, name),
  );
}
