// tls_forwarder: steps A3.1-A3.3. A socat service on the mail server accepts TLS (1.3 among others) on a
// local port and connects to Exchange's EWS with the old TLS it speaks.
//
// Two ways, one result:
// - vendor (`package` given): install VK's socat-static package only when that version is not installed
//   (the core `package` module does it: name and version read from the file on the control node),
//   run `socat-static-tls-forwarder-install.sh NAME PORT HOST:PORT` only when the unit
//   socat-static-tls-forwarder-NAME does not exist or its ExecStart names another port or target, then
//   daemon-reload (only after the installer wrote a unit), start (restart when the unit changed) and enable.
// - own (no package): ewsplay writes socat-tls-forwarder-NAME.service running the distribution's socat,
//   `OPENSSL-LISTEN:PORT,...,verify=0 OPENSSL:HOST:PORT,verify=...,openssl-min-proto-version=...,
//   cipher=DEFAULT@SECLEVEL=0`. The listening side uses `cert`/`key` (files on the host) or, when not
//   given, a self-signed certificate ewsplay generates on the host with openssl (kept in cert_dir;
//   paste it into the installer's "server certificate" field or tick "skip verification"). It names
//   127.0.0.1 and `cert_names` (the address the installer's form gives the containers: a client that
//   verifies the certificate also checks that it names the address it connected to); one that lacks a
//   name asked for is generated again (the form must then get the new one).
//
// Round trips: one probe script reads the unit file, is-active, is-enabled (and socat and the certificate
// for the own unit); the vendor way adds the package module's one query of the installed version. When
// nothing differs that is all (1 own, 2 vendor). Changes take one more script, plus the package upload and
// dpkg/rpm run when the package is missing. Check mode runs only the reads and reports what it would do.
import { isIP } from 'node:net';
import { posix } from 'node:path';
import type { ExecResult } from '../connection/connection.js';
import type { FileDiff } from '../core/file-diff.js';
import { shq } from '../core/shell-quote.js';
import { defineModule, fail, type Planned, planned } from './kit.js';
import type { ModuleContext, ModuleResult } from './module.js';
import { packageModule } from './package.js';
import { execOn, waitPortOpen } from './remote.js';

type MinTls = 'TLS1' | 'TLS1.1' | 'TLS1.2';

/** The arguments as the schema below declares them (defaults applied). */
type ForwarderArgs = {
  name: string;
  listen_port: number;
  listen_address?: string;
  target_host: string;
  target_port: number;
  package?: string;
  installer: string;
  unit_dir: string;
  cert?: string;
  key?: string;
  cert_dir: string;
  cert_names: string[];
  min_tls: MinTls;
  target_ca?: string;
};

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const HOST_RE = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;
/** Paths that can sit inside a socat address and a unit's ExecStart without quoting. */
const PLAIN_PATH_RE = /^\/[A-Za-z0-9._/@+-]+$/;
const DEFAULT_INSTALLER = 'socat-static-tls-forwarder-install.sh';
/** How long a (re)started forwarder may take to accept connections. */
const LISTEN_WAIT_MS = 10_000;

export const tlsForwarderModule = defineModule<ForwarderArgs>({
  name: 'tls_forwarder',
  summary:
    "TLS forwarder from a local port to Exchange's old TLS: VK's socat-static package and installer, or ewsplay's own socat unit",
  args: {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'listen_port', 'target_host'],
    properties: {
      name: { type: 'string', pattern: NAME_RE.source, description: 'Service name (exch1 in the document)' },
      listen_port: {
        type: 'integer',
        minimum: 1,
        maximum: 65535,
        description: 'Port on the mail server that accepts TLS (9443 in the document)',
      },
      listen_address: {
        type: 'string',
        pattern: '^[0-9A-Fa-f.:]*$',
        description:
          "Own unit: the local address to listen on (127.0.0.1 when only the mail server's own containers connect); empty or absent: every address, as the vendor's installer does",
      },
      target_host: {
        type: 'string',
        pattern: HOST_RE.source,
        description: 'EWS server name or IPv4 address',
      },
      target_port: { type: 'integer', minimum: 1, maximum: 65535, default: 443, description: 'EWS port' },
      package: {
        type: 'string',
        minLength: 1,
        pattern: '\\.(deb|rpm)$',
        description: "VK's socat-static .deb or .rpm on the control node: the vendor's way",
      },
      installer: {
        type: 'string',
        minLength: 1,
        default: DEFAULT_INSTALLER,
        description:
          "Vendor's installer on the host: a path, or a name looked up on PATH (then /usr/local/bin)",
      },
      unit_dir: {
        type: 'string',
        pattern: PLAIN_PATH_RE.source,
        default: '/etc/systemd/system',
        description: 'Directory of the systemd unit files',
      },
      cert: {
        type: 'string',
        pattern: PLAIN_PATH_RE.source,
        description: 'Own unit: certificate (PEM) of the listening side, on the host; give key too',
      },
      key: {
        type: 'string',
        pattern: PLAIN_PATH_RE.source,
        description: 'Own unit: its private key, on the host',
      },
      cert_dir: {
        type: 'string',
        pattern: PLAIN_PATH_RE.source,
        default: '/etc/ewsplay/tls-forwarder',
        description: 'Own unit without cert/key: where the generated self-signed NAME.crt/NAME.key live',
      },
      cert_names: {
        type: 'array',
        items: { type: 'string', pattern: '^[A-Za-z0-9.:-]+$' },
        default: [],
        description:
          "Own unit without cert/key: host names and IP addresses the generated certificate names besides 127.0.0.1 (the mail server's address as the installer's form gives it to the containers)",
      },
      min_tls: {
        type: 'string',
        enum: ['TLS1', 'TLS1.1', 'TLS1.2'],
        default: 'TLS1.1',
        description:
          'Own unit: lowest TLS version towards Exchange (an Exchange 2013 on an old Windows speaks only TLS 1.0: TLS1)',
      },
      target_ca: {
        type: 'string',
        pattern: PLAIN_PATH_RE.source,
        description: "Own unit: CA file on the host to verify Exchange's certificate (default: not verified)",
      },
    },
    dependentRequired: { cert: ['key'], key: ['cert'] },
  },
  check: 'full',
  async run(ctx, rawArgs) {
    const args = normalized(rawArgs);
    const problem = argProblem(args);
    if (problem) return fail(problem);
    const pkg = args.package;
    if (!pkg) return ownWay(ctx, args);
    // The package is installed first (the installer it brings runs next): check mode predicts both, and
    // says "install", where a real run did install.
    return planned(
      () => vendorWay(ctx, args, pkg, true),
      () => vendorWay(ctx, args, pkg, false),
    );
  },
});

// ---- reading the host ------------------------------------------------------------------------------

const UNIT_MARK = '--ewsplay-unit--';
const END_MARK = '--ewsplay-end--';

export interface HostState {
  unit?: string;
  active: string;
  enabled: string;
  socat?: string;
  certExists: boolean;
  keyExists: boolean;
  /** The subjectAltName entries of the existing certificate (`DNS:x`, `IP:a.b.c.d`), when openssl read it. */
  certNames?: string[];
}

function unitPath(args: ForwarderArgs): string {
  return posix.join(args.unit_dir, unitName(args));
}

export function unitName(args: Pick<ForwarderArgs, 'name' | 'package'>): string {
  return `${args.package ? 'socat-static-tls-forwarder' : 'socat-tls-forwarder'}-${args.name}.service`;
}

/** The one read script: everything the decision needs. */
export function probeScript(args: ForwarderArgs): string {
  const unit = unitName(args);
  const lines = [
    `u=${shq(unitPath(args))}`,
    `if [ -f "$u" ]; then echo ${UNIT_MARK}; cat "$u"; echo; echo ${END_MARK}; fi`,
    'if command -v systemctl >/dev/null 2>&1; then',
    `  echo "active=$(systemctl is-active ${shq(unit)} 2>/dev/null)"`,
    `  echo "enabled=$(systemctl is-enabled ${shq(unit)} 2>/dev/null)"`,
    'else echo nosystemctl=1; fi',
  ];
  if (!args.package) {
    lines.push('echo "socat=$(command -v socat)"');
    const { cert, key } = certPaths(args);
    lines.push(`[ -f ${shq(cert)} ] && echo cert=1`, `[ -f ${shq(key)} ] && echo key=1`);
    // The names a generated certificate carries (openssl's text form, spaces removed).
    if (!(args.cert && args.key))
      lines.push(
        `if [ -f ${shq(cert)} ] && command -v openssl >/dev/null 2>&1; then`,
        `  echo "san=$(openssl x509 -noout -text -in ${shq(cert)} 2>/dev/null | sed -n '/X509v3 Subject Alternative Name/{n;p;}' | tr -d ' ')"`,
        'fi',
      );
  }
  lines.push('exit 0');
  return lines.join('\n');
}

export function parseProbe(stdout: string): HostState & { noSystemctl: boolean } {
  let unit: string | undefined;
  let rest = stdout;
  const start = stdout.indexOf(`${UNIT_MARK}\n`);
  if (start >= 0) {
    const end = stdout.indexOf(`\n${END_MARK}\n`, start);
    // `echo` after `cat` puts the end mark on a line of its own: the unit is what lies before it.
    unit = stdout.slice(start + UNIT_MARK.length + 1, end);
    rest = stdout.slice(0, start) + stdout.slice(end + END_MARK.length + 2);
  }
  const kv = new Map<string, string>();
  for (const line of rest.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) kv.set(line.slice(0, eq), line.slice(eq + 1).trim());
  }
  const state: HostState & { noSystemctl: boolean } = {
    active: kv.get('active') || 'inactive',
    enabled: kv.get('enabled') || 'not-found',
    certExists: kv.get('cert') === '1',
    keyExists: kv.get('key') === '1',
    noSystemctl: kv.get('nosystemctl') === '1',
  };
  if (unit !== undefined) state.unit = unit;
  const socat = kv.get('socat');
  if (socat) state.socat = socat;
  const san = kv.get('san');
  if (san !== undefined)
    state.certNames = san
      .split(',')
      .filter((n) => n !== '')
      .map((n) => n.replace(/^IPAddress:/i, 'IP:'));
  return state;
}

async function probe(ctx: ModuleContext, args: ForwarderArgs) {
  const r = await execOn(ctx, probeScript(args));
  if (r.rc !== 0) throw new Error(`cannot inspect the forwarder: ${r.stderr.trim() || `exit ${r.rc}`}`);
  return parseProbe(r.stdout);
}

// ---- what a unit forwards ------------------------------------------------------------------------

export interface ForwardSpec {
  listenPort?: number;
  target?: string;
}

/**
 * The listening port and target of a unit, read from its ExecStart. socat addresses are recognized
 * (OPENSSL-LISTEN:PORT, TCP-LISTEN:PORT; OPENSSL:HOST:PORT, TCP:HOST:PORT, ...); for any other ExecStart
 * (a vendor wrapper script), the arguments `PORT` and `HOST:PORT` are looked for as words.
 */
export function readForwardSpec(unit: string): ForwardSpec {
  const exec = /^ExecStart=[-@:+!]*(.*)$/m.exec(unit)?.[1] ?? '';
  const spec: ForwardSpec = {};
  const listen =
    /(?:^|\s)(?:OPENSSL-LISTEN|SSL-L|TCP-LISTEN|TCP4-LISTEN|TCP6-LISTEN|TCP-L|TCP4-L):(\d+)/i.exec(exec);
  const target = /(?:^|\s)(?:OPENSSL|SSL|OPENSSL-CONNECT|TCP|TCP4|TCP6|TCP-CONNECT):([^\s,:]+):(\d+)/i.exec(
    exec,
  );
  if (listen?.[1]) spec.listenPort = Number(listen[1]);
  if (target?.[1] && target[2]) spec.target = `${target[1]}:${target[2]}`;
  if (!listen && !target) {
    const words = exec.split(/\s+/);
    const hostPort = words.find((w) => /^[A-Za-z0-9.-]+:\d+$/.test(w));
    const port = words.find((w) => /^\d+$/.test(w));
    if (hostPort) spec.target = hostPort;
    if (port) spec.listenPort = Number(port);
  }
  return spec;
}

function describeSpec(spec: ForwardSpec): string {
  return `:${spec.listenPort ?? '?'} -> ${spec.target ?? '?'}`;
}

// ---- the own unit --------------------------------------------------------------------------------

function certPaths(args: ForwarderArgs): { cert: string; key: string; generated: boolean } {
  if (args.cert && args.key) return { cert: args.cert, key: args.key, generated: false };
  return {
    cert: posix.join(args.cert_dir, `${args.name}.crt`),
    key: posix.join(args.cert_dir, `${args.name}.key`),
    generated: true,
  };
}

/** The unit ewsplay writes in the own way. */
export function ownUnit(args: ForwarderArgs, socat: string): string {
  const { cert, key } = certPaths(args);
  const target = `${args.target_host}:${args.target_port}`;
  const verify = args.target_ca ? `verify=1,cafile=${args.target_ca}` : 'verify=0';
  return [
    `# Written by ewsplay (tls_forwarder ${args.name}); changes here are undone on the next run.`,
    '[Unit]',
    `Description=ewsplay TLS forwarder ${args.name} (:${args.listen_port} -> ${target})`,
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${socat} OPENSSL-LISTEN:${args.listen_port},${args.listen_address ? `bind=${args.listen_address},` : ''}reuseaddr,fork,cert=${cert},key=${key},verify=0 OPENSSL:${target},${verify},openssl-min-proto-version=${args.min_tls},cipher=DEFAULT@SECLEVEL=0`,
    'Restart=always',
    'RestartSec=2',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/**
 * The lines that make the service run with the current unit: reload (only when the unit file changed),
 * (re)start (restart when the unit or what it reads changed), enable, check.
 */
function serviceLines(
  unit: string,
  state: HostState,
  unitChanged: boolean,
  actions: string[],
  restart = unitChanged,
): string[] {
  const lines: string[] = [];
  const u = shq(unit);
  if (unitChanged) {
    lines.push('systemctl daemon-reload');
    actions.push('daemon-reload');
  }
  if (state.active === 'active' && restart) {
    lines.push(`systemctl restart ${u}`);
    actions.push('restart');
  } else if (state.active !== 'active') {
    lines.push(`systemctl start ${u}`);
    actions.push('start');
  }
  if (state.enabled !== 'enabled') {
    lines.push(`systemctl enable ${u}`);
    actions.push('enable');
  }
  if (lines.length > 0)
    lines.push(
      `systemctl is-active --quiet ${u} || { echo "${unit} is not active after start:" >&2; systemctl status ${u} >&2 2>&1 | tail -n 20 >&2; exit 3; }`,
    );
  return lines;
}

async function ownWay(ctx: ModuleContext, args: ForwarderArgs): Promise<ModuleResult | Planned> {
  const state = await probe(ctx, args);
  if (state.noSystemctl)
    return fail(`systemctl is not available on ${ctx.host}: the forwarder needs systemd`);
  if (!state.socat) {
    // Check mode predicts the unit with the path an install of socat would give; a real run fails.
    const socat = '/usr/bin/socat';
    const warning = `socat is not installed on ${ctx.host} yet (the unit is predicted with ${socat})`;
    return planned(
      () => ownPlan(ctx, args, state, socat, [warning]),
      async () =>
        fail(`socat is not installed on ${ctx.host}: install the distribution's socat package first`),
    );
  }
  return ownPlan(ctx, args, state, state.socat, []);
}

async function ownPlan(
  ctx: ModuleContext,
  args: ForwarderArgs,
  state: Awaited<ReturnType<typeof probe>>,
  socat: string,
  warnings: string[],
): Promise<ModuleResult | Planned> {
  const { cert, key, generated } = certPaths(args);
  if (!generated && !(state.certExists && state.keyExists))
    return fail(`${state.certExists ? key : cert} does not exist on ${ctx.host}`);
  const missingNames = generated && state.certExists ? namesMissing(certSans(args), state.certNames) : [];
  const needCert = generated && (!(state.certExists && state.keyExists) || missingNames.length > 0);
  const unit = unitName(args);
  const want = ownUnit(args, socat);
  const unitChanged = state.unit !== want;
  const actions: string[] = [];
  const lines = ['set -e'];
  if (needCert) {
    actions.push(
      missingNames.length > 0 && state.keyExists
        ? `generate the self-signed certificate ${cert} again: it does not name ${missingNames.join(', ')}`
        : `generate a self-signed certificate ${cert}`,
    );
    lines.push(...certLines(args, ctx.host, cert, key));
  }
  if (unitChanged) {
    actions.push(state.unit === undefined ? `write ${unitPath(args)}` : `rewrite ${unitPath(args)}`);
    lines.push(...writeUnitLines(unitPath(args)));
  }
  lines.push(...serviceLines(unit, state, unitChanged, actions, unitChanged || needCert));
  const diff: FileDiff[] =
    ctx.diff && unitChanged ? [{ path: unitPath(args), before: state.unit ?? '', after: want }] : [];
  const data = {
    unit,
    unit_file: unitPath(args),
    listen_port: args.listen_port,
    target: `${args.target_host}:${args.target_port}`,
    cert,
    way: 'own',
    actions,
  };
  return finish(ctx, { lines, stdin: want, actions, data, diff, warnings, before: state.unit });
}

/** What the generated certificate names: 127.0.0.1 and cert_names, as `IP:a.b.c.d` / `DNS:name`. */
export function certSans(args: Pick<ForwarderArgs, 'cert_names'>): string[] {
  const out: string[] = [];
  for (const n of ['127.0.0.1', ...args.cert_names]) {
    const entry = isIP(n) ? `IP:${n}` : `DNS:${n.toLowerCase()}`;
    if (!out.includes(entry)) out.push(entry);
  }
  return out;
}

/** The entries of `wanted` an existing certificate does not carry (none when its names are unknown). */
export function namesMissing(wanted: string[], present: string[] | undefined): string[] {
  if (present === undefined) return [];
  const norm = (e: string) => {
    const ip = /^IP:(.*)$/i.exec(e)?.[1];
    return ip !== undefined ? `IP:${canonicalIp(ip)}` : e.toLowerCase();
  };
  const have = new Set(present.map(norm));
  return wanted.filter((w) => !have.has(norm(w))).map((w) => w.replace(/^(IP|DNS):/, ''));
}

/** An IP address as one string whatever its spelling (OpenSSL prints IPv6 as 8 full groups). */
function canonicalIp(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  const [head = '', tail] = ip.toLowerCase().split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => Number.parseInt(g, 16).toString(16)).join(':');
}

function certLines(args: ForwarderArgs, host: string, cert: string, key: string): string[] {
  const dir = shq(args.cert_dir);
  const subj = shq(`/CN=${host}`);
  const san = shq(`subjectAltName=${certSans(args).join(',')}`);
  return [
    `mkdir -p ${dir}`,
    `umask 077`,
    `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 -subj ${subj} -addext ${san} -keyout ${shq(`${key}.tmp`)} -out ${shq(`${cert}.tmp`)} 2>/dev/null || { echo 'openssl could not make a certificate' >&2; exit 4; }`,
    `chmod 0644 ${shq(`${cert}.tmp`)}`,
    `mv -f ${shq(`${key}.tmp`)} ${shq(key)}`,
    `mv -f ${shq(`${cert}.tmp`)} ${shq(cert)}`,
    'umask 022',
  ];
}

/** Writes the unit from stdin: temp file beside it, then rename. */
function writeUnitLines(path: string): string[] {
  const dir = shq(posix.dirname(path));
  return [
    `mkdir -p ${dir}`,
    `t=$(mktemp ${shq(`${path}.XXXXXX`)})`,
    'cat > "$t"',
    'chmod 0644 "$t"',
    `mv -f "$t" ${shq(path)}`,
  ];
}

// ---- the vendor's way ----------------------------------------------------------------------------

async function vendorWay(
  ctx: ModuleContext,
  args: ForwarderArgs,
  pkgArg: string,
  predicting: boolean,
): Promise<ModuleResult | Planned> {
  // The package first: in a real run the installer it brings must be there before it is run.
  const pkg = await packageModule.run(ctx, { src: pkgArg });
  if (pkg.failed) return { ...pkg, msg: `package ${pkgArg}: ${pkg.msg}` };
  const state = await probe(ctx, args);
  if (state.noSystemctl)
    return fail(`systemctl is not available on ${ctx.host}: the forwarder needs systemd`);
  const target = `${args.target_host}:${args.target_port}`;
  const unit = unitName(args);
  const current = state.unit !== undefined ? readForwardSpec(state.unit) : undefined;
  const unitOk = current?.listenPort === args.listen_port && current.target === target;
  const pkgData = (pkg.data ?? {}) as { name?: string; version?: string };
  const actions: string[] = [];
  if (pkg.changed) actions.push(`${predicting ? 'install' : 'installed'} ${pkgData.name} ${pkgData.version}`);
  const lines = ['set -e'];
  if (!unitOk) {
    actions.push(
      current
        ? `re-run the installer: the unit forwards ${describeSpec(current)}, wanted :${args.listen_port} -> ${target}`
        : `run the installer for ${unit}`,
    );
    const inst = args.installer.includes('/')
      ? shq(args.installer)
      : `"$(command -v ${shq(args.installer)} || echo /usr/local/bin/${args.installer.replace(/[^A-Za-z0-9._-]/g, '')})"`;
    lines.push(
      `${inst} ${shq(args.name)} ${args.listen_port} ${shq(target)} >&2`,
      `u=${shq(unitPath(args))}`,
      `[ -f "$u" ] || { echo "the installer wrote no $u (is unit_dir right?)" >&2; exit 6; }`,
      `echo ${UNIT_MARK}; cat "$u"; echo; echo ${END_MARK}`,
    );
  }
  const serviceActions: string[] = [];
  lines.push(...serviceLines(unit, state, !unitOk, serviceActions));
  actions.push(...serviceActions);
  const data: Record<string, unknown> = {
    unit,
    unit_file: unitPath(args),
    listen_port: args.listen_port,
    target,
    way: 'vendor',
    package: pkgData,
    actions,
  };
  const warnings = args.listen_address
    ? [`listen_address applies to ewsplay's own unit: the vendor's installer listens on every address`]
    : [];
  // Only the package changed (or nothing): no script to run.
  if (unitOk && serviceActions.length === 0) return report(actions, data, [], warnings, predicting);
  return finish(ctx, {
    lines,
    actions,
    data,
    diff: [],
    warnings,
    before: state.unit,
    expectTarget: target,
    expectPort: args.listen_port,
  });
}

// ---- acting --------------------------------------------------------------------------------------

interface Plan {
  lines: string[];
  stdin?: string;
  actions: string[];
  data: Record<string, unknown>;
  diff: FileDiff[];
  warnings: string[];
  before: string | undefined;
  expectTarget?: string;
  expectPort?: number;
}

/** The result of a plan: what it would do (`predicting`, check mode) or did. */
function report(
  actions: string[],
  data: Record<string, unknown>,
  diff: FileDiff[],
  warnings: string[],
  predicting: boolean,
): ModuleResult {
  const target = `${data.unit} (:${data.listen_port} -> ${data.target})`;
  return {
    changed: actions.length > 0,
    msg:
      actions.length === 0
        ? `${target} installed, running and enabled`
        : `${predicting ? 'would ' : ''}${actions.join('; ')}`,
    data,
    ...(diff.length > 0 ? { diff } : {}),
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

async function finish(ctx: ModuleContext, plan: Plan): Promise<ModuleResult | Planned> {
  const { actions, data, diff, warnings } = plan;
  if (actions.length === 0) return report(actions, data, diff, warnings, false);
  return planned(report(actions, data, diff, warnings, true), () => act(ctx, plan));
}

async function act(ctx: ModuleContext, plan: Plan): Promise<ModuleResult> {
  const { actions, data, diff, warnings } = plan;
  const r: ExecResult = await execOn(ctx, plan.lines.join('\n'), plan.stdin);
  const out = parseProbe(r.stdout);
  if (r.rc !== 0)
    return {
      changed: true,
      failed: true,
      msg: `the forwarder could not be set up: ${r.stderr.trim() || r.stdout.trim() || `exit ${r.rc}`}`,
      data,
      details: { stdout: r.stdout, stderr: r.stderr },
    };
  if (plan.expectTarget && out.unit !== undefined) {
    const spec = readForwardSpec(out.unit);
    if (spec.target !== plan.expectTarget || spec.listenPort !== plan.expectPort)
      return {
        changed: true,
        failed: true,
        msg: `the installer wrote a unit forwarding ${describeSpec(spec)}, not :${plan.expectPort} -> ${plan.expectTarget}`,
        data,
      };
  }
  // "active" only says the process lives: the run goes on once the port accepts, as the probe step needs.
  const port = plan.expectPort ?? (data.listen_port as number | undefined);
  if (port && actions.some((a) => a === 'start' || a === 'restart')) {
    if (!(await waitPortOpen(ctx, '127.0.0.1', port, LISTEN_WAIT_MS)))
      return {
        changed: true,
        failed: true,
        msg: `the forwarder ${String(data.unit)} is active but nothing accepts on port ${port} after ${LISTEN_WAIT_MS / 1000} s`,
        data,
      };
  }
  if (ctx.diff && plan.expectTarget && out.unit !== undefined && out.unit !== plan.before)
    diff.push({ path: String(data.unit_file), before: plan.before ?? '', after: out.unit });
  return {
    changed: true,
    msg: actions.join('; '),
    data,
    details: { output: r.stderr },
    ...(diff.length > 0 ? { diff } : {}),
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

// ---- arguments -----------------------------------------------------------------------------------

function argProblem(a: ForwarderArgs): string | undefined {
  if (!NAME_RE.test(a.name))
    return `name ${JSON.stringify(a.name)} must be letters, digits, . _ - (like exch1)`;
  if (!HOST_RE.test(a.target_host))
    return `target_host ${JSON.stringify(a.target_host)} is not a host name or IPv4 address`;
  for (const k of ['unit_dir', 'cert', 'key', 'cert_dir', 'target_ca'] as const) {
    const v = a[k];
    if (v !== undefined && !PLAIN_PATH_RE.test(v))
      return `${k} must be an absolute path of letters, digits and . _ / @ + - (it goes into a socat address and a unit file)`;
  }
  if (a.listen_address !== undefined && !/^[0-9A-Fa-f.:]*$/.test(a.listen_address))
    return `listen_address ${JSON.stringify(a.listen_address)} must be an IP address`;
  if ((a.cert === undefined) !== (a.key === undefined)) return 'give cert and key together';
  for (const n of a.cert_names)
    if (!isIP(n) && !HOST_RE.test(n))
      return `cert_names: ${JSON.stringify(n)} is not a host name or IP address`;
  if (a.package && (a.cert || a.target_ca))
    return "cert, key and target_ca apply to ewsplay's own unit, not with package";
  return undefined;
}

/** The arguments as the module uses them: directories without a trailing slash, no empty names. */
function normalized(a: ForwarderArgs): ForwarderArgs {
  return {
    ...a,
    unit_dir: a.unit_dir.replace(/(.)\/+$/, '$1'),
    cert_dir: a.cert_dir.replace(/(.)\/+$/, '$1'),
    cert_names: a.cert_names.map(String).filter((n) => n !== ''),
  };
}
