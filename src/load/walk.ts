// The one walk over a loaded task tree: blocks' block, rescue and always, and the tasks an include loaded
// (a role's block or a fixed include_tasks file), depth first, in the order written.
import type { Node, RoleInfo } from '../core/model.js';

/**
 * Calls `visit` for every node under `nodes` (blocks and includes too, before their children), with the
 * innermost role around it (its own for a role's block). A node met twice (a task file included twice is
 * loaded once: its nodes are shared) is visited once.
 */
export function walkNodes(
  nodes: readonly Node[],
  visit: (node: Node, role: RoleInfo | undefined) => void,
  role?: RoleInfo,
): void {
  const seen = new Set<Node>();
  const walk = (list: readonly Node[], outer: RoleInfo | undefined) => {
    for (const node of list) {
      if (seen.has(node)) continue;
      seen.add(node);
      const inRole = node.role ?? outer;
      visit(node, inRole);
      if (node.kind === 'block')
        for (const section of [node.block, node.rescue, node.always]) walk(section, inRole);
      else if (node.kind === 'include') walk(node.tasks ?? [], inRole);
    }
  };
  walk(nodes, role);
}
