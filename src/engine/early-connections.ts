// Connections opened before the run asks for them (issue 16): as soon as the inventory is known, while the
// playbook is still loading, the SSH hosts of each play the loader meets (after --limit) are connected, at
// most --forks at a time. The run takes a host's connection when its first task needs one, with the
// same settings it would have connected with; anything it never takes is closed when the run ends, or
// when loading fails. Nothing here decides a host's fate: errors are the run's to report, per host, when
// it takes the attempt. An attempt that failed before the run asked is dropped, and the run connects
// itself, as it always did (a host may come up meanwhile), unless the host answered and refused: a host
// key refused or an authentication that failed is handed over, not tried twice.

import type { Connection, ConnectionSpec } from '../connection/connection.js';
import { LoginRefusedError } from '../connection/connection.js';
import { openConnection } from '../connection/factory.js';
import type { Play, Vars } from '../core/model.js';
import type { TemplateApi } from '../core/template-api.js';
import { connectionSpec, type VarPosition } from '../inventory/connection-spec.js';
import type { Inventory } from '../inventory/inventory.js';
import { lazyVars } from './vars.js';

/** The run options (context.ts) that say how to connect. */
export interface ConnectOptions {
  connectTimeoutMs: number;
  acceptNewHostKeys: boolean;
  knownHostsFile?: string;
  /** -u, --private-key, -k: defaults below the inventory's connection variables, as in Ansible. */
  connection?: {
    user?: string;
    privateKeyFile?: string;
    password?: string;
    /** -c, --ssh-common-args, --ssh-extra-args: the same, below the inventory and the play. */
    connectionType?: string;
    sshCommonArgs?: string;
    sshExtraArgs?: string;
  };
}

/** How a host is connected to: its variables (the play's connection keywords below them) and the flags. */
export function hostConnectionSpec(
  host: string,
  hostVars: Vars,
  templar: TemplateApi,
  options: ConnectOptions,
  positionOf?: VarPosition,
): ConnectionSpec {
  return connectionSpec(
    host,
    lazyVars(hostVars, templar),
    {
      connectTimeoutMs: options.connectTimeoutMs,
      acceptNewHostKeys: options.acceptNewHostKeys,
      ...(options.knownHostsFile ? { knownHostsFile: options.knownHostsFile } : {}),
      ...options.connection,
    },
    positionOf,
  );
}

/** A play's connection keywords as the inventory variables they default. */
export function playConnectionVars(play: Pick<Play, 'connection' | 'remoteUser' | 'port'>): Vars {
  const vars: Vars = {};
  if (play.connection !== undefined) vars.ansible_connection = play.connection;
  if (play.remoteUser !== undefined) vars.ansible_user = play.remoteUser;
  if (play.port !== undefined) vars.ansible_port = play.port;
  return vars;
}

export interface EarlyConnectionsInput {
  inventory: Inventory;
  templar: TemplateApi;
  options: ConnectOptions & { limit?: string; forks: number };
  /** The run's abort signal (Ctrl-C). */
  signal: AbortSignal;
  secrets: { add(v: string): void };
}

interface Attempt {
  spec: ConnectionSpec;
  abort: AbortController;
  connection?: Promise<Connection>;
  /** Set once the attempt failed. */
  error?: unknown;
}

export class EarlyConnections {
  private readonly attempts = new Map<string, Attempt>();
  private readonly queue: Attempt[] = [];
  private active = 0;
  private closed = false;

  constructor(private readonly input: EarlyConnectionsInput) {}

  /** The loader met a play: connect its hosts (templated host patterns or keywords are left to the run). */
  play(play: Pick<Play, 'hosts' | 'connection' | 'remoteUser' | 'port'>): void {
    if (this.closed || !play.hosts) return;
    const keywords = [play.hosts, play.connection, play.remoteUser, play.port].map((v) => String(v ?? ''));
    if (keywords.some((v) => v.includes('{{') || v.includes('{%'))) return;
    const { inventory, options } = this.input;
    let hosts: string[];
    try {
      hosts = inventory.match(play.hosts);
      if (options.limit) {
        const allowed = new Set(inventory.match(options.limit));
        hosts = hosts.filter((h) => allowed.has(h));
      }
    } catch {
      // A pattern in error: the loader reports it, and nothing is connected.
      return;
    }
    const playVars = playConnectionVars(play);
    for (const host of hosts) {
      let spec: ConnectionSpec;
      try {
        spec = hostConnectionSpec(
          host,
          { ...playVars, ...inventory.hostVars(host) },
          this.input.templar,
          options,
        );
      } catch {
        // Connection variables in error: reported before the run, as ever.
        continue;
      }
      // Local hosts cost nothing to open; a new host key is recorded only once the playbook is known good.
      if (spec.connection !== 'ssh' || spec.acceptNewHostKeys) continue;
      const key = JSON.stringify(spec);
      if (this.attempts.has(key)) continue;
      const attempt: Attempt = { spec, abort: new AbortController() };
      this.attempts.set(key, attempt);
      this.queue.push(attempt);
    }
    this.pump();
  }

  /**
   * The connection opened early with exactly these settings, handed over to the run (which closes it),
   * or undefined: none, not started yet, or failed in a way worth a new try.
   */
  take(spec: ConnectionSpec): Promise<Connection> | undefined {
    const key = JSON.stringify(spec);
    const attempt = this.attempts.get(key);
    if (!attempt) return undefined;
    this.attempts.delete(key);
    if (!attempt.connection) {
      this.queue.splice(this.queue.indexOf(attempt), 1);
      return undefined;
    }
    if (attempt.error !== undefined && !(attempt.error instanceof LoginRefusedError)) return undefined;
    return attempt.connection;
  }

  /** Closes what the run did not take (attempts under way are stopped). Safe to call more than once. */
  async close(): Promise<void> {
    this.closed = true;
    this.queue.length = 0;
    const left = [...this.attempts.values()].filter((a) => a.connection);
    this.attempts.clear();
    await Promise.all(
      left.map(async (a) => {
        a.abort.abort();
        const c = await a.connection!.catch(() => undefined);
        await c?.close().catch(() => undefined);
      }),
    );
  }

  private pump(): void {
    const limit = Math.max(1, this.input.options.forks);
    while (!this.closed && this.active < limit && this.queue.length > 0) {
      const attempt = this.queue.shift()!;
      this.active++;
      const signal = AbortSignal.any([this.input.signal, attempt.abort.signal]);
      attempt.connection = openConnection(attempt.spec, { signal, secrets: this.input.secrets });
      attempt.connection
        .then(
          () => undefined,
          (e: unknown) => {
            attempt.error = e;
          },
        )
        .finally(() => {
          this.active--;
          this.pump();
        });
    }
  }
}
