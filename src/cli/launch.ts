// How bin/ewsplay.js starts the CLI: from the bundle `npm run build` makes (scripts/bundle.mjs), compiled
// with V8's code cache, so a start reads two files and compiles little; or, with no bundle (a dist/ built
// by tsc alone) or EWSPLAY_BUNDLE=0, from the compiled files (dist/cli/main.js).
//
// dist/bundle/manifest.json names the bundle's files, each named after a hash of its content, so that a
// build running meanwhile (another terminal, a test suite) never pairs a new bundle with an old cache:
// V8 checks only a cache's length and flags against the source, not its content.
//
// The code cache: one per command (ewsplay-HASH.cjs.run.cache, ...validate.cache, ...), written by the
// build after a training run of that command, since V8 reads a whole cache at every start: --version
// should not pay for the code of a run. V8 refuses a cache made by another Node version or under other V8
// flags (NODE_OPTIONS=--max-old-space-size=...): such a start compiles as usual and leaves its own cache in
// the user's cache directory ($XDG_CACHE_HOME/ewsplay, else ~/.cache/ewsplay) for the next start with the
// same Node and flags. Node 22's module.enableCompileCache also caches what the bundle leaves outside
// (ssh2, the EWS client).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import module, { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

export interface Cli {
  main(argv: string[]): Promise<void>;
}

/** dist/bundle/manifest.json: file names relative to dist/bundle/. */
export interface Manifest {
  bundle: string;
  /** Packages bundled apart (scripts/bundle.mjs PARTS), by package name. */
  parts: Record<string, string>;
}

export interface LoadOptions {
  /** The command line: its command picks the code cache. */
  argv?: string[];
  /** This manifest rather than dist/bundle/manifest.json (the build's training runs, before it is written). */
  manifest?: Manifest;
  /** Reads no code cache and writes none (the build's training runs, which make the caches). */
  fresh?: boolean;
  /** Given the compiled bundle (to make its code cache). */
  onScript?: (script: vm.Script) => void;
}

export const BUNDLE_DIR = fileURLToPath(new URL('../bundle/', import.meta.url));
export const MANIFEST = join(BUNDLE_DIR, 'manifest.json');
/** Commands with a code cache of their own; the others (and --version, help) share `main`'s. */
export const CACHED_COMMANDS = ['run', 'validate', 'inventory', 'status', 'schema'];

/** The build's code cache of a bundle for a command line. */
export function codeCacheFile(bundle: string, argv: string[]): string {
  const command = argv[0] ?? '';
  return join(BUNDLE_DIR, `${bundle}.${CACHED_COMMANDS.includes(command) ? command : 'main'}.cache`);
}

export async function loadCli(opts: LoadOptions = {}): Promise<Cli> {
  (module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
  const manifest = process.env.EWSPLAY_BUNDLE === '0' ? undefined : (opts.manifest ?? readManifest());
  const file = manifest && join(BUNDLE_DIR, manifest.bundle);
  // The bundle is ASCII (scripts/bundle.mjs checks): read as latin1, it needs no UTF-8 decoding.
  const source = file && readIfThere(file, 'latin1');
  if (!manifest || !file || source === undefined) return (await import('./main.js')) as Cli;
  const built = codeCacheFile(manifest.bundle, opts.argv ?? []);
  const own = opts.fresh ? undefined : userCacheFile(built);
  const cachedData = opts.fresh ? undefined : (readIfThere(built) ?? (own && readIfThere(own)));
  const script = new vm.Script(wrap(source), { filename: file, ...(cachedData ? { cachedData } : {}) });
  if (own && (!cachedData || script.cachedDataRejected)) process.once('exit', () => saveCache(script, own));
  const cli = run<Cli>(script, file, manifest);
  opts.onScript?.(script);
  return cli;
}

function readManifest(): Manifest | undefined {
  const text = readIfThere(MANIFEST, 'latin1');
  return text === undefined ? undefined : (JSON.parse(text) as Manifest);
}

/** What the bundle's `require` resolves: a part's name, else a module as Node's require does. */
const PART = 'ewsplay-part:';
const parts = new Map<string, unknown>();

/** Runs a CommonJS bundle compiled as a vm.Script; its `require('ewsplay-part:NAME')` loads a part. */
function run<T>(script: vm.Script, file: string, manifest: Manifest): T {
  const nodeRequire = createRequire(file);
  const require = Object.assign(
    (id: string) => (id.startsWith(PART) ? part(manifest, id.slice(PART.length)) : nodeRequire(id)),
    nodeRequire,
  );
  const mod = { exports: {} as T };
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
  wrapper(mod.exports, require, mod, file, dirname(file));
  return mod.exports;
}

/** A package bundled into a file of its own (scripts/bundle.mjs, PARTS), loaded on its first import. */
function part(manifest: Manifest, name: string): unknown {
  if (!parts.has(name)) {
    const known = manifest.parts[name];
    if (!known) throw new Error(`bundle: no part '${name}' in ${MANIFEST}`);
    const file = join(BUNDLE_DIR, known);
    parts.set(
      name,
      run(new vm.Script(wrap(readFileSync(file, 'latin1')), { filename: file }), file, manifest),
    );
  }
  return parts.get(name);
}

/** CommonJS's own wrapper, on the source's first line so that line numbers stay those of the file. */
function wrap(source: string): string {
  return `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
}

function readIfThere(file: string): Buffer | undefined;
function readIfThere(file: string, encoding: 'latin1'): string | undefined;
function readIfThere(file: string, encoding?: 'latin1'): Buffer | string | undefined {
  try {
    return encoding ? readFileSync(file, encoding) : readFileSync(file);
  } catch {
    return undefined;
  }
}

/** This Node's and these flags' cache of this very bundle and command, in the user's cache directory. */
function userCacheFile(built: string): string | undefined {
  try {
    const dir = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
    const key = createHash('sha256')
      .update(JSON.stringify([built, process.version, process.arch, process.execArgv]))
      .update(process.env.NODE_OPTIONS ?? '')
      .digest('hex')
      .slice(0, 24);
    return join(dir, 'ewsplay', `code-cache-${key}.bin`);
  } catch {
    return undefined;
  }
}

function saveCache(script: vm.Script, file: string): void {
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // A cache is only a speed-up: a read-only or full home changes nothing else.
  }
}
