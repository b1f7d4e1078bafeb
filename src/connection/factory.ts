// Chooses the transport for a host: a child process for local hosts, the one SSH connection otherwise.
// The SSH code (ssh2 and its ~30 files) loads on the first SSH host: a run on local hosts never loads it.
import type { Connection, ConnectionSpec } from './connection.js';
import { LocalConnection } from './local.js';

export interface OpenConnectionOptions {
  signal?: AbortSignal;
  secrets?: { add(v: string): void };
}

export async function openConnection(
  spec: ConnectionSpec,
  opts: OpenConnectionOptions = {},
): Promise<Connection> {
  if (spec.connection === 'local') return new LocalConnection(spec.host, spec.root);
  const { connectSsh } = await import('./ssh.js');
  return connectSsh(spec, opts);
}
