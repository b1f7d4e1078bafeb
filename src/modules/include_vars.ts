// include_vars: loads variables from a YAML/JSON file of the control node while the play runs, as Ansible's
// include_vars: set on the host like set_fact (optionally all under one `name`), never changed, and the same
// in check mode. The file is read by the run's vars loader, so a vault file is decrypted as vars_files are
// and its values are secrets (masked in every output). `dir:` loading is not supported.
import { stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { Vars } from '../core/model.js';
import { type Problem, UserError } from '../core/problems.js';
import { loadVarsFiles } from '../inventory/vars-files.js';
import { fail } from './kit.js';
import type { Module, ModuleContext } from './module.js';

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Where Ansible's include_vars looks for a relative file (its `vars` search): beside the task's file, then
 * in the playbook's directory, each time in vars/ first.
 */
export function varsFileCandidates(ctx: Pick<ModuleContext, 'baseDir' | 'pos'>, file: string): string[] {
  if (isAbsolute(file)) return [file];
  const out: string[] = [];
  for (const dir of new Set([dirname(resolve(ctx.baseDir, ctx.pos.file)), ctx.baseDir]))
    out.push(join(dir, 'vars', file), join(dir, file));
  return [...new Set(out)];
}

/** Outside a run (module tests) there is no vault: the file is plain YAML or JSON. */
async function plainVarsFile(file: string): Promise<Vars> {
  const problems: Problem[] = [];
  const layer = await loadVarsFiles([file], problems);
  if (problems.length > 0) throw new UserError(problems);
  return layer.vars;
}

/** A regular file (a directory or device is never loaded; the reader also refuses it). */
async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() === true;
}

export const includeVarsModule: Module = {
  name: 'include_vars',
  summary: 'Load variables from a YAML/JSON file (vault files too) while the play runs; never changed',
  freeForm: 'file',
  args: {
    type: 'object',
    additionalProperties: false,
    required: ['file'],
    properties: {
      file: {
        type: 'string',
        minLength: 1,
        description:
          "The vars file on the control node; relative: in vars/ or beside the task's file, then in the playbook's vars/ or directory",
      },
      name: {
        type: 'string',
        pattern: VAR_NAME.source,
        description: 'Put all the loaded variables under this one variable (a mapping)',
      },
    },
  },
  check: 'full',
  async run(ctx, args) {
    const file = String(args.file);
    const candidates = varsFileCandidates(ctx, file);
    let found: string | undefined;
    for (const c of candidates)
      if (await exists(c)) {
        found = c;
        break;
      }
    if (!found) return fail(`Could not find or access '${file}' (searched ${candidates.join(', ')})`);
    const loaded = await (ctx.loadVarsFile ?? plainVarsFile)(found);
    const bad = Object.keys(loaded).find((k) => !VAR_NAME.test(k));
    if (bad !== undefined && typeof args.name !== 'string')
      return fail(
        `invalid variable name '${bad}' in ${found}: names are letters, digits and _ (not first a digit); or load the file under name:`,
      );
    const facts = typeof args.name === 'string' ? { [args.name]: loaded } : loaded;
    return { changed: false, authoredVars: facts, data: { ansible_included_var_files: [found] } };
  },
};
