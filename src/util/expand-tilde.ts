// `~` and `~/…` expanded to the current user's home, as the shell and ssh do (key files, ssh_config paths,
// fetch's dest). `~user` forms are left as written.
import { homedir } from 'node:os';
import { join } from 'node:path';

export function expandTilde(path: string): string;
export function expandTilde(path: string | undefined): string | undefined;
export function expandTilde(path: string | undefined): string | undefined {
  return path === '~' || path?.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}
