// A ModuleContext for module tests: the real local connection, the real templar, real secrets.
// Everything a module should not need in a given test (confirm, runTasks) fails loudly unless overridden.
import { lstat, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { LocalConnection } from '../../../src/connection/local.js';
import { Secrets } from '../../../src/core/secrets.js';
import type { Module, ModuleContext } from '../../../src/modules/module.js';
import { createTemplar } from '../../../src/template/templar.js';

export interface TestContext extends ModuleContext {
  /** Lines passed to ctx.log, in order. */
  logs: string[];
}

export function makeContext(overrides: Partial<ModuleContext> = {}): TestContext {
  const logs: string[] = [];
  const ctx: TestContext = {
    host: 'localhost',
    conn: new LocalConnection('localhost'),
    check: false,
    diff: false,
    vars: {},
    secrets: new Secrets(),
    signal: new AbortController().signal,
    timeoutMs: 30_000,
    template: createTemplar(),
    baseDir: process.cwd(),
    stateDir: join(tmpdir(), 'ewsplay-test-state'),
    pos: { file: 'test.yml', line: 1, col: 1 },
    interactive: false,
    confirm: async (question) => {
      throw new Error(`unexpected confirm() in a test: ${question}`);
    },
    runTasks: async () => {
      throw new Error('unexpected runTasks() in a test: pass one in makeContext({ runTasks })');
    },
    log: (line) => {
      logs.push(line);
    },
    logs,
    ...overrides,
  };
  return ctx;
}

/** A fresh temp directory; call the returned cleanup in afterEach. */
export async function makeTempDir(
  prefix = 'ewsplay-mod-',
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Every path under `dir` with its type, mode and content (or link target): compare before/after check mode. */
export async function snapshotTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string): Promise<void> => {
    for (const name of (await readdir(d)).sort()) {
      const p = join(d, name);
      const st = await lstat(p);
      const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
      const rel = relative(dir, p);
      if (st.isSymbolicLink()) out[rel] = `link ${mode} -> ${await readlink(p)}`;
      else if (st.isDirectory()) {
        out[rel] = `dir ${mode}`;
        await walk(p);
      } else out[rel] = `file ${mode} mtime=${st.mtimeMs} ${(await readFile(p)).toString('base64')}`;
    }
  };
  await walk(dir);
  return out;
}

/** A validator of a module's args schema, compiled in Ajv's strict mode (catches sloppy schemas too). */
export function argsValidator(module: Module): (args: Record<string, unknown>) => boolean {
  const validate = new Ajv2020({ strict: true, allErrors: true }).compile(module.args);
  return (args) => validate(args) === true;
}
