// uri: an HTTP request made from the host with curl, registered as Ansible's uri registers it: status, url,
// redirected, msg, content (return_content), json (a JSON answer), and every response header lower-cased
// with '-' as '_' (content_type, location ...). Never changed by itself (as Ansible: use changed_when).
// A status outside status_code fails the task.
//
// Check mode: Ansible's uri has no check mode support, so the task is skipped there whatever the method;
// the same here (a GET can have effects too). A read-only request that later tasks need in check mode
// takes `check_mode: false`, as with Ansible.
import { shq } from '../core/shell-quote.js';
import {
  curlConfig,
  HTTP_ARGS_SCHEMA,
  type HttpRequest,
  parseHeaders,
  requestArgs,
  toolLine,
} from './http.js';
import { defineModule, fail } from './kit.js';
import type { ModuleResult } from './module.js';
import { execOn } from './remote.js';

const MARK = '--ewsplay-uri--';

/** Ansible's status_code: one code or a list (numbers or numeric strings). */
export function statusCodes(v: unknown): number[] {
  if (v === undefined || v === null) return [200];
  const list = Array.isArray(v) ? v : String(v).split(',');
  return list.map((c) => {
    const n = Number(String(c).trim());
    if (!Number.isInteger(n))
      throw new Error(`status_code ${JSON.stringify(c)} is not an HTTP status number`);
    return n;
  });
}

/** The request body and the Content-Type it implies (body_format raw, json, form-urlencoded). */
export function encodeBody(body: unknown, format: string): { body?: string; contentType?: string } {
  if (body === undefined || body === null) return {};
  if (format === 'json')
    return {
      body: typeof body === 'string' ? body : JSON.stringify(body),
      contentType: 'application/json',
    };
  if (format === 'form-urlencoded') {
    if (typeof body === 'string') return { body, contentType: 'application/x-www-form-urlencoded' };
    const entries: [string, string][] = Array.isArray(body)
      ? body.map((p) => [String((p as unknown[])[0]), String((p as unknown[])[1])])
      : Object.entries(body as Record<string, unknown>).map(([k, v]) => [k, String(v)]);
    return {
      body: new URLSearchParams(entries).toString(),
      contentType: 'application/x-www-form-urlencoded',
    };
  }
  if (typeof body !== 'string')
    throw new Error(
      'body must be a string with body_format: raw (use body_format: json for a mapping or list)',
    );
  return { body };
}

function followFor(v: unknown, method: string): boolean {
  const s = String(v ?? 'safe').toLowerCase();
  if (s === 'all' || s === 'yes' || s === 'true' || s === 'urllib2') return true;
  if (s === 'none' || s === 'no' || s === 'false') return false;
  // safe: only requests that do not change anything are followed.
  return method === 'GET' || method === 'HEAD';
}

/** The arguments as the schema below declares them (defaults applied). */
type UriArgs = {
  url: string;
  method: string;
  body?: unknown;
  body_format: string;
  status_code?: unknown;
  return_content: boolean;
  follow_redirects?: string | boolean;
  timeout: number;
  creates?: string;
  removes?: string;
};

export const uriModule = defineModule<UriArgs>({
  name: 'uri',
  summary: 'Make an HTTP request from the host; registers status, content, json and headers (never changed)',
  args: {
    type: 'object',
    additionalProperties: false,
    required: ['url'],
    properties: {
      ...HTTP_ARGS_SCHEMA,
      method: {
        type: 'string',
        pattern: '^[A-Za-z]+$',
        default: 'GET',
        description: 'The HTTP method (GET, POST, PUT, DELETE, PATCH, HEAD ...)',
      },
      body: {
        description: 'The request body: a string, or with body_format json a mapping or list',
        anyOf: [
          { type: 'string' },
          { type: 'object' },
          { type: 'array' },
          { type: 'number' },
          { type: 'boolean' },
        ],
      },
      body_format: {
        type: 'string',
        enum: ['raw', 'json', 'form-urlencoded'],
        default: 'raw',
        description:
          'json: the body is sent as JSON with Content-Type application/json (unless headers set one)',
      },
      status_code: {
        description: 'The status (or list of statuses) that counts as success',
        anyOf: [
          { type: 'integer' },
          { type: 'string' },
          { type: 'array', items: { anyOf: [{ type: 'integer' }, { type: 'string' }] } },
        ],
      },
      return_content: { type: 'boolean', default: false, description: 'Register the body as `content`' },
      follow_redirects: {
        anyOf: [
          { type: 'string', enum: ['none', 'safe', 'all', 'urllib2', 'yes', 'no'] },
          { type: 'boolean' },
        ],
        description: 'safe (default): follow redirects of GET and HEAD only; all; none',
      },
      timeout: {
        type: 'integer',
        minimum: 1,
        default: 30,
        description: 'Seconds to connect and between bytes',
      },
      creates: {
        type: 'string',
        minLength: 1,
        description: 'A path on the host: when it exists, no request is made',
      },
      removes: {
        type: 'string',
        minLength: 1,
        description: 'A path on the host: when it does not exist, no request is made',
      },
    },
  },
  check: {
    skip: 'check mode: uri does not run in check mode (as in Ansible); give a read-only request check_mode: false to run it',
  },
  async run(ctx, args): Promise<ModuleResult> {
    const { url } = args;
    const method = args.method.toUpperCase();
    let codes: number[];
    let req: HttpRequest;
    try {
      codes = statusCodes(args.status_code);
      const { body, contentType } = encodeBody(args.body, args.body_format);
      const base = requestArgs(args);
      const headers = { ...(base.headers ?? {}) };
      if (contentType && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-type'))
        headers['Content-Type'] = contentType;
      req = {
        ...base,
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
        timeout: args.timeout,
        followRedirects: followFor(args.follow_redirects, method),
      };
      curlConfig(req);
    } catch (e) {
      return fail((e as Error).message);
    }

    const guards: string[] = [];
    if (args.creates !== undefined)
      guards.push(`if [ -e ${shq(args.creates)} ]; then echo "guard=creates"; exit 0; fi`);
    if (args.removes !== undefined)
      guards.push(`if [ ! -e ${shq(args.removes)} ]; then echo "guard=removes"; exit 0; fi`);
    const script = [
      ...guards,
      toolLine(false),
      't=$(mktemp -d) || exit 21',
      `trap 'rm -rf "$t"' EXIT`,
      `w=$(curl -K - -o "$t/body" -D "$t/hdr" -w '%{http_code} %{url_effective}' 2>"$t/err"); rc=$?`,
      'echo "rc=$rc"',
      'echo "w=$w"',
      `echo ${MARK}; cat "$t/err"`,
      `echo ${MARK}; [ -f "$t/hdr" ] && cat "$t/hdr"`,
      `echo ${MARK}; if [ -f "$t/body" ]; then if command -v base64 >/dev/null 2>&1; then base64 < "$t/body"; else openssl base64 < "$t/body"; fi; fi`,
    ].join('\n');
    const started = Date.now();
    const r = await execOn(ctx, script, curlConfig(req));
    if (r.rc === 20 || r.rc === 21) return fail(r.stderr.trim() || `exit ${r.rc}`, { url });
    const guard = /^guard=(\w+)/m.exec(r.stdout)?.[1];
    if (guard === 'creates')
      return { changed: false, msg: `skipped, since ${args.creates} exists`, data: { url } };
    if (guard === 'removes')
      return { changed: false, msg: `skipped, since ${args.removes} does not exist`, data: { url } };
    const [head = '', err = '', hdr = '', b64 = ''] = r.stdout.split(`${MARK}\n`);
    const rc = Number(/^rc=(\d+)/m.exec(head)?.[1] ?? r.rc);
    const w = /^w=(\d+) ?(.*)$/m.exec(head);
    const elapsed = Math.round((Date.now() - started) / 1000);
    if (rc !== 0 || !w || w[1] === '000') {
      // Ansible reports a request that got no answer as status -1.
      return fail(
        `Status code was -1 and not ${JSON.stringify(codes)}: Request failed: ${err.trim() || `curl exit ${rc}`}`,
        { url, status: -1, elapsed },
      );
    }
    const status = Number(w[1]);
    const finalUrl = w[2] || url;
    const { headers } = parseHeaders(hdr);
    const bodyBuf = Buffer.from(b64.replace(/\s+/g, ''), 'base64');
    const content = bodyBuf.toString('utf8');
    const data: Record<string, unknown> = {};
    // As Ansible: each response header at the top level, lower-cased, '-' as '_'.
    for (const [k, v] of Object.entries(headers)) data[k.replace(/-/g, '_')] = v;
    Object.assign(data, {
      status,
      url: finalUrl,
      redirected: finalUrl !== url,
      elapsed,
      msg: `OK (${headers['content-length'] ?? 'unknown'} bytes)`,
    });
    const type = headers['content-type'] ?? '';
    if (/json/i.test(type) && content.trim() !== '') {
      try {
        data.json = JSON.parse(content);
      } catch {
        // Not JSON after all: no json field, as Ansible.
      }
    }
    if (args.return_content) data.content = content;
    if (!codes.includes(status))
      return fail(`Status code was ${status} and not ${JSON.stringify(codes)}: HTTP Error ${status}`, data);
    return { changed: false, msg: String(data.msg), data };
  },
});
