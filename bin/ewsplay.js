#!/usr/bin/env node
// Thin launcher: the CLI is built into dist/ by `npm run build`; src/cli/launch.ts loads it (the bundle with
// its code cache, else the compiled files).
const argv = process.argv.slice(2);
import('../dist/cli/launch.js').then(({ loadCli }) => loadCli({ argv })).then((cli) => cli.main(argv));
