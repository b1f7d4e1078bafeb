// A ModuleContext for module tests: the real local connection, the real templar, real secrets.
// Everything a module should not need in a given test (confirm, runTasks) fails loudly unless overridden.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalConnection } from '../../../src/connection/local.js';
import type { ModuleContext } from '../../../src/modules/module.js';
import { Secrets } from '../../../src/template/secrets.js';
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
