// `ewsplay validate`: everything that can be checked without touching a host. The loader's checks, plus the
// syntax of every template and condition, and host patterns that match no host of the inventory.
import { visit, type Node as YamlNode } from 'yaml';
import type { Node, Playbook } from '../core/model.js';
import type { Problem } from '../core/problems.js';
import { checkTemplateSyntax } from '../template/templar.js';
import {
  type LoadedSource,
  type LoadOptions,
  type LoadResult,
  loadPlaybookDetailed,
  loadTaskFileDetailed,
} from './playbook.js';
import { templateSourceProblems } from './template-sources-check.js';

export interface ValidateOptions extends LoadOptions {
  /** With an inventory, every play's `hosts:` must match at least one host. */
  inventory?: { match(pattern: string): string[] };
  /** Returns an error message for a template with bad syntax (default: the templating engine's check). */
  checkTemplate?: (text: string) => string | undefined;
}

export async function validatePlaybook(
  file: string,
  opts: ValidateOptions = {},
): Promise<{ playbook: Playbook; problems: Problem[] }> {
  const loaded = await loadPlaybookDetailed(file, opts);
  const found = opts.inventory ? hostProblems(loaded.value, opts.inventory) : [];
  if (loaded.problems.length === 0) found.push(...templateSourceProblems(loaded.value));
  return { playbook: loaded.value, problems: withTemplateProblems(loaded, opts, found) };
}

/** The same checks for a task file on its own (host patterns aside: a task file has none). */
export async function validateTaskFile(
  file: string,
  opts: ValidateOptions = {},
): Promise<{ tasks: Node[]; problems: Problem[] }> {
  const loaded = await loadTaskFileDetailed(file, opts);
  return { tasks: loaded.value, problems: withTemplateProblems(loaded, opts, []) };
}

function withTemplateProblems(
  loaded: LoadResult<unknown>,
  opts: ValidateOptions,
  found: Problem[],
): Problem[] {
  const check = opts.checkTemplate ?? checkTemplateSyntax;
  // Playbooks repeat the same templates ('{{ item }}', conditions): check each text once.
  const seen = new Map<string, string | undefined>();
  const checkTemplate = (text: string) => {
    if (!seen.has(text)) seen.set(text, check(text));
    return seen.get(text);
  };
  for (const source of loaded.sources) found.push(...templateProblems(source, checkTemplate));
  const order = new Map(loaded.sources.map((s, i) => [s.src.file, i]));
  return [...loaded.problems, ...found].sort(
    (a, b) => (order.get(a.file) ?? -1) - (order.get(b.file) ?? -1) || a.line - b.line || a.col - b.col,
  );
}

/** Every string of a file is a template; the values of when:/until:/changed_when:/failed_when: are bare expressions. */
function templateProblems(source: LoadedSource, check: (text: string) => string | undefined): Problem[] {
  const { src, expressions } = source;
  if (src.broken) return [];
  const problems: Problem[] = [];
  // A node an alias names sits at several places of the tree: it is checked once.
  const checked = new Set<YamlNode>();
  visit(src.doc, {
    Scalar(key, node) {
      if (key === 'key' || typeof node.value !== 'string' || checked.has(node)) return;
      checked.add(node);
      const text = node.value;
      const template = expressions.has(node as YamlNode) && !text.includes('{{') ? `{{ ${text} }}` : text;
      const error = check(template);
      if (error) problems.push({ ...src.pos(node), message: error });
    },
  });
  return problems;
}

function hostProblems(playbook: Playbook, inventory: { match(pattern: string): string[] }): Problem[] {
  const problems: Problem[] = [];
  for (const play of playbook.plays) {
    if (!play.hosts || play.hosts.includes('{{')) continue;
    const at = play.hostsPos ?? play.pos;
    try {
      if (inventory.match(play.hosts).length === 0)
        problems.push({
          ...at,
          message: `host pattern '${play.hosts}' matches no host of the inventory`,
          hint: '`ewsplay inventory -i INVENTORY --graph` shows the groups and hosts',
        });
    } catch (e) {
      problems.push({ ...at, message: e instanceof Error ? e.message : String(e) });
    }
  }
  return problems;
}
