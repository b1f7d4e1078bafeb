// A simulated lab host for domain-module tests: a temp directory as the host's root (HOME and working
// directory of a LocalConnection), with the vendor stand-ins of lab/vendor on its PATH (after
// /usr/local/bin of the packages the dpkg stand-in installed), their state under <root>/lab-state and the
// systemd unit directory at <root>/etc/systemd/system.
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LocalConnection } from '../../../src/connection/local.js';
import { makeTempDir } from '../modules/context.js';

export const VENDOR_DIR = resolve('lab/vendor');

export interface LabHost {
  root: string;
  /** $EWSPLAY_LAB_STATE of the stand-ins. */
  state: string;
  /** The unit directory the installer and systemctl stand-ins use. */
  unitDir: string;
  conn: LocalConnection;
  /** Lines of calls.log: each stand-in call, arguments single-quoted. */
  calls(): Promise<string[]>;
  cleanup(): Promise<void>;
}

export async function makeLabHost(name = 'lab1', extraPath: string[] = []): Promise<LabHost> {
  const { dir, cleanup } = await makeTempDir(`ewsplay-${name}-`);
  const state = join(dir, 'lab-state');
  await mkdir(state, { recursive: true });
  const unitDir = join(dir, 'etc/systemd/system');
  const installed = join(state, 'root/usr/local/bin');
  const conn = new LocalConnection(name, dir, {
    PATH: [...extraPath, installed, VENDOR_DIR, process.env.PATH ?? '/usr/bin:/bin'].join(':'),
    EWSPLAY_LAB_STATE: state,
    EWSPLAY_UNIT_DIR: unitDir,
  });
  return {
    root: dir,
    state,
    unitDir,
    conn,
    calls: async () =>
      (await readFile(join(state, 'calls.log'), 'utf8').catch(() => '')).split('\n').filter((l) => l !== ''),
    cleanup,
  };
}
