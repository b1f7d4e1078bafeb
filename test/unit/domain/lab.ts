// A simulated lab host for domain-module tests: a temp directory as the host's root (HOME and working
// directory of a LocalConnection), with the vendor stand-ins of test/fixtures/vendor first on its PATH and
// their state under <root>/lab-state.
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LocalConnection } from '../../../src/connection/local.js';
import { makeTempDir } from '../modules/context.js';

export const VENDOR_DIR = resolve('test/fixtures/vendor');

export interface LabHost {
  root: string;
  /** $EWSPLAY_LAB_STATE of the stand-ins. */
  state: string;
  conn: LocalConnection;
  /** Lines of calls.log: each stand-in call, arguments single-quoted. */
  calls(): Promise<string[]>;
  cleanup(): Promise<void>;
}

export async function makeLabHost(name = 'lab1', extraPath: string[] = []): Promise<LabHost> {
  const { dir, cleanup } = await makeTempDir(`ewsplay-${name}-`);
  const state = join(dir, 'lab-state');
  await mkdir(state, { recursive: true });
  const conn = new LocalConnection(name, dir, {
    PATH: [...extraPath, VENDOR_DIR, process.env.PATH ?? '/usr/bin:/bin'].join(':'),
    EWSPLAY_LAB_STATE: state,
  });
  return {
    root: dir,
    state,
    conn,
    calls: async () =>
      (await readFile(join(state, 'calls.log'), 'utf8').catch(() => '')).split('\n').filter((l) => l !== ''),
    cleanup,
  };
}
