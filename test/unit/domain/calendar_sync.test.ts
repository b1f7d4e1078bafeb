import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TaskProgress } from '../../../src/core/progress.js';
import {
  batchCommand,
  calendarSyncModule,
  readSyncState,
  recordOutcomes,
  stateFile,
} from '../../../src/modules/calendar_sync.js';
import { argsValidator, makeContext, snapshotTree } from '../modules/context.js';
import { type LabHost, makeLabHost, VENDOR_DIR } from './lab.js';

/** The document's sync script (step 4.1), reading main.yaml from `home`, with `docker exec FLAGS`. */
function syncScript(home: string, operation: string, flags: string): string {
  const main = join(home, 'main.yaml');
  return `#!/bin/sh
APITOKEN=$(awk '/^exchangesync::config::api_token/ {print $2}' ${main})
CALINTAPI=$(awk '/^calendarapi_internal_exchange_sync_token/ {print $2}' ${main})
sudo docker exec ${flags} exchange-sync-api1 /usr/bin/subscriber -sync_api_url=127.0.0.1 -sync_api_insecure "-sync_api_acl_token=$APITOKEN" -internal_api_url=calendarapi-internal.qdit -internal_api_init_timeout=120s -internal_api_request_timeout=120s -internal_api_acl_header=x-calendarapi-grpc-token -internal_api_insecure "-internal_api_acl_token=$CALINTAPI" -internal_api_request_timeout=120s -sync_api_request_timeout=120s -operation=${operation} "$@"
`;
}

let lab: LabHost;
let deployer: string;
let stateDir: string;

/** `sudo` on the lab host's PATH just runs the command (the stand-ins need no privileges). */
async function installScripts(flags = '-i') {
  await mkdir(deployer, { recursive: true });
  await writeFile(join(deployer, 'main.yaml'), await readFile(join(VENDOR_DIR, 'main.yaml')));
  await writeFile(join(deployer, 'sync_all.sh'), syncScript(deployer, 'sync_all', flags), { mode: 0o750 });
  await writeFile(join(deployer, 'subscribe.sh'), syncScript(deployer, 'subscribe_to_all', flags), {
    mode: 0o750,
  });
}

beforeEach(async () => {
  const bin = await import('node:fs/promises').then((fs) => fs.mkdtemp('/tmp/ewsplay-sudo-'));
  await writeFile(join(bin, 'sudo'), '#!/bin/sh\nexec "$@"\n', { mode: 0o755 });
  lab = await makeLabHost('hv1', [bin]);
  deployer = join(lab.root, 'deployer');
  stateDir = join(lab.root, 'control-state');
  await installScripts();
});
afterEach(() => lab.cleanup());

const ctx = (over: Parameters<typeof makeContext>[0] = {}) =>
  makeContext({ host: 'hv1', conn: lab.conn, stateDir, vars: { ewsplay_site: 'site1' }, ...over });
const subscribed = async (op = 'sync_all') =>
  (await readFile(join(lab.state, 'docker/subscriber', op), 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean);
const subscriberCalls = async () => (await lab.calls()).filter((l) => l.includes('/usr/bin/subscriber'));

describe('calendar_sync', () => {
  it('syncs in batches, records each mailbox, and skips them on the next run', async () => {
    const mailboxes = ['Ivan.Petrov@corp.example', 'anna@corp.example', 'Boris@corp.example'];
    const args = { operation: 'sync', mailboxes, batch_size: 2, script_dir: deployer };
    const first = await calendarSyncModule.run(ctx(), args);
    expect(first).toMatchObject({ changed: true, data: { done: mailboxes, failed: [], already_done: [] } });
    expect(first.failed).toBeUndefined();
    expect(await subscribed()).toEqual(mailboxes);
    const calls = await subscriberCalls();
    expect(calls).toHaveLength(2);
    expect(calls[0]).toContain("'-operation=sync_all' 'Ivan.Petrov@corp.example' 'anna@corp.example'");
    expect(calls[0]).toContain("'-sync_api_acl_token=********'"); // the script found the tokens
    expect((first.details as { batches: { output: string }[] }).batches[0]?.output).toContain(
      'INFO sync_all mailbox=Ivan.Petrov@corp.example: ok',
    );
    const state = await readSyncState(stateFile(stateDir, 'site1'));
    expect(Object.keys(state.operations.sync ?? {})).toEqual(mailboxes);
    expect(state.operations.sync?.['anna@corp.example']).toMatchObject({ status: 'done', host: 'hv1' });

    const second = await calendarSyncModule.run(ctx(), args);
    expect(second).toMatchObject({ changed: false, data: { already_done: mailboxes } });
    expect(await subscriberCalls()).toHaveLength(2);
  });

  it('keeps sync and subscribe apart, and runs everything again with force', async () => {
    const mailboxes = ['anna@corp.example'];
    await calendarSyncModule.run(ctx(), { operation: 'sync_all', mailboxes, script_dir: deployer });
    const sub = await calendarSyncModule.run(ctx(), {
      operation: 'subscribe_to_all',
      mailboxes,
      script_dir: deployer,
    });
    expect(sub.changed).toBe(true);
    expect(await subscribed('subscribe_to_all')).toEqual(mailboxes);
    const forced = await calendarSyncModule.run(ctx(), {
      operation: 'sync',
      mailboxes,
      force: true,
      script_dir: deployer,
    });
    expect(forced.changed).toBe(true);
    expect(await subscribed()).toEqual(['anna@corp.example', 'anna@corp.example']);
  });

  it('check mode reports what would run, runs nothing and writes no state', async () => {
    await calendarSyncModule.run(ctx(), {
      operation: 'sync',
      mailboxes: ['anna@corp.example'],
      script_dir: deployer,
    });
    const before = await snapshotTree(lab.root);
    const r = await calendarSyncModule.run(ctx({ check: true }), {
      operation: 'sync',
      mailboxes: ['anna@corp.example', 'Boris@corp.example'],
      script_dir: deployer,
    });
    expect(r).toMatchObject({
      changed: true,
      msg: 'would sync 1 mailbox: Boris@corp.example',
      data: { pending: ['Boris@corp.example'], already_done: ['anna@corp.example'] },
    });
    expect(await snapshotTree(lab.root)).toEqual(before);
  });

  it('passes valid but shell-hostile addresses through verbatim', async () => {
    const odd = ["o'neil@x.example", '$HOME@x.example', 'a`id`b@x.example', 'x|y&z@x.example', '*@x.example'];
    const r = await calendarSyncModule.run(ctx(), {
      operation: 'sync',
      mailboxes: odd,
      script_dir: deployer,
    });
    expect(r.failed).toBeUndefined();
    expect(await subscribed()).toEqual(odd);
    expect(batchCommand('/d', 'sync_all.sh', ["o'neil@x.example"])).toContain(`'o'\\''neil@x.example'`);
  });

  it('4.4: names the failed mailboxes with their raw output and the advice to contact VK; retries them only when asked', async () => {
    await mkdir(join(lab.state, 'docker/subscriber'), { recursive: true });
    await writeFile(join(lab.state, 'docker/subscriber/fail'), 'Boris@corp.example\n');
    const mailboxes = ['anna@corp.example', 'Boris@corp.example', 'carl@corp.example'];
    const args = { operation: 'sync', mailboxes, script_dir: deployer };
    const first = await calendarSyncModule.run(ctx(), args);
    expect(first).toMatchObject({
      changed: true,
      failed: true,
      data: { done: ['anna@corp.example', 'carl@corp.example'], failed: ['Boris@corp.example'] },
    });
    expect(first.msg).toMatch(
      /^sync failed for 1 of 3 mailboxes: Boris@corp\.example; 2 succeeded \(a batch that failed was run again one mailbox at a time to tell which failed: 3 mailboxes\)\./,
    );
    // The raw output of the mailbox's own run, and the vendor's advice with how to ask for the retry.
    expect(first.msg).toMatch(
      /Output of the run for Boris@corp\.example:\n {4}\S+ ERROR sync_all mailbox=Boris@corp\.example: user not found/,
    );
    expect(first.msg).toContain('contact VK');
    expect(first.msg).toContain('--resume, or with -e sync_retry_failed=true');
    // the batch, then each of its mailboxes alone
    expect(await subscriberCalls()).toHaveLength(4);
    const batches = (first.details as { batches: { mailboxes: string[]; rc: number; output: string }[] })
      .batches;
    expect(batches.map((b) => [b.mailboxes.length, b.rc])).toEqual([
      [3, 1],
      [1, 0],
      [1, 1],
      [1, 0],
    ]);
    expect(batches[2]?.output).toContain('ERROR sync_all mailbox=Boris@corp.example: user not found');
    const state = await readSyncState(stateFile(stateDir, 'site1'));
    expect(state.operations.sync?.['Boris@corp.example']).toMatchObject({
      status: 'failed',
      error: 'exit 1',
      output: expect.stringContaining('user not found in VK WorkMail'),
    });

    // Fixed on VK's side, but not asked to retry: nothing runs, the task fails again naming the mailbox
    // with its earlier output.
    await writeFile(join(lab.state, 'docker/subscriber/fail'), '');
    const callsBefore = (await subscriberCalls()).length;
    const unasked = await calendarSyncModule.run(ctx(), args);
    expect(unasked).toMatchObject({
      changed: false,
      failed: true,
      data: { held_failed: ['Boris@corp.example'] },
    });
    expect(unasked.msg).toContain(
      '1 mailbox failed in an earlier run and was not run again: Boris@corp.example.',
    );
    expect(unasked.msg).toMatch(
      /Output of the earlier run for Boris@corp\.example \([^)]*exit 1\):\n.*user not found/,
    );
    expect(unasked.msg).toContain('contact VK');
    expect(await subscriberCalls()).toHaveLength(callsBefore);
    // Check mode says the same without failing (the preflight validates lists this way).
    const predicted = await calendarSyncModule.run(ctx({ check: true }), args);
    expect(predicted).toMatchObject({ changed: false, data: { held_failed: ['Boris@corp.example'] } });
    expect(predicted.failed).toBeUndefined();

    // Asked: only the failed one runs again.
    const second = await calendarSyncModule.run(ctx(), { ...args, retry_failed: true });
    expect(second).toMatchObject({
      changed: true,
      data: { done: ['Boris@corp.example'], already_done: ['anna@corp.example', 'carl@corp.example'] },
    });
    expect(second.failed).toBeUndefined();
    expect((await subscriberCalls()).at(-1)).toMatch(/'-operation=sync_all' 'Boris@corp\.example'$/);
    expect((await calendarSyncModule.run(ctx(), args)).changed).toBe(false);
  });

  it('tells its progress as an event after every batch: mailboxes done of total, batch n of N, failures', async () => {
    await mkdir(join(lab.state, 'docker/subscriber'), { recursive: true });
    await writeFile(join(lab.state, 'docker/subscriber/fail'), 'b@corp.example\n');
    const events: TaskProgress[] = [];
    const mailboxes = ['a@corp.example', 'b@corp.example', 'c@corp.example'];
    const args = { operation: 'sync', mailboxes, batch_size: 2, script_dir: deployer };
    const r = await calendarSyncModule.run(ctx({ progress: (p) => events.push(p) }), args);
    expect(r.failed).toBe(true);
    expect(
      events.map(({ unit, done, total, failed, batch }) => ({ unit, done, total, failed, batch })),
    ).toEqual([
      { unit: 'mailboxes', done: 0, total: 3, failed: 0, batch: { n: 1, of: 2 } },
      { unit: 'mailboxes', done: 2, total: 3, failed: 1, batch: { n: 2, of: 2 } },
      { unit: 'mailboxes', done: 3, total: 3, failed: 1, batch: { n: 2, of: 2 } },
    ]);
    expect(new Set(events.map((e) => e.startedAt)).size).toBe(1);
    // Every outcome is in the state file when the task ends (writes are at most one a second meanwhile).
    const state = await readSyncState(stateFile(stateDir, 'site1'));
    expect(
      Object.fromEntries(Object.entries(state.operations.sync ?? {}).map(([m, o]) => [m, o.status])),
    ).toEqual({
      'a@corp.example': 'done',
      'b@corp.example': 'failed',
      'c@corp.example': 'done',
    });
    // A re-run with nothing to do has nothing to tell.
    events.length = 0;
    await writeFile(join(lab.state, 'docker/subscriber/fail'), '');
    await calendarSyncModule.run(ctx({ progress: (p) => events.push(p) }), { ...args, retry_failed: true });
    expect(events.map((e) => [e.done, e.total])).toEqual([
      [0, 1],
      [1, 1],
    ]);
  });

  it('explains "the input device is not a TTY" once, without retrying each mailbox', async () => {
    await installScripts('-it');
    const r = await calendarSyncModule.run(ctx(), {
      operation: 'sync',
      mailboxes: ['anna@corp.example', 'Boris@corp.example', 'carl@corp.example'],
      batch_size: 2,
      script_dir: deployer,
    });
    expect(r.failed).toBe(true);
    expect(r.msg).toContain('the input device is not a TTY: the script runs docker exec -t');
    expect(r.data).toMatchObject({
      failed: ['anna@corp.example', 'Boris@corp.example', 'carl@corp.example'],
    });
    expect((await lab.calls()).filter((l) => l.startsWith('docker '))).toHaveLength(1);
  });

  it('fails clearly when the script is missing', async () => {
    const r = await calendarSyncModule.run(ctx(), {
      operation: 'subscribe',
      mailboxes: ['anna@corp.example'],
      script_dir: join(lab.root, 'nowhere'),
    });
    expect(r.failed).toBe(true);
    expect(r.msg).toContain('subscribe.sh is not in');
    expect(r.msg).toContain('install the sync scripts first');
  });

  it('refuses an invalid list before running anything', async () => {
    const r = await calendarSyncModule.run(ctx(), {
      operation: 'sync',
      mailboxes: ['Anna@corp.example', 'anna@corp.example', '$(id)@x'],
      script_dir: deployer,
    });
    expect(r.failed).toBe(true);
    expect(r.msg).toContain(
      'mailboxes[1]: anna@corp.example and Anna@corp.example (mailboxes[0]) differ only in case',
    );
    expect(r.msg).toContain('mailboxes[2]: "$(id)@x" is not a valid address');
    expect(await lab.calls()).toEqual([]);
  });

  it('reads a CSV mailbox file and keeps state per site', async () => {
    const csv = join(lab.root, 'users.csv');
    await writeFile(csv, 'name;email\nAnna;anna@corp.example\n# later: Boris\n');
    const r = await calendarSyncModule.run(ctx({ vars: {} }), {
      operation: 'sync',
      mailboxes_file: csv,
      state_key: 'site2',
      script_dir: deployer,
    });
    expect(r).toMatchObject({ changed: true, data: { done: ['anna@corp.example'] } });
    expect(await readdir(stateDir)).toEqual(['site2']);
  });

  it('state updates from concurrent runs are all kept, and no temp file is left', async () => {
    const path = stateFile(stateDir, 'site1');
    const at = new Date().toISOString();
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        recordOutcomes(path, i % 2 ? 'sync' : 'subscribe', {
          [`u${i}@x.example`]: { status: 'done', at, host: 'h' },
        }),
      ),
    );
    const state = await readSyncState(path);
    expect(Object.keys(state.operations.sync ?? {})).toHaveLength(10);
    expect(Object.keys(state.operations.subscribe ?? {})).toHaveLength(10);
    expect(await readdir(join(stateDir, 'site1'))).toEqual(['calendar-sync.json']);
  });

  it('refuses a state file it did not write', async () => {
    await mkdir(join(stateDir, 'site1'), { recursive: true });
    await writeFile(stateFile(stateDir, 'site1'), '{"half":');
    await expect(
      calendarSyncModule.run(ctx(), {
        operation: 'sync',
        mailboxes: ['anna@corp.example'],
        script_dir: deployer,
      }),
    ).rejects.toThrow(/is not a calendar_sync state file/);
  });

  it('has a strict args schema: one of mailboxes and mailboxes_file', () => {
    const valid = argsValidator(calendarSyncModule);
    expect(valid({ operation: 'sync', mailboxes: ['a@x.example'] })).toBe(true);
    expect(valid({ operation: 'sync', mailboxes_file: 'm.txt', batch_size: 10, force: true })).toBe(true);
    expect(valid({ operation: 'sync', mailboxes: [], mailboxes_file: 'm.txt' })).toBe(false);
    expect(valid({ operation: 'sync' })).toBe(false);
    expect(valid({ operation: 'resync', mailboxes: [] })).toBe(false);
    expect(valid({ operation: 'sync', mailboxes: [], batchsize: 5 })).toBe(false);
  });
});
