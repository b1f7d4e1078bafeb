// Where a relative `src:` of copy, template and script is looked for on the control node, in Ansible's
// order (roughly): the task's role and the roles above it, the playbook's and the task file's directories
// (each first in its `files/` or `templates/`), then `<playbook dir>/../<kind>/`. Shared by the modules,
// which read the file, and the loader, which checks a fixed name before any host is touched.
import { dirname, isAbsolute, join, resolve } from 'node:path';

export function controlFileCandidates(
  src: string,
  kind: 'files' | 'templates',
  where: { baseDir: string; taskFile: string; roleDirs: string[] },
): string[] {
  if (isAbsolute(src)) return [src];
  const candidates: string[] = [];
  for (const dir of where.roleDirs) candidates.push(join(dir, kind, src), join(dir, src));
  for (const dir of new Set([where.baseDir, dirname(resolve(where.baseDir, where.taskFile))]))
    candidates.push(join(dir, kind, src), join(dir, src));
  candidates.push(join(where.baseDir, '..', kind, src));
  return [...new Set(candidates)];
}
