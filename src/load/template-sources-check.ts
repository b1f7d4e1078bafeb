// A template task whose fixed `src:` exists nowhere would fail on every host once the run reached it: the
// loader looks for it where the template module will (control-file-candidates.ts), so `validate` and `run`
// refuse it before any host is touched. Templated names (`src: "{{ name }}.j2"`) wait for the run.
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { controlFileCandidates } from '../core/control-file-candidates.js';
import type { Node, Playbook, RoleInfo } from '../core/model.js';
import type { Problem } from '../core/problems.js';

export function templateSourceProblems(playbook: Playbook): Problem[] {
  const baseDir = dirname(resolve(playbook.file));
  const problems: Problem[] = [];
  const seen = new Set<Node>();
  const walk = (nodes: Node[], role: RoleInfo | undefined) => {
    for (const node of nodes) {
      if (seen.has(node)) continue;
      seen.add(node);
      const inRole = node.role ?? role;
      if (node.kind === 'block')
        for (const list of [node.block, node.rescue, node.always]) walk(list, inRole);
      else if (node.kind === 'include') walk(node.tasks ?? [], inRole);
      else if (node.module === 'template') {
        const src = node.args.src;
        if (typeof src !== 'string' || src.includes('{{') || src.includes('{%')) continue;
        const roleDirs = inRole ? [inRole.path, ...inRole.parents.map((p) => p.path)] : [];
        const candidates = controlFileCandidates(src, 'templates', {
          baseDir,
          taskFile: node.pos.file,
          roleDirs,
        });
        if (candidates.some(isFile)) continue;
        problems.push({
          ...node.argsPos,
          message: `template source '${src}' not found`,
          hint: `looked in ${candidates.join(', ')}`,
        });
      }
    }
  };
  for (const play of playbook.plays) walk([...play.tasks, ...play.handlers], undefined);
  return problems;
}

function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}
