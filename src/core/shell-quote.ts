// Quoting for POSIX sh, used wherever a command line is built for a host.

/** Single-quotes a string for POSIX sh. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
