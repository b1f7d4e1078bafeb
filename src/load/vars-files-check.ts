// vars_files are read when their play starts, after earlier plays have run: a missing, unreadable or broken
// file would stop a run halfway. Every entry that names a fixed file is checked while loading instead, so
// `validate` and `run` refuse it before any host is touched. Templated names wait for the run.
import { isAbsolute, resolve } from 'node:path';
import { InputFileError, readInputBytes, withoutBom } from '../core/input-file.js';
import type { Problem, SourcePos } from '../core/problems.js';
import { parseVarsText } from '../inventory/vars-files.js';
import { isVault } from '../vault/age.js';
import { hasInlineVaults, isAnsibleVault } from '../vault/ansible-vault.js';

export interface VarsFileEntry {
  name: string;
  pos: SourcePos;
}

export async function checkVarsFiles(
  entries: VarsFileEntry[],
  baseDir: string,
  problems: Problem[],
): Promise<void> {
  for (const { name, pos } of entries) {
    if (name.includes('{{') || name.includes('{%')) continue;
    const file = isAbsolute(name) ? name : resolve(baseDir, name);
    let data: Buffer;
    try {
      data = await readInputBytes(file);
    } catch (e) {
      if (!(e instanceof InputFileError)) throw e;
      problems.push({
        ...pos,
        message:
          e.code === 'missing'
            ? `vars file '${name}' not found (looked for ${file})`
            : `vars file '${name}' cannot be read: ${e.reason}`,
        hint:
          e.code === 'missing'
            ? 'vars_files are relative to the playbook; check the name'
            : 'vars_files name YAML files of variables',
      });
      continue;
    }
    // A vault opens only with the passphrase, at run time; its own reader reports what is wrong inside.
    if (isVault(data) || isAnsibleVault(data)) continue;
    const text = withoutBom(data.toString('utf8'));
    if (hasInlineVaults(text)) continue;
    parseVarsText(file, text, problems);
  }
}
