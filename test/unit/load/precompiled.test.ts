// The validators compiled at build time must judge every value exactly as the ones compiled at run time:
// same verdict, same errors (the messages for people are built from them).
import { createRequire } from 'node:module';
import type { ValidateFunction } from 'ajv';
import { describe, expect, it } from 'vitest';
import { ajvInstance } from '../../../src/load/check.js';
import { loaderSchemas } from '../../../src/load/playbook.js';
import { validatorsSource } from '../../../src/load/precompile-validators.js';
import { schemaKey } from '../../../src/load/precompiled.js';
import { defaultRegistry } from '../../../src/load/registry.js';

function loadSource(source: string): Record<string, ValidateFunction> {
  // Evaluated as dist/load/validators.cjs would be, with ajv's runtime helpers resolved from the project.
  const module = { exports: {} as Record<string, ValidateFunction> };
  const require = createRequire(import.meta.url);
  new Function('module', 'exports', 'require', source)(module, module.exports, require);
  return module.exports;
}

/** Values that break a schema in many ways: wrong types, unknown keys, each known key with odd values. */
function probes(schema: { properties?: Record<string, unknown> }): unknown[] {
  const odd = [null, 7, -1, 'x', '', '{{ v }}', [], ['a', 1], { k: 1 }, true, 1.5, '0644'];
  const out: unknown[] = [{}, [], 'text', 3, null, { no_such_key: 1, dset: '/x' }];
  for (const name of Object.keys(schema.properties ?? {}))
    for (const v of odd) out.push({ [name]: v }, { [name]: v, no_such_key: v });
  return out;
}

describe('validators compiled at build time', () => {
  const schemas = loaderSchemas(defaultRegistry);
  const built = loadSource(validatorsSource(defaultRegistry));
  const ajv = ajvInstance();

  it('has one for every schema the loader uses', () => {
    expect(schemas.length).toBeGreaterThan(10);
    for (const s of schemas)
      expect(built[schemaKey(s)], JSON.stringify(s).slice(0, 80)).toBeTypeOf('function');
  });

  it('gives the same verdict and errors as a run-time compile', () => {
    let invalid = 0;
    for (const schema of schemas) {
      const runtime = ajv.compile(schema);
      const precompiled = built[schemaKey(schema)]!;
      for (const value of probes(schema as { properties?: Record<string, unknown> })) {
        const ok = runtime(value);
        expect(precompiled(value), JSON.stringify(value)).toBe(ok);
        if (!ok) invalid++;
        expect(JSON.parse(JSON.stringify(precompiled.errors ?? null))).toEqual(
          JSON.parse(JSON.stringify(runtime.errors ?? null)),
        );
      }
    }
    // The probes really exercised the error paths.
    expect(invalid).toBeGreaterThan(100);
  });

  it('keys a changed schema differently, so a stale build falls back to compiling', () => {
    const s = schemas.at(-1) as Record<string, unknown>;
    expect(schemaKey({ ...s, description: 'changed' })).not.toBe(schemaKey(s));
  });
});
