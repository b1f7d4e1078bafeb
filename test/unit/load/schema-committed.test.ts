// schemas/ holds what `ewsplay schema --out schemas/` writes from the real module registry: regenerate and
// commit them when a module's arguments change.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect, it } from 'vitest';
import { buildSchemas, SCHEMA_FILES, type Schemas, schemaText } from '../../../src/load/schema.js';

it('committed schemas match the module registry', () => {
  const dir = resolve(import.meta.dirname, '../../../schemas');
  const schemas = buildSchemas();
  for (const [kind, file] of Object.entries(SCHEMA_FILES)) {
    const committed = readFileSync(join(dir, file), 'utf8');
    expect(committed, `${file} is stale: run \`ewsplay schema --out schemas/\``).toBe(
      schemaText(schemas[kind as keyof Schemas]),
    );
  }
});
