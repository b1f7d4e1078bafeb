// A template task whose fixed `src:` exists nowhere would fail on every host once the run reached it: the
// loader looks for it where the template module will (control-file-candidates.ts), so `validate` and `run`
// refuse it before any host is touched. Templated names (`src: "{{ name }}.j2"`) wait for the run.
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { controlFileCandidates } from '../core/control-file-candidates.js';
import type { Playbook } from '../core/model.js';
import type { Problem } from '../core/problems.js';
import { walkNodes } from './walk.js';

export function templateSourceProblems(playbook: Playbook): Problem[] {
  const baseDir = dirname(resolve(playbook.file));
  const problems: Problem[] = [];
  const everyPlay = playbook.plays.flatMap((play) => [...play.tasks, ...play.handlers]);
  walkNodes(everyPlay, (node, inRole) => {
    if (node.kind !== 'task' || node.module !== 'template') return;
    const src = node.args.src;
    if (typeof src !== 'string' || src.includes('{{') || src.includes('{%')) return;
    const roleDirs = inRole ? [inRole.path, ...inRole.parents.map((p) => p.path)] : [];
    const candidates = controlFileCandidates(src, 'templates', {
      baseDir,
      taskFile: node.pos.file,
      roleDirs,
    });
    if (candidates.some(isFile)) return;
    problems.push({
      ...node.argsPos,
      message: `template source '${src}' not found`,
      hint: `looked in ${candidates.join(', ')}`,
    });
  });
  return problems;
}

function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}
