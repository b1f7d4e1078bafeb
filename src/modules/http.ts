// HTTP requests made FROM the host (get_url, uri), with curl, or wget where curl is missing (get_url only).
// Nothing of the request reaches a command line: curl reads its whole request (URL, headers, credentials,
// body) as a config on stdin (`curl -K -`), so no secret shows in the host's process list. wget reads its
// headers and credentials as a wgetrc, which it only takes from a regular file: stdin is copied into a
// file only its owner can read ("$out.rc", removed with "$out"); only the URL is an argument there.
import { shq } from '../core/shell-quote.js';

export interface HttpRequest {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  username?: string;
  password?: string;
  /** Send credentials with the first request (Ansible's force_basic_auth); else only when challenged. */
  forceBasicAuth?: boolean;
  validateCerts: boolean;
  /** Seconds (Ansible's socket timeout): to connect, and without a byte received. */
  timeout: number;
  followRedirects: boolean;
}

/** A value in curl's config syntax: double-quoted with backslash escapes. */
export function curlQuote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')}"`;
}

function noNewline(what: string, s: string): string {
  if (/[\r\n]/.test(s)) throw new Error(`${what} must not contain a line break`);
  return s;
}

/** The request as a curl config (read from stdin with -K -). */
export function curlConfig(req: HttpRequest): string {
  const lines = [`url = ${curlQuote(noNewline('url', req.url))}`, 'silent', 'show-error'];
  const method = (req.method ?? 'GET').toUpperCase();
  if (method === 'HEAD') lines.push('head');
  else if (method !== 'GET') lines.push(`request = ${curlQuote(noNewline('method', method))}`);
  for (const [k, v] of Object.entries(req.headers ?? {}))
    lines.push(`header = ${curlQuote(`${noNewline('header name', k)}: ${noNewline(`header ${k}`, v)}`)}`);
  if (req.body !== undefined) lines.push(`data-binary = ${curlQuote(req.body)}`);
  if (req.username !== undefined) {
    lines.push(`user = ${curlQuote(`${req.username}:${req.password ?? ''}`)}`);
    lines.push(req.forceBasicAuth ? 'basic' : 'anyauth');
  }
  if (!req.validateCerts) lines.push('insecure');
  lines.push(`connect-timeout = ${req.timeout}`, 'speed-limit = 1', `speed-time = ${req.timeout}`);
  if (req.followRedirects) lines.push('location', 'max-redirs = 50');
  return `${lines.join('\n')}\n`;
}

/** The request as a wgetrc (sent on stdin, kept in a 0600 file for --config); GET only. */
export function wgetConfig(req: HttpRequest): string {
  const lines = ['tries = 1', 'server_response = on', `timeout = ${req.timeout}`];
  for (const [k, v] of Object.entries(req.headers ?? {}))
    lines.push(`header = ${noNewline('header name', k)}: ${noNewline(`header ${k}`, v)}`);
  if (req.username !== undefined) {
    lines.push(`http_user = ${noNewline('url_username', req.username)}`);
    lines.push(`http_password = ${noNewline('url_password', req.password ?? '')}`);
    if (req.forceBasicAuth) lines.push('auth_no_challenge = on');
  }
  if (!req.validateCerts) lines.push('check_certificate = off');
  lines.push(`max_redirect = ${req.followRedirects ? 20 : 0}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Shell lines that fetch the request's response body into "$out" and set $status (the final HTTP status,
 * 0 when there was none) and $fetch_rc; curl's or wget's complaint is in "$out.err". $tool must be set
 * (curl or wget); the config arrives on stdin. The caller removes "$out", "$out.err" and "$out.rc".
 */
export function fetchLines(url: string): string[] {
  return [
    'if [ "$tool" = curl ]; then',
    `  status=$(curl -K - -o "$out" -w '%{http_code}' 2>"$out.err"); fetch_rc=$?`,
    'else',
    '  (umask 077; cat > "$out.rc")',
    `  wget --config="$out.rc" -O "$out" ${shq(url)} 2>"$out.err"; fetch_rc=$?; rm -f "$out.rc"`,
    // wget's server_response lines; the last status line is the final response.
    `  status=$(sed -n 's/^ *HTTP\\/[0-9.]* \\([0-9][0-9][0-9]\\).*/\\1/p' "$out.err" | tail -n 1)`,
    // wget exits 8 for an error status: the status decides, as for curl.
    '  [ "$fetch_rc" = 8 ] && [ -n "$status" ] && fetch_rc=0',
    'fi',
    '[ -n "$status" ] || status=0',
  ];
}

/** The shell line that picks curl, else wget (when allowed), else fails with exit 20 naming both. */
export function toolLine(allowWget: boolean): string {
  return allowWget
    ? "if command -v curl >/dev/null 2>&1; then tool=curl; elif command -v wget >/dev/null 2>&1; then tool=wget; else echo 'neither curl nor wget is installed on the host: install curl' >&2; exit 20; fi"
    : "if command -v curl >/dev/null 2>&1; then tool=curl; else echo 'curl is not installed on the host: install curl' >&2; exit 20; fi";
}

/** The last header block of a `curl -D` dump (after redirects), lower-cased names. */
export function parseHeaders(dump: string): { status?: number; headers: Record<string, string> } {
  const blocks = dump.split(/\r?\n\r?\n/).filter((b) => /^HTTP\//.test(b.trim()));
  const last = blocks[blocks.length - 1];
  if (!last) return { headers: {} };
  const lines = last.trim().split(/\r?\n/);
  const status = Number(/^HTTP\/\S+\s+(\d{3})/.exec(lines[0] ?? '')?.[1]);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const k = line.slice(0, i).trim().toLowerCase();
    const v = line.slice(i + 1).trim();
    headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
  }
  return { ...(Number.isFinite(status) ? { status } : {}), headers };
}

/** Arguments shared by get_url and uri, as Ansible names them. */
export const HTTP_ARGS_SCHEMA = {
  url: { type: 'string', minLength: 1, description: 'HTTP, HTTPS or FTP URL, fetched from the host' },
  headers: {
    type: 'object',
    additionalProperties: { type: 'string' },
    description: 'Extra request headers (name: value)',
  },
  url_username: {
    type: 'string',
    description: 'User name for HTTP authentication (Basic or Digest)',
  },
  url_password: {
    type: 'string',
    description: 'Password for HTTP authentication (passed to curl on stdin, never as an argument)',
  },
  force_basic_auth: {
    type: 'boolean',
    default: false,
    description: 'Send Basic credentials with the first request instead of waiting for a 401 challenge',
  },
  validate_certs: {
    type: 'boolean',
    default: true,
    description: "false: do not check the server's TLS certificate (self-signed lab servers only)",
  },
} as const;

/** HttpRequest fields from the shared arguments. */
export function requestArgs(args: Record<string, unknown>): Omit<HttpRequest, 'timeout' | 'followRedirects'> {
  return {
    url: String(args.url),
    ...(args.headers && typeof args.headers === 'object'
      ? {
          headers: Object.fromEntries(
            Object.entries(args.headers as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
          ),
        }
      : {}),
    ...(typeof args.url_username === 'string' ? { username: args.url_username } : {}),
    ...(typeof args.url_password === 'string' ? { password: args.url_password } : {}),
    ...(args.force_basic_auth === true ? { forceBasicAuth: true } : {}),
    validateCerts: args.validate_certs !== false,
  };
}
