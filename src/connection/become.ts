// sudo handling shared by local and ssh connections: the password goes on stdin (sudo -S reads one line),
// never in argv, and the prompt is a fixed marker so it never mixes with the command's output.
import { shq } from '../core/shell-quote.js';
import type { ExecOptions, PutOptions } from './connection.js';

export const SUDO_PROMPT = '[ewsplay-sudo-prompt]';

/** Wraps `command` for become; returns the script to run and the bytes to send on stdin. */
export function becomeWrap(
  command: string,
  opts: ExecOptions,
): { script: string; stdin: string | Buffer | undefined } {
  if (!opts.become) return { script: command, stdin: opts.stdin };
  const user = opts.become.user ?? 'root';
  // Environment values (secrets among them) cross sudo with --preserve-env, so only their names
  // appear on the command line.
  const preserve = Object.keys(opts.env ?? {});
  // The script itself reaches the target user's shell on stdin, as short base64 lines up to a "." line
  // ahead of the command's own input (`read` takes exactly those lines; short, as a pty's line discipline
  // truncates long ones): on sudo's command line every user would see it in `ps`.
  const script = `${Buffer.from(command)
    .toString('base64')
    .replace(/.{1,76}/g, '$&\n')}.\n`;
  const inner =
    '__ews_b=; while IFS= read -r __ews_l && [ "$__ews_l" != . ]; do __ews_b="$__ews_b$__ews_l"; done; ' +
    'eval "unset __ews_b __ews_l; $(printf %s "$__ews_b" | base64 -d)"';
  const sudoArgs = `-u ${shq(user)} ${preserve.length ? `--preserve-env=${preserve.join(',')} ` : ''}/bin/sh -c ${shq(inner)}`;
  const input = Buffer.concat([Buffer.from(script), Buffer.from(opts.stdin ?? '')]);
  if (opts.become.password !== undefined) {
    // sudo does not ask when it needs no password (root, NOPASSWD): then the password line must be
    // consumed here, or the command would read it as its own input. `read` stops at the newline, so the
    // command still gets the rest of stdin untouched. -k ignores cached credentials in both sudo calls, so
    // the test and the real call agree whatever sudo's cache is keyed by (tty, session, parent).
    const stdin = Buffer.concat([Buffer.from(`${opts.become.password}\n`), input]);
    return {
      script: `if sudo -n -k -u ${shq(user)} true 2>/dev/null; then IFS= read -r _; exec sudo -n ${sudoArgs}; else exec sudo -S -k -p ${shq(SUDO_PROMPT)} ${sudoArgs}; fi`,
      stdin,
    };
  }
  return { script: `sudo -n ${sudoArgs}`, stdin: input };
}

/** Temp files of ours older than this are leftovers of a transfer that was cut off, removed on the next one. */
export const LEFTOVER_MINUTES = 10;

/** A shell script that reads stdin into a temp file beside `dest`, applies mode/owner, then renames. */
export function atomicWriteScript(dest: string, opts: PutOptions): string {
  const dir = dest.replace(/\/[^/]*$/, '') || '/';
  const lines = [
    'set -e',
    `d=${shq(dir)}`,
    'mkdir -p "$d"',
    // What a write cut short by a lost connection left (a killed shell runs no trap), once it is old.
    `find "$d" -maxdepth 1 -type f -name '.ewsplay-tmp-*' -mmin +${LEFTOVER_MINUTES} -exec rm -f {} + 2>/dev/null || true`,
    'tmp=$(mktemp "$d/.ewsplay-tmp-XXXXXX")',
    `trap 'rm -f "$tmp"' EXIT`,
    'cat > "$tmp"',
  ];
  lines.push(`chmod ${shq(opts.mode ?? '0644')} "$tmp"`);
  if (opts.owner || opts.group)
    lines.push(`chown ${shq(`${opts.owner ?? ''}${opts.group ? `:${opts.group}` : ''}`)} "$tmp"`);
  lines.push(`mv -f "$tmp" ${shq(dest)}`, 'trap - EXIT');
  return lines.join('\n');
}
