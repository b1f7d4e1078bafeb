// After tsc and precompile-validators: bundles the compiled CLI (dist/cli/main.js and everything it imports)
// into one CommonJS file in dist/bundle/, then runs it on a small project to write V8's code caches beside
// it, and last dist/bundle/manifest.json, which names them. bin/ewsplay.js loads them (src/cli/launch.ts).
//
// Why: loading ~150 compiled files plus the yaml and commander packages file by file (resolve, stat, read,
// compile each as an ES module, for which Node 20 keeps no cache) was most of a run's start-up. One file
// compiled from a code cache costs a read and little else. What a run does not use is in the file but costs
// little: each module's code runs on its first import, as before (esbuild keeps dynamic imports lazy:
// subcommands, the listr2 tree, the SSH code), and V8 compiles a function when it is first called, from
// the cache when the training run compiled it.
//
// Bundled too: the loader's precompiled validators (dist/load/validators.cjs). Kept outside, loaded from
// node_modules when used: ssh2 (an optional native part), the EWS client and its NTLM library (large, only
// for EWS tasks), ajv itself (only for a schema changed since the build).
//
// Files are named after a hash of their content and the manifest is written last, by rename: a run
// starting while this builds (a test suite, another terminal) gets the old set or the new one, never a new
// bundle with an old cache (V8 checks a cache against the source's length only). Files of the set before
// are kept (a run of it may still load a part); older ones are removed.
//
// The compiled files keep their own notion of where they live: `import.meta.url` of each becomes the URL of
// that file in dist/ (dist/lab/lab.js finds ../../lab/vendor, dist/core/version.js ../../package.json), so
// the bundle needs the rest of dist/ beside it, as `npm run build` leaves it.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { build } from 'esbuild';

const root = resolve(import.meta.dirname, '..');
const dist = join(root, 'dist');
const outdir = join(dist, 'bundle');
const MANIFEST = join(outdir, 'manifest.json');

export const EXTERNAL = ['ssh2', 'ews-javascript-api', '@ewsjs/ntlm-client'];
/**
 * Packages bundled into a file of their own (dist/bundle/NAME-HASH.cjs), loaded the first time they are
 * imported: age-encryption and its crypto (~40% of the code) serve only vaults. In the main file, an ES
 * module's functions all sit at its top level (esbuild hoists them), where every start would pay for them.
 */
export const PARTS = ['age-encryption'];
const PART_PREFIX = 'ewsplay-part:';

/**
 * Two rewrites of the compiled files. A module loaded on demand as `createRequire(import.meta.url)('name')`
 * (nunjucks, diff, yaml for filters, the validators) becomes `require('name')`, which esbuild bundles, its
 * code still run on the first call. And every other `import.meta.url` becomes the URL of the compiled file
 * it was in.
 */
const distFiles = {
  name: 'dist-files',
  setup(b) {
    b.onLoad({ filter: /\.js$/ }, (args) => {
      if (!args.path.startsWith(dist + sep)) return undefined;
      const text = readFileSync(args.path, 'utf8').replace(
        /createRequire\(import\.meta\.url\)\(('[^']+'|"[^"]+")\)/g,
        'require($1)',
      );
      const rel = relative(outdir, args.path).split(sep).join('/');
      return {
        contents: text.replaceAll(
          'import.meta.url',
          `new URL(${JSON.stringify(rel)}, __ewsplayBundleUrl).href`,
        ),
        loader: 'js',
        resolveDir: dirname(args.path),
      };
    });
  },
};

/** An import of a part: `require('ewsplay-part:NAME')`, which launch.ts answers with the part's exports. */
const parts = {
  name: 'parts',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) =>
      PARTS.includes(args.path) ? { path: `${PART_PREFIX}${args.path}`, external: true } : undefined,
    );
  },
};

const common = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  // import() of a bundled module becomes a lazy require of it (nothing for the vm.Script to resolve).
  supported: { 'dynamic-import': false },
  // The packages' ES module builds where they ship one, as Node would pick them for an import.
  mainFields: ['module', 'main'],
  // No comments or indentation: a smaller file to read (identifiers stay, for stack traces and class names),
  // and an ASCII one (esbuild escapes the rest), which launch.ts reads as latin1, without UTF-8 decoding.
  minifyWhitespace: true,
  charset: 'ascii',
  legalComments: 'none',
  logLevel: 'warning',
};

/** Writes a file by rename, so that no reader ever sees a part of it. */
function writeWhole(file, content) {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, file);
}

/** Builds, checks and writes one output; returns its file name (in dist/bundle/), named by its content. */
async function bundle(name, options) {
  const result = await build({ ...common, ...options, outfile: join(outdir, `${name}.cjs`), write: false });
  if (result.warnings.length > 0) throw new Error('bundle: esbuild warned (see above)');
  const { contents } = result.outputFiles[0];
  if (contents.some((byte) => byte > 127)) throw new Error(`bundle: ${name} is not ASCII`);
  const file = `${name}-${createHash('sha256').update(contents).digest('hex').slice(0, 12)}.cjs`;
  mkdirSync(outdir, { recursive: true });
  writeWhole(join(outdir, file), contents);
  return { file, result };
}

const main = await bundle('ewsplay', {
  entryPoints: [join(dist, 'cli', 'main.js')],
  banner: { js: "var __ewsplayBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  metafile: true,
  plugins: [parts, distFiles],
});
const manifest = { bundle: main.file, parts: {} };
for (const name of PARTS) {
  const stdin = { contents: `export * from ${JSON.stringify(name)};`, resolveDir: root, loader: 'js' };
  manifest.parts[name] = (await bundle(name.replace(/[@/]/g, '_'), { stdin })).file;
}
if (process.argv.includes('--stats')) {
  const byPackage = new Map();
  for (const [file, { bytes }] of Object.entries(main.result.metafile.inputs)) {
    const pkg = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(file)?.[1] ?? 'ewsplay (dist/)';
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + bytes);
  }
  for (const [pkg, bytes] of [...byPackage].sort((a, b) => b[1] - a[1]))
    console.log(`${(bytes / 1024).toFixed(0).padStart(6)} KiB  ${pkg}`);
  console.log(`bundle: ${(main.result.outputFiles[0].contents.length / 1024).toFixed(0)} KiB`);
}

// The training runs, one process per command with a cache of its own (src/cli/launch.ts): what a start of
// that command compiles (the command line, inventory and playbook loading, templates, a run on a local
// host with a few common modules, the report) goes into its code cache. They are a smoke test of the bundle
// too: a command that fails fails the build.
const work = mkdtempSync(join(tmpdir(), 'ewsplay-bundle-'));
try {
  mkdirSync(join(work, 'root'));
  writeFileSync(
    join(work, 'hosts.yml'),
    `all:\n  hosts:\n    localhost:\n      ansible_connection: local\n      ewsplay_local_root: ${JSON.stringify(join(work, 'root'))}\n`,
  );
  writeFileSync(
    join(work, 'play.yml'),
    [
      '- hosts: all',
      '  gather_facts: false',
      '  vars: { greeting: hello, items: [a, b] }',
      '  tasks:',
      '    - name: say',
      '      debug: { msg: "{{ greeting }} {{ inventory_hostname | upper }}" }',
      '    - name: fact',
      '      set_fact: { joined: "{{ items | join(\',\') }}" }',
      '    - name: dir',
      '      file: { path: d, state: directory, mode: "0755" }',
      '    - name: write',
      '      copy: { content: "{{ joined }}\\n", dest: d/f.txt }',
      '    - name: line',
      '      lineinfile: { path: d/f.txt, line: "{{ item }}" }',
      '      loop: "{{ items }}"',
      '    - name: look',
      '      stat: { path: d/f.txt }',
      '      register: st',
      '    - name: run',
      '      command: echo {{ st.stat.size }}',
      '      changed_when: false',
      '      when: st.stat.exists',
      '',
    ].join('\n'),
  );
  const training = {
    main: [['--version']],
    validate: [['validate', 'play.yml', '-i', 'hosts.yml']],
    // One run: a cache holding what rarer runs compile too (--check --diff) makes every run read more.
    run: [['run', 'play.yml', '-i', 'hosts.yml', '-o', 'plain']],
    inventory: [['inventory', '-i', 'hosts.yml', '--list']],
    status: [['status', '-i', 'hosts.yml']],
    schema: [['schema']],
  };
  const launch = join(dist, 'cli', 'launch.js');
  const { CACHED_COMMANDS } = await import(launch);
  for (const command of [...CACHED_COMMANDS, 'main'])
    if (!training[command]) throw new Error(`bundle: no training run for '${command}'`);
  for (const [command, runs] of Object.entries(training)) {
    const train = `
      import { renameSync, writeFileSync } from 'node:fs';
      import { codeCacheFile, loadCli } from ${JSON.stringify(launch)};
      const manifest = ${JSON.stringify(manifest)};
      let script;
      const cli = await loadCli({ manifest, fresh: true, onScript: (s) => { script = s; } });
      for (const argv of ${JSON.stringify(runs)}) {
        await cli.main(argv);
        if (process.exitCode) throw new Error('ewsplay ' + argv.join(' ') + ': exit ' + process.exitCode);
      }
      const file = codeCacheFile(manifest.bundle, ${JSON.stringify(runs[0])});
      writeFileSync(file + '.' + process.pid + '.tmp', script.createCachedData());
      renameSync(file + '.' + process.pid + '.tmp', file);
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', train], {
      cwd: work,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    if (r.status !== 0)
      throw new Error(`bundle: the training run of '${command}' failed:\n${r.stdout}\n${r.stderr}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

// The new set is complete: name it, then remove what neither it nor the set before names.
const keep = new Set(['manifest.json']);
for (const m of [manifest, existsSync(MANIFEST) ? JSON.parse(readFileSync(MANIFEST, 'utf8')) : undefined]) {
  if (!m?.bundle) continue;
  for (const file of [m.bundle, ...Object.values(m.parts ?? {})]) keep.add(file);
}
writeWhole(MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`);
for (const file of readdirSync(outdir)) {
  const owner = file.replace(/\.(\w+\.cache|\d+\.tmp)$/, '');
  if (!keep.has(owner) && !keep.has(file)) rmSync(join(outdir, file), { force: true });
}
