// Chooses the transport for a host: a child process for local hosts, the one SSH connection otherwise.
import type { Connection, ConnectionSpec } from './connection.js';
import { LocalConnection } from './local.js';
import { connectSsh } from './ssh.js';

export interface OpenConnectionOptions {
  signal?: AbortSignal;
  secrets?: { add(v: string): void };
}

export async function openConnection(
  spec: ConnectionSpec,
  opts: OpenConnectionOptions = {},
): Promise<Connection> {
  if (spec.connection === 'local') return new LocalConnection(spec.host, spec.root);
  return connectSsh(spec, opts);
}
