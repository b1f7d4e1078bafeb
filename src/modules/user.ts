// user: Ansible's ansible.builtin.user on Linux, for its common arguments. One round trip reads the account
// (getent passwd, id -G/-Gn, the shadow hash only when a password is to be compared), the groups it names and
// the tools the host has; a plan made on the control node says what to run (useradd, usermod, userdel);
// one script runs it and reads the account back.
//
// The password is an already-hashed string, as Ansible takes it. It is a secret: registered with the run's
// Secrets, sent to `chpasswd -e` on stdin, never in argv (Ansible passes it to useradd/usermod -p, where
// any user can read it in ps), never in output, diff or the registered result.
import { posix } from 'node:path';
import { shq } from '../core/shell-quote.js';
import { type GroupEntry, groupLookup, parseGroupEntry, probeLines, SBIN_PATH, toolLookup } from './group.js';
import { defineModule, fail, type Planned, planned } from './kit.js';
import type { ModuleContext, ModuleResult } from './module.js';
import { execOn } from './remote.js';

/** A passwd(5) line as getent prints it: name:password:uid:gid:gecos:home:shell */
export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  comment: string;
  home: string;
  shell: string;
}

export function parsePasswdEntry(line: string): PasswdEntry | undefined {
  const f = line.replace(/\r?\n$/, '').split(':');
  if (f.length < 7 || !f[0] || !/^\d+$/.test(f[2]!) || !/^\d+$/.test(f[3]!)) return undefined;
  return {
    name: f[0],
    uid: Number(f[2]),
    gid: Number(f[3]),
    comment: f[4]!,
    home: f[5]!,
    shell: f.slice(6).join(':'),
  };
}

/** `id -G NAME` and `id -Gn NAME` side by side: each group id with its name (the id when it has none). */
export function parseIdGroups(gids: string, names: string): { gid: number; name: string }[] {
  const ids = gids.trim().split(/\s+/).filter(Boolean);
  const ns = names.trim().split(/\s+/).filter(Boolean);
  return ids.map((id, i) => ({ gid: Number(id), name: ns.length === ids.length ? ns[i]! : id }));
}

export interface UserWant {
  name: string;
  state: 'present' | 'absent';
  uid?: number;
  nonUnique: boolean;
  /** The primary group, a name or a gid. */
  group?: string;
  /** Supplementary groups (names or gids); undefined: not managed. An empty list: none. */
  groups?: string[];
  append: boolean;
  shell?: string;
  home?: string;
  createHome: boolean;
  moveHome: boolean;
  system: boolean;
  comment?: string;
  password?: string;
  updatePassword: 'always' | 'on_create';
  remove: boolean;
  force: boolean;
}

export interface UserProbe {
  user?: PasswdEntry;
  /** Every group of the user (id -G), the primary one included. */
  memberOf: { gid: number; name: string }[];
  /** The second field of the shadow entry (only read when a password is to be compared). */
  shadowHash?: string;
  /** Whether the home the account will have exists (only read when create_home). */
  homeExists?: boolean;
  /** Each group the task names, as the host resolves it (undefined: no such group). */
  groups: Map<string, GroupEntry | undefined>;
  /** A group with the user's name exists (useradd then needs -N, as Ansible passes it). */
  selfGroup: boolean;
  tools: Set<string>;
}

const TOOLS = ['useradd', 'usermod', 'userdel', 'chpasswd'];

/** The group queries of a task: the primary group, then the supplementary ones. */
function groupQueries(want: UserWant): string[] {
  return [...new Set([...(want.group !== undefined ? [want.group] : []), ...(want.groups ?? [])])];
}

export function userProbeScript(want: UserWant): string {
  const lines = [
    SBIN_PATH,
    `n=${shq(want.name)}`,
    `e=$(getent passwd "$n" 2>/dev/null) || e=$(awk -F: -v n="$n" '$1 == n { print; exit }' /etc/passwd 2>/dev/null)`,
    'if [ -n "$e" ]; then',
    `  printf '%s\\n' "passwd=$e" "gids=$(id -G "$n" 2>/dev/null)" "gnames=$(id -Gn "$n" 2>/dev/null)"`,
  ];
  if (want.state === 'present' && want.password !== undefined && want.updatePassword === 'always')
    lines.push(
      `  s=$(getent shadow "$n" 2>/dev/null) || s=$(awk -F: -v n="$n" '$1 == n { print; exit }' /etc/shadow 2>/dev/null)`,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a JS template
      '  [ -n "$s" ] && { s=${s#*:}; printf \'%s\\n\' "shadow=${s%%:*}"; }',
    );
  if (want.state === 'present' && want.createHome) {
    const home = want.home !== undefined ? shq(want.home) : `"$(printf '%s' "$e" | cut -d: -f6)"`;
    lines.push(`  h=${home}`, '  if [ -e "$h" ]; then echo home=1; else echo home=0; fi');
  }
  lines.push('fi');
  for (const [i, q] of groupQueries(want).entries()) lines.push(groupLookup(`g${i}`, q));
  lines.push(groupLookup('self', want.name), toolLookup(TOOLS), 'exit 0');
  return lines.join('\n');
}

export function parseUserProbe(stdout: string, want: UserWant): UserProbe {
  const kv = probeLines(stdout);
  const tools = new Set<string>();
  for (const line of stdout.split('\n')) if (line.startsWith('tool=')) tools.add(line.slice(5));
  const user = parsePasswdEntry(kv.get('passwd') ?? '');
  const groups = new Map<string, GroupEntry | undefined>();
  for (const [i, q] of groupQueries(want).entries()) groups.set(q, parseGroupEntry(kv.get(`g${i}`) ?? ''));
  const self = parseGroupEntry(kv.get('self') ?? '');
  const probe: UserProbe = {
    // getent takes a number as a uid: an account found under another name is not this one.
    ...(user && user.name === want.name ? { user } : {}),
    memberOf: parseIdGroups(kv.get('gids') ?? '', kv.get('gnames') ?? ''),
    groups,
    selfGroup: self?.name === want.name,
    tools,
  };
  if (kv.has('shadow')) probe.shadowHash = kv.get('shadow')!;
  if (kv.has('home')) probe.homeExists = kv.get('home') === '1';
  return probe;
}

export interface UserPlan {
  changed: boolean;
  /** The sh to run (undefined when nothing changes). */
  script?: string;
  /** What the script reads on stdin (`name:hash` for chpasswd -e): the password never goes in argv. */
  stdin?: string;
  /** What changes, for people (never the password). */
  msg: string;
  /** Set when the wanted state cannot be reached: the task fails with it, in check mode too. */
  error?: string;
}

const refuse = (error: string): UserPlan => ({ changed: false, msg: '', error });

/** The sh that makes a missing home as Ansible's create_homedir does: /etc/skel, login.defs' mode, owner. */
function createHomeScript(name: string, home: string): string {
  return [
    `h=${shq(home)}`,
    'mkdir -p "$(dirname "$h")" || exit 1',
    'if [ -d /etc/skel ]; then cp -R -P /etc/skel "$h" || exit 1; else mkdir "$h" || exit 1; fi',
    // HOME_MODE first, else 0777 & ~UMASK, else 0755 (useradd's defaults).
    `m=$(awk '$1 == "HOME_MODE" { print $2; exit }' /etc/login.defs 2>/dev/null)`,
    `[ -n "$m" ] || { u=$(awk '$1 == "UMASK" { print $2; exit }' /etc/login.defs 2>/dev/null); [ -n "$u" ] && m=$(printf '%o' $((0777 & ~0$u))); }`,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a JS template
    'chmod "${m:-755}" "$h" || exit 1',
    `chown -R "$(id -u ${shq(name)}):$(id -g ${shq(name)})" "$h" || exit 1`,
  ].join('\n');
}

/** What to run to get from the probed account to the wanted one (Ansible's create/modify/remove). */
export function planUser(probe: UserProbe, want: UserWant): UserPlan {
  const n = shq(want.name);
  const need = (tool: string) =>
    probe.tools.has(tool)
      ? undefined
      : refuse(
          `${tool} not found on the host: install the shadow tools (the passwd or shadow-utils package)`,
        );

  if (want.state === 'absent') {
    if (!probe.user) return { changed: false, msg: `user ${want.name} is absent` };
    const missing = need('userdel');
    if (missing) return missing;
    const opts = `${want.force ? ' -f' : ''}${want.remove ? ' -r' : ''}`;
    return { changed: true, msg: `user ${want.name} removed`, script: `userdel${opts} ${n}` };
  }

  // Every named group must exist, as Ansible checks before it runs anything.
  for (const q of groupQueries(want)) if (!probe.groups.get(q)) return refuse(`Group ${q} does not exist`);
  if (want.nonUnique && want.uid === undefined) return refuse('non_unique needs uid');
  const pw = want.password !== undefined ? { stdin: `${want.name}:${want.password}\n` } : undefined;
  if (pw) {
    const missing = need('chpasswd');
    if (missing) return missing;
  }

  if (!probe.user) {
    const missing = need('useradd');
    if (missing) return missing;
    const a: string[] = [];
    if (want.uid !== undefined) a.push('-u', String(want.uid), ...(want.nonUnique ? ['-o'] : []));
    if (want.group !== undefined) a.push('-g', shq(want.group));
    // Without -N, useradd (USERGROUPS_ENAB) would try to make the group of the user's name, and fail.
    else if (probe.selfGroup) a.push('-N');
    if (want.groups?.length) a.push('-G', shq(want.groups.join(',')));
    if (want.comment !== undefined) a.push('-c', shq(want.comment));
    if (want.home !== undefined) a.push('-d', shq(want.home));
    if (want.shell !== undefined) a.push('-s', shq(want.shell));
    a.push(want.createHome ? '-m' : '-M');
    if (want.system) a.push('-r');
    const lines = [];
    // useradd -m makes the home but not its parent directories: Ansible creates those first.
    if (want.createHome && want.home !== undefined)
      lines.push(`mkdir -p ${shq(posix.dirname(want.home))} || exit 1`);
    lines.push(`useradd ${a.join(' ')} ${n} </dev/null || exit $?`);
    if (pw) lines.push('chpasswd -e || exit $?');
    return { changed: true, msg: `user ${want.name} added`, script: lines.join('\n'), ...(pw ?? {}) };
  }

  const user = probe.user;
  const a: string[] = [];
  const what: string[] = [];
  if (want.uid !== undefined && user.uid !== want.uid) {
    a.push('-u', String(want.uid), ...(want.nonUnique ? ['-o'] : []));
    what.push(`uid ${user.uid} -> ${want.uid}`);
  }
  const primary = want.group !== undefined ? probe.groups.get(want.group)! : undefined;
  const primaryGid = primary?.gid ?? user.gid;
  if (primary && primary.gid !== user.gid) {
    a.push('-g', String(primary.gid));
    what.push(`group ${user.gid} -> ${primary.gid}`);
  }
  if (want.groups !== undefined) {
    // Supplementary groups compare without the primary group (Ansible's get_groups_set(remove_existing)).
    const current = new Set(probe.memberOf.filter((g) => g.gid !== primaryGid).map((g) => g.name));
    const wanted = [
      ...new Set(
        want.groups
          .map((q) => probe.groups.get(q)!)
          .filter((g) => g.gid !== primaryGid)
          .map((g) => g.name),
      ),
    ];
    const missing = wanted.filter((g) => !current.has(g));
    const extra = [...current].filter((g) => !wanted.includes(g));
    if (want.append ? missing.length > 0 : missing.length + extra.length > 0) {
      a.push(...(want.append ? ['-a'] : []), '-G', shq(wanted.join(',')));
      what.push(
        `groups ${want.append ? `+${missing.join(',')}` : `${[...current].join(',') || '(none)'} -> ${wanted.join(',') || '(none)'}`}`,
      );
    }
  }
  if (want.comment !== undefined && user.comment !== want.comment) {
    a.push('-c', shq(want.comment));
    what.push('comment');
  }
  if (want.home !== undefined && user.home !== want.home) {
    a.push('-d', shq(want.home), ...(want.moveHome ? ['-m'] : []));
    what.push(`home ${user.home} -> ${want.home}`);
  }
  if (want.shell !== undefined && user.shell !== want.shell) {
    a.push('-s', shq(want.shell));
    what.push(`shell ${user.shell} -> ${want.shell}`);
  }
  const lines: string[] = [];
  if (a.length > 0) {
    const missing = need('usermod');
    if (missing) return missing;
    lines.push(`usermod ${a.join(' ')} ${n} </dev/null || exit $?`);
  }
  // A locked account's "!" does not make the hash differ (Ansible compares them without it).
  const setPassword =
    pw &&
    want.updatePassword === 'always' &&
    (probe.shadowHash ?? '').replace(/^!+/, '') !== want.password!.replace(/^!+/, '');
  if (setPassword) {
    lines.push('chpasswd -e || exit $?');
    what.push('password');
  }
  // As in Ansible, a missing home is made (and counts as a change) whenever create_home holds.
  if (want.createHome && probe.homeExists === false) {
    const home = want.home ?? user.home;
    if (!home) return refuse(`user ${want.name} has no home directory to create`);
    lines.push(createHomeScript(want.name, home));
    what.push(`home ${home} created`);
  }
  if (lines.length === 0) return { changed: false, msg: `user ${want.name} is as wanted` };
  return {
    changed: true,
    msg: `user ${want.name}: ${what.join(', ')}`,
    script: lines.join('\n'),
    ...(setPassword ? pw : {}),
  };
}

/** Ansible's warning for a password that does not look like a crypt(3) hash (check_password_encrypted). */
export function looksUnhashed(password: string): boolean {
  if (['*', '!', '*************'].includes(password)) return false;
  if (/[:*!]/.test(password) || !password.includes('$')) return true;
  const fields = password.split('$');
  if (fields.length < 3) return true;
  const last = fields.at(-1)!;
  if (/[^a-zA-Z0-9./]/.test(last)) return true;
  const lengths: Record<string, number> = { '1': 22, '5': 43, '6': 86, y: 43 };
  const want = lengths[fields[1]!];
  return want !== undefined && last.length !== want;
}

function groupsArg(v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  const list = Array.isArray(v) ? v.map(String) : String(v).split(',');
  return list.map((g) => g.trim()).filter((g) => g !== '');
}

function wantOf(args: Record<string, unknown>): UserWant {
  const str = (k: string) => (typeof args[k] === 'string' ? { [k]: args[k] as string } : {});
  const groups = groupsArg(args.groups);
  return {
    name: String(args.name),
    state: args.state === 'absent' ? 'absent' : 'present',
    ...(typeof args.uid === 'number' ? { uid: args.uid } : {}),
    nonUnique: args.non_unique === true,
    ...(args.group !== undefined && args.group !== null ? { group: String(args.group) } : {}),
    ...(groups !== undefined ? { groups } : {}),
    append: args.append === true,
    ...str('shell'),
    ...str('home'),
    createHome: args.create_home !== false,
    moveHome: args.move_home === true,
    system: args.system === true,
    ...str('comment'),
    ...str('password'),
    updatePassword: args.update_password === 'on_create' ? 'on_create' : 'always',
    remove: args.remove === true,
    force: args.force === true,
  };
}

async function run(ctx: ModuleContext, args: Record<string, unknown>): Promise<ModuleResult | Planned> {
  const want = wantOf(args);
  if (want.password !== undefined) ctx.secrets.add(want.password);
  const data: Record<string, unknown> = { name: want.name, state: want.state };
  const failed = (msg: string): ModuleResult => fail(msg, data);
  if (/^-|[:\s]/.test(want.name))
    return failed(`invalid user name '${want.name}': it may not start with '-' nor hold ':' or spaces`);
  // A newline would let the stdin of chpasswd set another account's password: never send one.
  if (want.password !== undefined && /[:\r\n]/.test(want.password))
    return failed(
      "password holds ':' or a line break: it must be a crypt(3) hash, e.g. from password_hash('sha512')",
    );
  const warnings =
    want.password !== undefined && looksUnhashed(want.password)
      ? [
          "The input password appears not to have been hashed. The 'password' argument must be encrypted for this module to work properly.",
        ]
      : [];
  const withWarnings = (r: ModuleResult): ModuleResult => (warnings.length ? { ...r, warnings } : r);

  const read = await execOn(ctx, userProbeScript(want));
  if (read.rc !== 0)
    return failed(`cannot read the accounts of the host: ${read.stderr.trim() || `exit ${read.rc}`}`);
  const probe = parseUserProbe(read.stdout, want);
  const plan = planUser(probe, want);
  if (plan.error) return withWarnings(failed(plan.error));

  if (want.state === 'absent') Object.assign(data, { force: want.force, remove: want.remove });
  else {
    // What Ansible registers: the account as it is (or will be), group as its gid.
    const before = probe.user;
    const primary = want.group !== undefined ? probe.groups.get(want.group) : undefined;
    Object.assign(data, {
      append: want.append,
      ...(before ? { move_home: want.moveHome } : { create_home: want.createHome, system: want.system }),
      ...((want.uid ?? before?.uid) !== undefined ? { uid: want.uid ?? before?.uid } : {}),
      ...((primary?.gid ?? before?.gid) !== undefined ? { group: primary?.gid ?? before?.gid } : {}),
      ...((want.comment ?? before?.comment) !== undefined
        ? { comment: want.comment ?? before?.comment }
        : {}),
      ...((want.home ?? before?.home) !== undefined ? { home: want.home ?? before?.home } : {}),
      ...((want.shell ?? before?.shell) !== undefined ? { shell: want.shell ?? before?.shell } : {}),
      ...(want.groups !== undefined ? { groups: want.groups.join(',') } : {}),
      ...(want.password !== undefined ? { password: 'NOT_LOGGING_PASSWORD' } : {}),
    });
  }
  if (!plan.changed || !plan.script) return withWarnings({ changed: false, data });
  return planned(withWarnings({ changed: true, msg: `would be: ${plan.msg}`, data }), async () => {
    // Act, then read the account back in the same script (the uid and home useradd chose).
    const act = await execOn(
      ctx,
      [
        SBIN_PATH,
        plan.script,
        `e=$(getent passwd ${shq(want.name)} 2>/dev/null) && printf '%s\\n' "passwd=$e"`,
        'exit 0',
      ].join('\n'),
      plan.stdin,
    );
    if (act.rc !== 0)
      return withWarnings({
        changed: true,
        failed: true,
        msg: `cannot ${want.state === 'absent' ? 'remove' : 'set up'} user ${want.name}: ${act.stderr.trim() || `exit ${act.rc}`}`,
        data,
      });
    const after = parsePasswdEntry(probeLines(act.stdout).get('passwd') ?? '');
    if (want.state === 'present' && after)
      Object.assign(data, {
        uid: after.uid,
        group: after.gid,
        comment: after.comment,
        home: after.home,
        shell: after.shell,
      });
    return withWarnings({ changed: true, msg: plan.msg, data });
  });
}

export const userModule = defineModule<Record<string, unknown>>({
  name: 'user',
  summary:
    'Add, change or remove a local user account (useradd/usermod/userdel; a hashed password via chpasswd)',
  aliases: { createhome: 'create_home' },
  args: {
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: {
      name: { type: 'string', minLength: 1, description: 'The user to manage' },
      state: {
        type: 'string',
        enum: ['present', 'absent'],
        default: 'present',
        description: 'Whether the account should exist',
      },
      uid: { type: 'integer', minimum: 0, description: 'The numeric user id' },
      non_unique: {
        type: 'boolean',
        default: false,
        description: 'Allow a uid that another user already has (needs uid)',
      },
      group: {
        anyOf: [
          { type: 'string', minLength: 1 },
          { type: 'integer', minimum: 0 },
        ],
        description: 'The primary group (a name or gid; it must exist)',
      },
      groups: {
        anyOf: [
          { type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'integer', minimum: 0 }] } },
          { type: 'string' },
        ],
        description:
          'Supplementary groups (a list or a comma-separated string); the user leaves the others unless append',
      },
      append: {
        type: 'boolean',
        default: false,
        description: 'Add the user to groups without taking it out of its other groups',
      },
      shell: { type: 'string', description: 'The login shell' },
      home: { type: 'string', description: 'The home directory' },
      create_home: {
        type: 'boolean',
        default: true,
        description: 'Make the home directory when the account is made or when it is missing',
      },
      move_home: {
        type: 'boolean',
        default: false,
        description: 'When home changes, move the contents of the old home there (usermod -m)',
      },
      system: {
        type: 'boolean',
        default: false,
        description: 'Make a system account (an existing account is not changed)',
      },
      comment: { type: 'string', description: 'The GECOS field (full name)' },
      password: {
        type: 'string',
        description:
          "The password as a crypt(3) hash (e.g. \"{{ 'secret' | password_hash('sha512') }}\"); set via chpasswd -e on stdin and never shown",
      },
      update_password: {
        type: 'string',
        enum: ['always', 'on_create'],
        default: 'always',
        description: 'always: set the password when it differs; on_create: only for a new account',
      },
      remove: {
        type: 'boolean',
        default: false,
        description: 'With state absent: remove the home directory and mail spool too (userdel -r)',
      },
      force: {
        type: 'boolean',
        default: false,
        description: 'With state absent: remove the account even while the user is logged in (userdel -f)',
      },
    },
  },
  check: 'full',
  run,
});
