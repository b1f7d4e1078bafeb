// group: Ansible's ansible.builtin.group on Linux. One round trip reads the group (getent, else
// /etc/group) and which tools the host has; a plan made on the control node says what to run; one script
// runs it and reads the group back. groupadd/groupmod/groupdel (shadow) are used, BusyBox's addgroup and
// delgroup when groupadd is missing (Alpine), as Ansible's BusyBoxGroup does.
import { shq } from '../core/shell-quote.js';
import { defineModule, fail, type Planned, planned } from './kit.js';
import type { ModuleContext, ModuleResult } from './module.js';
import { execOn } from './remote.js';

/**
 * Ansible finds groupadd, useradd ... in the sbin directories too (get_bin_path), which the PATH of a
 * plain login over SSH often lacks.
 */
export const SBIN_PATH = 'PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"; export PATH';

/** One line of /etc/group as getent prints it: name:password:gid:member,member */
export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** A getent group (or /etc/group) line; undefined when it is not one. */
export function parseGroupEntry(line: string): GroupEntry | undefined {
  const f = line.replace(/\r?\n$/, '').split(':');
  if (f.length < 4 || !f[0] || !/^\d+$/.test(f[2] ?? '')) return undefined;
  return {
    name: f[0],
    gid: Number(f[2]),
    members: (f[3] ?? '')
      .split(',')
      .map((m) => m.trim())
      .filter(Boolean),
  };
}

/** `key=value` lines of a probe; a key may repeat (the last one wins). */
export function probeLines(stdout: string): Map<string, string> {
  const kv = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) kv.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return kv;
}

/**
 * sh that prints `<tag>=<group line>` for a group given by name or gid, as Ansible's group_info looks it
 * up (getent tries a number as a gid first); /etc/group when getent is missing.
 */
export function groupLookup(tag: string, query: string): string {
  return [
    `q=${shq(query)}`,
    `e=$(getent group "$q" 2>/dev/null) || e=$(awk -F: -v q="$q" '$3 == q || $1 == q { print; exit }' /etc/group 2>/dev/null)`,
    `[ -n "$e" ] && printf '%s\\n' "${tag}=$e"`,
  ].join('\n');
}

/** Which of these commands the host has: `tool=<name>` lines. */
export function toolLookup(tools: string[]): string {
  return `for t in ${tools.join(' ')}; do command -v "$t" >/dev/null 2>&1 && echo "tool=$t"; done`;
}

const TOOLS = ['groupadd', 'groupmod', 'groupdel', 'addgroup', 'delgroup'];

export interface GroupWant {
  name: string;
  state: 'present' | 'absent';
  gid?: number;
  system: boolean;
  nonUnique: boolean;
  force: boolean;
}

export interface GroupProbe {
  /** The group of that name, when it exists. */
  group?: GroupEntry;
  /** The group that has the wanted gid, when one has it. */
  gidOwner?: GroupEntry;
  tools: Set<string>;
}

export function groupProbeScript(want: GroupWant): string {
  const lines = [SBIN_PATH, groupLookup('group', want.name)];
  if (want.gid !== undefined) lines.push(groupLookup('gidowner', String(want.gid)));
  lines.push(toolLookup(TOOLS), 'exit 0');
  return lines.join('\n');
}

export function parseGroupProbe(stdout: string, name: string): GroupProbe {
  const tools = new Set<string>();
  for (const line of stdout.split('\n')) if (line.startsWith('tool=')) tools.add(line.slice(5));
  const kv = probeLines(stdout);
  const group = parseGroupEntry(kv.get('group') ?? '');
  const gidOwner = parseGroupEntry(kv.get('gidowner') ?? '');
  return {
    // A numeric name found as someone else's gid is not this group.
    ...(group && group.name === name ? { group } : {}),
    ...(gidOwner ? { gidOwner } : {}),
    tools,
  };
}

export interface GroupPlan {
  changed: boolean;
  /** The sh to run (undefined when nothing changes). */
  script?: string;
  msg: string;
  /** The command that acts, for messages. */
  tool?: string;
  /** Set when the wanted state cannot be reached: the task fails with it, in check mode too. */
  error?: string;
}

/** What to run to get from the probed state to the wanted one. */
export function planGroup(probe: GroupProbe, want: GroupWant): GroupPlan {
  const n = shq(want.name);
  const shadow = probe.tools.has('groupadd');
  const busybox = !shadow && probe.tools.has('addgroup');
  const missing = (what: string) => ({
    changed: false,
    msg: '',
    error: `${what} not found on the host: install the shadow tools (the passwd or shadow-utils package)`,
  });

  if (want.state === 'absent') {
    if (!probe.group) return { changed: false, msg: `group ${want.name} is absent` };
    if (probe.tools.has('groupdel'))
      return {
        changed: true,
        msg: `group ${want.name} removed`,
        tool: 'groupdel',
        script: `groupdel ${want.force ? '-f ' : ''}${n}`,
      };
    if (probe.tools.has('delgroup') && !shadow)
      return { changed: true, msg: `group ${want.name} removed`, tool: 'delgroup', script: `delgroup ${n}` };
    return missing('groupdel');
  }

  // Deviation: Ansible leaves a gid that another group holds to groupadd/groupmod, which then fail; we
  // fail the same way before acting, so check mode predicts the failure too.
  const owner = probe.gidOwner;
  if (want.gid !== undefined && owner && owner.name !== want.name && !want.nonUnique)
    return {
      changed: false,
      msg: '',
      error: `gid ${want.gid} is already used by group ${owner.name}: choose another gid, or set non_unique: true`,
    };
  if (want.nonUnique && want.gid === undefined)
    return { changed: false, msg: '', error: 'non_unique needs gid' };

  if (!probe.group) {
    const gid = want.gid !== undefined ? ` -g ${want.gid}` : '';
    if (shadow)
      return {
        changed: true,
        msg: `group ${want.name} added`,
        tool: 'groupadd',
        script: `groupadd${gid}${want.nonUnique ? ' -o' : ''}${want.system ? ' -r' : ''} ${n}`,
      };
    if (busybox) {
      // BusyBox has no non-unique gids (Ansible's documentation says so too).
      if (want.nonUnique)
        return { changed: false, msg: '', error: 'non_unique is not supported by BusyBox addgroup' };
      return {
        changed: true,
        msg: `group ${want.name} added`,
        tool: 'addgroup',
        script: `addgroup${gid}${want.system ? ' -S' : ''} ${n}`,
      };
    }
    return missing('groupadd');
  }

  // An existing group: only its gid is managed (system says how a new group is made, as in Ansible).
  if (want.gid === undefined || probe.group.gid === want.gid)
    return { changed: false, msg: `group ${want.name} is present` };
  const msg = `group ${want.name}: gid ${probe.group.gid} -> ${want.gid}`;
  if (probe.tools.has('groupmod'))
    return {
      changed: true,
      msg,
      tool: 'groupmod',
      script: `groupmod -g ${want.gid}${want.nonUnique ? ' -o' : ''} ${n}`,
    };
  if (busybox) {
    if (want.nonUnique)
      return { changed: false, msg: '', error: 'non_unique is not supported by BusyBox addgroup' };
    // BusyBox has no groupmod: Ansible rewrites the group's line in /etc/group; we do it atomically.
    return {
      changed: true,
      msg,
      tool: 'the edit of /etc/group',
      script: [
        't=$(mktemp /etc/.ewsplay-group.XXXXXX) || exit 1',
        `awk -F: -v OFS=: -v n=${n} -v g=${want.gid} '$1 == n { $3 = g } { print }' /etc/group > "$t" &&`,
        '  chmod 0644 "$t" && mv -f "$t" /etc/group || { rm -f "$t"; exit 1; }',
      ].join('\n'),
    };
  }
  return missing('groupmod');
}

function wantOf(args: Record<string, unknown>): GroupWant {
  return {
    name: String(args.name),
    state: args.state === 'absent' ? 'absent' : 'present',
    ...(typeof args.gid === 'number' ? { gid: args.gid } : {}),
    system: args.system === true,
    nonUnique: args.non_unique === true,
    force: args.force === true,
  };
}

async function run(ctx: ModuleContext, args: Record<string, unknown>): Promise<ModuleResult | Planned> {
  const want = wantOf(args);
  const data: Record<string, unknown> = { name: want.name, state: want.state };
  if (/^-|[:\s]/.test(want.name))
    return fail(`invalid group name '${want.name}': it may not start with '-' nor hold ':' or spaces`, data);
  const read = await execOn(ctx, groupProbeScript(want));
  if (read.rc !== 0)
    return fail(`cannot read the groups of the host: ${read.stderr.trim() || `exit ${read.rc}`}`, data);
  const probe = parseGroupProbe(read.stdout, want.name);
  const plan = planGroup(probe, want);
  if (plan.error) return fail(plan.error, data);
  if (want.state === 'present') {
    data.system = want.system;
    const gid = want.gid ?? probe.group?.gid;
    if (gid !== undefined) data.gid = gid;
  }
  if (!plan.changed || !plan.script) return { changed: false, data };
  return planned({ changed: true, msg: `would be: ${plan.msg}`, data }, async () => {
    // Act, then read the group back in the same script (its gid when groupadd chose it).
    const act = await execOn(
      ctx,
      [SBIN_PATH, `${plan.script} || exit $?`, groupLookup('group', want.name), 'exit 0'].join('\n'),
    );
    if (act.rc !== 0)
      return {
        changed: true,
        failed: true,
        msg: `${plan.tool} failed: ${act.stderr.trim() || act.stdout.trim() || `exit ${act.rc}`}`,
        data,
      };
    const after = parseGroupProbe(act.stdout, want.name).group;
    if (want.state === 'present' && after) data.gid = after.gid;
    return { changed: true, msg: plan.msg, data };
  });
}

export const groupModule = defineModule<Record<string, unknown>>({
  name: 'group',
  summary: 'Add, change the gid of, or remove a local group (groupadd/groupmod/groupdel, BusyBox addgroup)',
  args: {
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: {
      name: { type: 'string', minLength: 1, description: 'The group to manage' },
      state: {
        type: 'string',
        enum: ['present', 'absent'],
        default: 'present',
        description: 'Whether the group should exist',
      },
      gid: { type: 'integer', minimum: 0, description: 'The numeric group id (changed when it differs)' },
      system: {
        type: 'boolean',
        default: false,
        description: 'Create it as a system group (an existing group is not changed)',
      },
      non_unique: {
        type: 'boolean',
        default: false,
        description: 'Allow a gid that another group already has (needs gid; not on BusyBox)',
      },
      force: {
        type: 'boolean',
        default: false,
        description: "With state absent: delete it even when it is a user's primary group (groupdel -f)",
      },
    },
  },
  check: 'full',
  run,
});
