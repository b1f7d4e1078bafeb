// package: installs a given .deb or .rpm file; skips when that exact version is installed. The host's
// package tools and the installed version are read in one round trip (name and version come from the file:
// on the control node for `src`, on the host for `path`); only a missing version is uploaded and installed.
import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import { shq } from '../core/shell-quote.js';
import { defineModule, fail, planned } from './kit.js';
import type { ModuleContext } from './module.js';
import { type PackageKind, readPackageMeta } from './package-meta.js';
import { readControlFile, taskExecOptions } from './remote.js';

const TOOL: Record<PackageKind, { query: string; install: string }> = {
  deb: { query: 'dpkg-query', install: 'dpkg' },
  rpm: { query: 'rpm', install: 'rpm' },
};

function exec(ctx: ModuleContext, script: string) {
  return ctx.conn.exec(script, taskExecOptions(ctx));
}

/**
 * The read script: which package tools the host has, the file's name and version when it is on the host,
 * and every installed version of the package (`installed=` lines; for dpkg with its status).
 */
export function queryScript(kind: PackageKind, from: { name: string } | { path: string }): string {
  const lines = [
    'for t in dpkg dpkg-query rpm; do command -v "$t" >/dev/null 2>&1 && echo "has=$t"; done',
    `command -v ${TOOL[kind].query} >/dev/null 2>&1 || exit 0`,
  ];
  if ('path' in from) {
    lines.push(`p=${shq(from.path)}`, '[ -f "$p" ] || { echo missing=1; exit 0; }');
    if (kind === 'deb')
      lines.push('n=$(dpkg-deb -f "$p" Package) || exit 3', 'v=$(dpkg-deb -f "$p" Version) || exit 3');
    else
      lines.push(
        `q=$(rpm -qp --qf '%{NAME}|%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}' "$p") || exit 3`,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion
        'n=${q%%|*}; v=${q#*|}',
      );
    lines.push('echo "name=$n"; echo "version=$v"');
  } else lines.push(`n=${shq(from.name)}`);
  if (kind === 'deb')
    lines.push(`dpkg-query -W -f='installed=\${Status}|\${Version}\\n' -- "$n" 2>/dev/null || true`);
  else
    lines.push(
      `i=$(rpm -q --qf '%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\\n' -- "$n" 2>/dev/null) && printf '%s\\n' "$i" | sed 's/^/installed=/'`,
      'true',
    );
  return lines.join('\n');
}

interface Query {
  tools: Set<string>;
  missing: boolean;
  name?: string;
  version?: string;
  installed: string[];
}

function parseQuery(kind: PackageKind, stdout: string): Query {
  const q: Query = { tools: new Set(), missing: false, installed: [] };
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (key === 'has') q.tools.add(value);
    else if (key === 'missing') q.missing = true;
    else if (key === 'name') q.name = value;
    else if (key === 'version') q.version = value;
    else if (key === 'installed') {
      if (kind === 'rpm') q.installed.push(value);
      else {
        // dpkg also lists removed packages that left config files: only "... installed" counts.
        const [status = '', version = ''] = value.split('|');
        if (status.split(' ')[2] === 'installed') q.installed.push(version);
      }
    }
  }
  return q;
}

function kindOfPath(path: string): PackageKind | undefined {
  return path.endsWith('.deb') ? 'deb' : path.endsWith('.rpm') ? 'rpm' : undefined;
}

export const packageModule = defineModule<Record<string, unknown>>({
  name: 'package',
  summary:
    'Install a given .deb or .rpm file (dpkg or rpm, chosen by the file); skip when that version is installed',
  args: {
    type: 'object',
    additionalProperties: false,
    oneOf: [
      { properties: { src: true }, required: ['src'] },
      { properties: { path: true }, required: ['path'] },
    ],
    properties: {
      src: {
        type: 'string',
        minLength: 1,
        description:
          'A .deb or .rpm file on the control node (relative to the playbook, its files/ folder first), uploaded when needed',
      },
      path: {
        type: 'string',
        minLength: 1,
        pattern: '\\.(deb|rpm)$',
        description: 'A .deb or .rpm file already on the host',
      },
      state: {
        type: 'string',
        enum: ['present'],
        default: 'present',
        description: 'Only present is supported',
      },
    },
  },
  check: 'full',
  async run(ctx, args) {
    let kind: PackageKind;
    let local: { file: string; content: Buffer } | undefined;
    let query: string;
    let meta: { name: string; version: string } | undefined;
    if (typeof args.src === 'string') {
      const { path: file, content } = await readControlFile(ctx, args.src, 'files');
      const read = readPackageMeta(content, file);
      ({ kind } = read);
      meta = read;
      local = { file, content };
      query = queryScript(kind, { name: read.name });
    } else {
      const path = String(args.path);
      const k = kindOfPath(path);
      if (!k) return fail(`${path}: the name must end in .deb or .rpm`);
      kind = k;
      query = queryScript(kind, { path });
    }

    const r = await exec(ctx, query);
    if (r.timedOut) return fail(`timed out after ${ctx.timeoutMs / 1000}s`);
    if (r.rc !== 0) return fail(`cannot query packages: ${r.stderr.trim() || `exit ${r.rc}`}`);
    const q = parseQuery(kind, r.stdout);
    const tool = TOOL[kind];
    if (!q.tools.has(tool.query) || !q.tools.has(tool.install)) {
      const has = ['dpkg', 'rpm'].filter((t) => q.tools.has(t));
      return fail(
        `a .${kind} needs ${tool.install} on the host, which ${has.length ? `has only ${has.join(' and ')}` : 'has neither dpkg nor rpm'}`,
      );
    }
    if (q.missing) return fail(`${String(args.path)} does not exist on the host`);
    meta ??= { name: q.name ?? '', version: q.version ?? '' };
    const data = {
      name: meta.name,
      version: meta.version,
      installed_before: q.installed.length ? q.installed.join(', ') : null,
    };
    if (q.installed.includes(meta.version))
      return { changed: false, msg: `${meta.name} ${meta.version} is already installed`, data };
    const was = q.installed.length ? ` (replacing ${q.installed.join(', ')})` : '';
    return planned(
      { changed: true, msg: `would install ${meta.name} ${meta.version}${was}`, data },
      async () => {
        // Upload beside nothing else of ours: a fresh name in /tmp, removed after the install whatever happens.
        const path = local
          ? `/tmp/ewsplay-${randomBytes(8).toString('hex')}-${basename(local.file)}`
          : String(args.path);
        if (local)
          await ctx.conn.put(path, local.content, {
            mode: '0600',
            timeoutMs: ctx.timeoutMs,
            signal: ctx.signal,
            ...(ctx.become ? { become: ctx.become } : {}),
          });
        const install =
          kind === 'deb'
            ? `DEBIAN_FRONTEND=noninteractive dpkg -i ${shq(path)}`
            : // --oldpackage: the given version is wanted even when a newer one is installed.
              `rpm -Uvh --oldpackage ${shq(path)}`;
        const done = await exec(ctx, local ? `${install}; rc=$?; rm -f ${shq(path)}; exit $rc` : install);
        if (done.timedOut || done.rc !== 0)
          return {
            changed: true,
            failed: true,
            msg: `${done.timedOut ? `timed out after ${ctx.timeoutMs / 1000}s: ` : ''}${install.replace(/^\S+=\S+ /, '')} failed: ${(done.stderr.trim() || done.stdout.trim()).slice(-2000)}`,
            data,
          };
        return { changed: true, msg: `installed ${meta.name} ${meta.version}${was}`, data };
      },
    );
  },
});
