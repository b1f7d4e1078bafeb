// file: a path's state (file, directory, absent, touch) and its mode/owner/group. One probe decides, one
// script acts.
//
// Deviation from Ansible, on purpose: `state: touch` on an existing path still updates its timestamps but
// reports changed only when it created the file or changed its attributes (Ansible reports changed on
// every run, which makes a second run never come out clean).
import { shq } from '../connection/become.js';
import { OWNERSHIP_SCHEMA, ownershipArgs } from './copy.js';
import type { Module, ModuleResult } from './module.js';
import {
  type Attributes,
  attributeChanges,
  attributeCommands,
  attributeText,
  describeAttributes,
  execOk,
  hasAttributes,
  type PathState,
  probePath,
} from './remote.js';

type FileState = 'file' | 'directory' | 'absent' | 'touch';

function stateName(s: PathState): string {
  return s.exists ? (s.type ?? 'other') : 'absent';
}

function snapshot(s: PathState): Attributes & { state: string } {
  return {
    state: stateName(s),
    ...(s.mode ? { mode: s.mode } : {}),
    ...(s.owner ? { owner: s.owner } : {}),
    ...(s.group ? { group: s.group } : {}),
  };
}

export const fileModule: Module = {
  name: 'file',
  summary: 'Ensure a path is a file, a directory, absent or touched, with the given mode and ownership',
  args: {
    type: 'object',
    additionalProperties: false,
    required: ['path'],
    properties: {
      path: { type: 'string', minLength: 1, description: 'Path on the target' },
      state: {
        type: 'string',
        enum: ['file', 'directory', 'absent', 'touch'],
        default: 'file',
        description:
          'file: must exist (attributes only); directory: created with parents; absent: removed (recursively); ' +
          'touch: created empty if missing, timestamps updated',
      },
      ...OWNERSHIP_SCHEMA,
    },
  },
  check: 'full',
  async run(ctx, args): Promise<ModuleResult> {
    const path = String(args.path);
    const want = (args.state as FileState | undefined) ?? 'file';
    // Links are followed (Ansible's follow: yes) except for removal, which removes the link itself.
    const state = await probePath(ctx, path, { follow: want !== 'absent' });
    const failure = precondition(path, want, state);
    if (failure) return { changed: false, failed: true, msg: failure, data: { path } };
    const plan = planFor(path, want, state, ownershipArgs(args));
    if (!ctx.check && plan.script.length > 0)
      await execOk(ctx, ['set -e', ...plan.script].join('\n'), `cannot make ${path} ${want}`);
    const result: ModuleResult = { changed: plan.changed, data: { path, ...plan.after } };
    if (plan.changed) {
      result.msg = plan.msg;
      if (ctx.diff)
        result.diff = [{ path, before: attributeText(snapshot(state)), after: attributeText(plan.after) }];
    }
    return result;
  },
};

function precondition(path: string, want: FileState, state: PathState): string | undefined {
  if (want === 'file' && !state.exists) return `file (${path}) is absent, cannot continue`;
  if (want === 'file' && state.type !== 'file')
    return `file (${path}) is ${stateName(state)}, cannot continue`;
  if (want === 'directory' && state.exists && state.type !== 'directory')
    return `${path} exists and is a ${stateName(state)}, not a directory`;
  return undefined;
}

interface Plan {
  script: string[];
  changed: boolean;
  msg: string;
  after: Attributes & { state: string };
}

function planFor(path: string, want: FileState, state: PathState, attrs: Attributes): Plan {
  if (want === 'absent') {
    if (!state.exists) return { script: [], changed: false, msg: '', after: { state: 'absent' } };
    return {
      script: [`rm -rf ${shq(path)}`],
      changed: true,
      msg: `${stateName(state)} removed`,
      after: { state: 'absent' },
    };
  }
  const created = !state.exists;
  const changes = created ? attrs : attributeChanges(state, attrs);
  const script: string[] = [];
  if (created) script.push(want === 'directory' ? `mkdir -p ${shq(path)}` : `: >> ${shq(path)}`);
  else if (want === 'touch') script.push(`touch -c ${shq(path)}`);
  script.push(...attributeCommands(path, changes));
  const kind = created ? (want === 'directory' ? 'directory' : 'file') : stateName(state);
  const after = { ...snapshot(state), ...changes, state: kind };
  const msg = created ? `${kind} created` : describeAttributes(state, changes);
  return { script, changed: created || hasAttributes(changes), msg, after };
}
