// Ansible's tag selection: --tags selects, --skip-tags removes; 'always' runs unless skipped by name;
// 'never' runs only when asked for by name.
import type { Node, Playbook } from '../core/model.js';
import { UsageError } from '../core/problems.js';
import { didYouMean } from '../core/suggest.js';

export interface TagFilter {
  only: string[];
  skip: string[];
}

export function tagsSelected(taskTags: string[], filter: TagFilter): boolean {
  const tags = new Set(taskTags);
  if (filter.skip.some((t) => tags.has(t))) return false;
  if (filter.skip.includes('all')) return false;
  if (filter.only.length === 0 || filter.only.includes('all')) return !tags.has('never');
  if (tags.has('always')) return true;
  if (filter.only.includes('tagged') && tags.size > 0) return true;
  if (filter.only.includes('untagged') && tags.size === 0) return true;
  return filter.only.some((t) => tags.has(t));
}

/** Tags with a meaning of their own in --tags/--skip-tags. */
const SPECIAL_TAGS = ['all', 'always', 'never', 'tagged', 'untagged'];

/**
 * Every tag the playbook can select, or undefined when a dynamic include (a templated file name) may hold
 * tags no one can know before the run.
 */
export function playbookTags(playbook: Playbook): Set<string> | undefined {
  const tags = new Set<string>();
  let dynamic = false;
  const walk = (nodes: Node[]) => {
    for (const n of nodes) {
      for (const t of n.tags) tags.add(t);
      if (n.kind === 'block') for (const list of [n.block, n.rescue, n.always]) walk(list);
      else if (n.kind === 'include') {
        if (n.tasks) walk(n.tasks);
        else dynamic = true;
      }
    }
  };
  for (const play of playbook.plays) {
    for (const t of play.tags) tags.add(t);
    walk(play.tasks);
    walk(play.handlers);
  }
  return dynamic ? undefined : tags;
}

/**
 * A --tags or --skip-tags value that names no tag of the playbook: a typo that would otherwise run nothing
 * (or skip nothing) without a word, as Ansible does.
 */
export function unknownTagProblem(filter: TagFilter, known: Set<string>): UsageError | undefined {
  for (const [flag, values] of [
    ['--tags', filter.only],
    ['--skip-tags', filter.skip],
  ] as const) {
    for (const tag of values) {
      if (known.has(tag) || SPECIAL_TAGS.includes(tag)) continue;
      const guess = didYouMean(tag, known);
      const list = [...known].sort().join(', ') || 'none';
      return new UsageError(
        `${flag} ${tag}: the playbook has no task tagged '${tag}'`,
        `${guess ? `${guess} ` : ''}The playbook's tags: ${list}`,
      );
    }
  }
  return undefined;
}
