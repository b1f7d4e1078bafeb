// Per-item outcomes that a module keeps between runs in a file of its own on the control node
// (calendar_sync: each mailbox's outcome per operation), so a re-run skips what is done and a killed run
// keeps its progress. The module names the file in its result (ModuleResult.outcomeFile), the engine
// carries the name into the run report, and a rollout copies the file's outcomes into the site's state
// without knowing which module wrote it. A module keeps the file in <stateDir>/<key>/<name>.json, where the
// key is the site's name unless the task says otherwise: a rollout also reads the files of its site's
// folder, which a run killed before it reported has still written.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** One item's last outcome of an operation. */
export interface ItemOutcome {
  status: string;
  /** ISO time of the attempt. */
  at: string;
  host: string;
  error?: string;
}

/** The file: outcomes per operation, per item (a mailbox address). */
export interface OutcomeFile<O extends ItemOutcome = ItemOutcome> {
  version: 1;
  operations: Record<string, Record<string, O>>;
}

/** Where a module keeps its outcomes for a key (a site's name): <stateDir>/<key>/<name>.json. */
export function outcomeFilePath(stateDir: string, key: string, name: string): string {
  return join(stateDir, key, `${name}.json`);
}

/** The folder of a key's outcome files. */
export function outcomeDir(stateDir: string, key: string): string {
  return join(stateDir, key);
}

/**
 * Reads an outcome file; a missing one has no outcomes. `owner` names the module in the error for a file
 * that is not one ("calendar_sync state file").
 */
export async function readOutcomeFile<O extends ItemOutcome = ItemOutcome>(
  path: string,
  owner = 'outcome',
): Promise<OutcomeFile<O>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, operations: {} };
    throw e;
  }
  try {
    const state = JSON.parse(text) as OutcomeFile<O>;
    if (state.version !== 1 || typeof state.operations !== 'object' || state.operations === null)
      throw new Error();
    return state;
  } catch {
    throw new Error(`${path} is not a ${owner} state file (move it away to start afresh)`);
  }
}
