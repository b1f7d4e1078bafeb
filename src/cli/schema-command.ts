// `ewsplay schema`: the JSON Schemas editors use (yaml-language-server), generated from the module registry.

import { ExitCode } from '../core/problems.js';
import { buildSchemas, writeSchemas } from '../load/schema.js';
import { reportError } from './errors.js';

export async function schemaCommand(opts: { out?: string }): Promise<number> {
  try {
    if (opts.out) {
      await writeSchemas(opts.out);
      process.stdout.write(`schemas written to ${opts.out}\n`);
    } else {
      process.stdout.write(`${JSON.stringify(buildSchemas().playbook, null, 2)}\n`);
    }
    return ExitCode.ok;
  } catch (e) {
    return reportError(e);
  }
}
