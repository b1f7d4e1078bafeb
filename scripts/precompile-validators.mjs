// After tsc: writes dist/load/validators.cjs, the loader's schemas compiled to code (see src/load/precompiled.ts).
import { writeFileSync } from 'node:fs';

const { validatorsSource } = await import('../dist/load/precompile-validators.js');
writeFileSync(new URL('../dist/load/validators.cjs', import.meta.url), validatorsSource());
