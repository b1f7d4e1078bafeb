// EarlyConnections (issue 16) with the transport faked: which hosts a play's pattern and --limit connect,
// at most --forks at once; what the run gets back (the very attempt, or nothing: not started yet, failed
// and worth a new try); what close() stops and closes.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Connection, ConnectionSpec } from '../../../src/connection/connection.js';
import { LoginRefusedError, UnreachableError } from '../../../src/connection/connection.js';
import { EarlyConnections, hostConnectionSpec } from '../../../src/engine/early-connections.js';
import { loadInventory } from '../../../src/inventory/inventory.js';
import { createTemplar } from '../../../src/template/templar.js';

interface Pending {
  spec: ConnectionSpec;
  signal: AbortSignal;
  resolve(c: Connection): void;
  reject(e: unknown): void;
}
const opened: Pending[] = [];

vi.mock('../../../src/connection/factory.js', () => ({
  openConnection: (spec: ConnectionSpec, opts: { signal: AbortSignal }) =>
    new Promise<Connection>((resolve, reject) => {
      opened.push({ spec, signal: opts.signal, resolve, reject });
      opts.signal.addEventListener('abort', () => reject(new UnreachableError(`${spec.host}: aborted`)));
    }),
}));

const fakeConnection = (host: string) =>
  ({ host, kind: 'ssh', close: vi.fn(async () => undefined) }) as unknown as Connection & {
    close: ReturnType<typeof vi.fn>;
  };
const settle = () => new Promise((r) => setTimeout(r, 0));
const templar = createTemplar();
const options = { connectTimeoutMs: 10_000, acceptNewHostKeys: false, forks: 2 };

async function pool(extra: { limit?: string; forks?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'ewsplay-early-'));
  writeFileSync(
    join(dir, 'hosts.yml'),
    [
      'all:',
      '  children:',
      '    web:',
      '      hosts: { web1: {}, web2: {}, web3: {} }',
      '    db:',
      '      hosts: { db1: { ansible_user: dba } }',
      '  hosts:',
      '    here: { ansible_connection: local }',
      '    newkey: { ansible_ssh_common_args: "-o StrictHostKeyChecking=accept-new" }',
      '',
    ].join('\n'),
  );
  const inventory = await loadInventory([join(dir, 'hosts.yml')]);
  const abort = new AbortController();
  const early = new EarlyConnections({
    inventory,
    templar,
    options: { ...options, ...extra },
    signal: abort.signal,
    secrets: { add: () => undefined },
  });
  const spec = (host: string, play = {}) =>
    hostConnectionSpec(host, { ...play, ...inventory.hostVars(host) }, templar, options);
  return { early, spec, abort };
}

beforeEach(() => {
  opened.length = 0;
});

describe('EarlyConnections', () => {
  it("connects a play's SSH hosts after --limit, --forks at a time; never local hosts or new keys", async () => {
    const { early } = await pool({ limit: 'all:!web3' });
    early.play({ hosts: 'all' });
    expect(opened.map((o) => o.spec.host)).toEqual(['web1', 'web2']);
    opened[0]!.resolve(fakeConnection('web1'));
    await settle();
    expect(opened.map((o) => o.spec.host)).toEqual(['web1', 'web2', 'db1']);
    opened[1]!.resolve(fakeConnection('web2'));
    opened[2]!.resolve(fakeConnection('db1'));
    await settle();
    expect(opened).toHaveLength(3);
    await early.close();
  });

  it('leaves templated patterns and keywords, and bad patterns, to the run', async () => {
    const { early } = await pool();
    early.play({ hosts: '{{ target }}' });
    early.play({ hosts: 'web', remoteUser: '{{ who }}' });
    early.play({ hosts: '~[' });
    expect(opened).toEqual([]);
  });

  it('hands the run the attempt with the same settings, once; other settings get nothing', async () => {
    const { early, spec } = await pool({ forks: 10 });
    early.play({ hosts: 'web1:db1', remoteUser: 'deploy' });
    expect(opened.map((o) => [o.spec.host, o.spec.user])).toEqual([
      ['web1', 'deploy'],
      ['db1', 'dba'],
    ]);
    const conn = fakeConnection('web1');
    opened[0]!.resolve(conn);
    expect(early.take(spec('web1'))).toBeUndefined();
    const taken = early.take(spec('web1', { ansible_user: 'deploy' }));
    expect(await taken).toBe(conn);
    expect(early.take(spec('web1', { ansible_user: 'deploy' }))).toBeUndefined();
    await early.close();
    expect(conn.close).not.toHaveBeenCalled();
  });

  it('an attempt not started yet is the run to make; a failed one is made again, a refused login is not', async () => {
    const { early, spec } = await pool({ forks: 2 });
    early.play({ hosts: 'web' });
    expect(opened).toHaveLength(2);
    // web3 waits for a free slot: the run connects it itself, and the pool forgets it.
    expect(early.take(spec('web3'))).toBeUndefined();
    opened[0]!.reject(new UnreachableError('web1: connection refused'));
    opened[1]!.reject(new LoginRefusedError('web2: authentication failed'));
    await settle();
    expect(opened).toHaveLength(2);
    expect(early.take(spec('web1'))).toBeUndefined();
    await expect(early.take(spec('web2'))).rejects.toThrow(/authentication failed/);
  });

  it('close() stops the attempts under way and closes the connections the run did not take', async () => {
    const { early } = await pool({ forks: 10 });
    early.play({ hosts: 'web' });
    const conn = fakeConnection('web1');
    opened[0]!.resolve(conn);
    await settle();
    await early.close();
    expect(conn.close).toHaveBeenCalledTimes(1);
    expect(opened.slice(1).map((o) => o.signal.aborted)).toEqual([true, true]);
    early.play({ hosts: 'db' });
    expect(opened).toHaveLength(3);
  });

  it("the run's abort (Ctrl-C) stops the attempts too", async () => {
    const { early, abort } = await pool();
    early.play({ hosts: 'web' });
    abort.abort();
    expect(opened.map((o) => o.signal.aborted)).toEqual([true, true]);
    await early.close();
  });
});
