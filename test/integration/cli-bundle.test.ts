// The bundled CLI (scripts/bundle.mjs, part of `npm run build`): bin/ewsplay.js starts from the bundle
// dist/bundle/manifest.json names, and its code caches, not from the ~150 compiled files, and works from it:
// --version, a one-task run, subcommands. Which files load is read from the process itself (an ES module
// resolve hook and the CommonJS module cache at exit), so a run on a local host is seen not to load ssh2,
// and -o plain not to load listr2.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin', 'ewsplay.js');
const MANIFEST = join(ROOT, 'dist', 'bundle', 'manifest.json');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

// A resolve hook (module.register) that appends every ES module URL it resolves to $TRACE_FILE.
const HOOK = `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.TRACE_FILE, r.url + '\\n');
  return r;
}`;
const REGISTER = `import { register } from 'node:module';
register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOK)}`)});`;
// And at exit, every CommonJS module loaded (require.cache).
const AT_EXIT = `process.on('exit', () => require('node:fs').appendFileSync(process.env.TRACE_FILE,
  Object.keys(require.cache).map((f) => require('node:url').pathToFileURL(f).href + '\\n').join('')));`;

interface Traced {
  rc: number;
  stdout: string;
  stderr: string;
  /** URLs of the modules loaded (ES modules as resolved, CommonJS modules as cached). */
  modules: string[];
}

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ewsplay-bundle-'));
  await writeFile(
    join(dir, 'one.yml'),
    '- hosts: all\n  gather_facts: false\n  tasks:\n    - name: one\n      debug: { msg: "hello {{ inventory_hostname }}" }\n',
  );
  await writeFile(
    join(dir, 'hosts.yml'),
    'all:\n  hosts:\n    localhost:\n      ansible_connection: local\n',
  );
  await writeFile(join(dir, 'at-exit.cjs'), AT_EXIT);
});

function traced(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Traced> {
  const trace = join(dir, `trace-${Math.random().toString(16).slice(2)}.txt`);
  const argv = [
    '--import',
    `data:text/javascript,${encodeURIComponent(REGISTER)}`,
    '--require',
    join(dir, 'at-exit.cjs'),
    BIN,
    ...args,
  ];
  return new Promise((done) => {
    execFile(
      process.execPath,
      argv,
      { cwd: dir, timeout: 60_000, env: { ...process.env, ...env, TRACE_FILE: trace } },
      (err, stdout, stderr) =>
        done({
          rc: err ? ((err as { code?: number }).code ?? 1) : 0,
          stdout,
          stderr,
          modules: existsSync(trace) ? readFileSync(trace, 'utf8').split('\n').filter(Boolean) : [],
        }),
    );
  });
}

/** Files of the project loaded as modules of their own, besides the launcher and the validators. */
const ownFiles = (modules: string[]) =>
  modules.filter(
    (u) =>
      u.startsWith(`file://${ROOT}/`) &&
      !u.includes('/node_modules/') &&
      !/\/(bin\/ewsplay\.js|dist\/cli\/launch\.js|dist\/load\/validators\.cjs)$/.test(u) &&
      !u.startsWith(`file://${dir}`),
  );

describe('the bundled CLI', () => {
  it('is built with its code caches, and bin/ewsplay.js starts from it', async () => {
    expect(existsSync(MANIFEST), 'npm run build writes dist/bundle/manifest.json').toBe(true);
    const bundle = join(
      ROOT,
      'dist',
      'bundle',
      (JSON.parse(readFileSync(MANIFEST, 'utf8')) as { bundle: string }).bundle,
    );
    expect(existsSync(bundle), 'and the bundle it names').toBe(true);
    for (const command of ['main', 'run', 'validate'])
      expect(existsSync(`${bundle}.${command}.cache`), `and the code cache of ${command}`).toBe(true);
    const r = await traced(['--version']);
    expect(r.rc, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(new RegExp(`^ewsplay ${VERSION.replace(/\./g, '\\.')} `));
    expect(r.modules.some((u) => u.endsWith('/dist/cli/launch.js'))).toBe(true);
    expect(ownFiles(r.modules)).toEqual([]);
  });

  it('runs a one-task playbook on a local host without loading ssh2 or listr2', async () => {
    const r = await traced(['run', 'one.yml', '-i', 'hosts.yml', '-o', 'plain']);
    expect(r.rc, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/hello localhost/);
    expect(r.stdout).toMatch(/localhost\s+: ok=1\s+changed=0\s+unreachable=0\s+failed=0/);
    expect(ownFiles(r.modules)).toEqual([]);
    expect(r.modules.filter((u) => /node_modules\/(ssh2|listr2)\//.test(u))).toEqual([]);
  });

  it('runs the other subcommands from it (validate, schema, inventory)', async () => {
    const v = await traced(['validate', 'one.yml', '-i', 'hosts.yml']);
    expect(v.rc, v.stdout + v.stderr).toBe(0);
    expect(v.stdout).toMatch(/one\.yml: ok/);
    const s = await traced(['schema']);
    expect(s.rc, s.stderr).toBe(0);
    expect(JSON.parse(s.stdout)).toHaveProperty('$schema');
    const i = await traced(['inventory', '-i', 'hosts.yml', '--list']);
    expect(i.rc, i.stderr).toBe(0);
    expect(JSON.parse(i.stdout)).toHaveProperty('_meta');
    expect(ownFiles([...v.modules, ...s.modules, ...i.modules])).toEqual([]);
  });

  it('uses the code caches the build made; under other V8 flags, one of its own, made once', async () => {
    const cacheHome = await mkdtemp(join(tmpdir(), 'ewsplay-cache-home-'));
    const cached = () =>
      existsSync(join(cacheHome, 'ewsplay')) ? readdirSync(join(cacheHome, 'ewsplay')) : [];
    const env = { XDG_CACHE_HOME: cacheHome };
    expect((await traced(['--version'], env)).rc).toBe(0);
    expect(cached(), "the build's cache fits: none written").toEqual([]);
    const flags = { ...env, NODE_OPTIONS: '--max-old-space-size=1536' };
    expect((await traced(['--version'], flags)).rc).toBe(0);
    expect(cached()).toHaveLength(1);
    expect((await traced(['--version'], flags)).rc).toBe(0);
    expect(cached(), 'the second start with those flags uses it').toHaveLength(1);
  });

  it('EWSPLAY_BUNDLE=0 runs the compiled files instead, with the same result', async () => {
    const r = await traced(['run', 'one.yml', '-i', 'hosts.yml', '-o', 'plain'], { EWSPLAY_BUNDLE: '0' });
    expect(r.rc, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/localhost\s+: ok=1\s+changed=0/);
    expect(r.modules.some((u) => u.endsWith('/dist/cli/main.js'))).toBe(true);
  });
});
