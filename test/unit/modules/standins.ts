// A local "host" whose PATH starts with the stand-ins of lab/vendor (systemctl, dpkg, dpkg-query, rpm, ...),
// keeping their state in a directory of the test's own ($EWSPLAY_LAB_STATE), so effects can be asserted and
// a second run sees what the first did.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LocalConnection } from '../../../src/connection/local.js';

export const STANDINS = resolve(import.meta.dirname, '../../../lab/vendor');

/** Where the systemctl stand-in of standinHost(stateDir) reads unit files. */
export const standinUnitDir = (stateDir: string) => join(stateDir, 'etc/systemd/system');

export function standinHost(stateDir: string): LocalConnection {
  return new LocalConnection('standin', undefined, {
    PATH: `${STANDINS}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    EWSPLAY_LAB_STATE: stateDir,
    EWSPLAY_UNIT_DIR: standinUnitDir(stateDir),
  });
}

/**
 * The stand-in calls recorded so far, one per line as calls.log has them: the program, then each argument
 * single-quoted ("systemctl 'start' '--' 'web'").
 */
export async function standinCalls(stateDir: string): Promise<string[]> {
  try {
    return (await readFile(join(stateDir, 'calls.log'), 'utf8')).split('\n').filter(Boolean);
  } catch {
    return [];
  }
}
