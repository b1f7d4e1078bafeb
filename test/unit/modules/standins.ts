// A local "host" whose PATH starts with the stand-ins of test/fixtures/standins (systemctl, dpkg, dpkg-query,
// rpm), keeping their state in a directory of the test's own, so effects can be asserted and a second run
// sees what the first did.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LocalConnection } from '../../../src/connection/local.js';

export const STANDINS = resolve(import.meta.dirname, '../../fixtures/standins');

export function standinHost(stateDir: string): LocalConnection {
  return new LocalConnection('standin', undefined, {
    PATH: `${STANDINS}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    EWSPLAY_STANDIN_DIR: stateDir,
  });
}

/** The stand-in calls recorded so far, one per line ("systemctl start -- web.service"). */
export async function standinCalls(stateDir: string): Promise<string[]> {
  try {
    return (await readFile(join(stateDir, 'calls'), 'utf8')).split('\n').filter(Boolean);
  } catch {
    return [];
  }
}
