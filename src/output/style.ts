// Minimal ANSI styling; disabled by NO_COLOR or when not writing to a terminal.
const wrap = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;

export const color = {
  green: wrap(32, 39),
  yellow: wrap(33, 39),
  red: wrap(31, 39),
  cyan: wrap(36, 39),
  magenta: wrap(35, 39),
  dim: wrap(2, 22),
  bold: wrap(1, 22),
};

export function useColor(stream: NodeJS.WriteStream): boolean {
  return !process.env.NO_COLOR && stream.isTTY === true;
}

/** Ansible's colors: ok green, changed yellow, failed/unreachable red, skipped cyan. */
export function statusColor(status: string): (s: string) => string {
  switch (status) {
    case 'ok':
      return color.green;
    case 'changed':
      return color.yellow;
    case 'skipped':
      return color.cyan;
    case 'failed':
    case 'unreachable':
      return color.red;
    default:
      return (s) => s;
  }
}
