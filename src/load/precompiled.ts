// Validators compiled at build time: `npm run build` writes dist/load/validators.cjs (see
// scripts/precompile-validators.mjs). Loading ajv and compiling the loader's schemas otherwise costs
// ~150 ms of every run and validate. A validator is found by a hash of its schema's JSON, so a schema
// changed since the build (or a module a test registers) is simply compiled at run time.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { ValidateFunction } from 'ajv';

let table: Record<string, ValidateFunction> | null | undefined;

export function schemaKey(schema: object): string {
  return createHash('sha256').update(JSON.stringify(schema)).digest('base64url');
}

export function precompiledValidator(schema: object): ValidateFunction | undefined {
  if (table === undefined) {
    try {
      // Written as one call so that scripts/bundle.mjs bundles the file (and V8 caches its code).
      table = createRequire(import.meta.url)('./validators.cjs') as Record<string, ValidateFunction>;
    } catch (e) {
      // Not built (tests run the TypeScript sources): compile at run time. Anything else is a broken build.
      if ((e as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw e;
      table = null;
    }
  }
  return table?.[schemaKey(schema)];
}
