// exchange_impersonation: step A2. The service account gets Exchange's ApplicationImpersonation role,
// idempotently: `Get-ManagementRoleAssignment -Role ApplicationImpersonation -RoleAssignee USER` first,
// `New-ManagementRoleAssignment` only when that finds nothing.
//
// mode ssh: the task's host is the Exchange server, reached over SSH (Windows OpenSSH), and each script goes
// to `powershell -NoProfile -NonInteractive -Command -` on stdin, one statement per line (PowerShell runs
// `-Command -` input line by line). The Exchange snap-in is added when the cmdlets are not already there
// (Microsoft.Exchange.Management.PowerShell.SnapIn on 2013 and later, ...E2010 on 2010), silently, so
// a shell that already has them works as is. Every value is a PowerShell single-quoted literal. The
// account's own rights are used: `become` does not apply on Windows and is ignored.
// mode manual: no such host is reachable; the exact cmdlets are shown to the operator through the core
// `manual` module (confirm at a TTY, fail otherwise; `verify:` tasks make a repeated run report ok).
//
// Whether the role works is proved over EWS by the ews_event task that follows in the playbook.
// Check mode: ssh runs only the Get- and reports whether it would assign; manual runs its verify tasks.
import type { Node } from '../core/model.js';
import { defineModule, fail, type Planned, planned } from './kit.js';
import { manualModule } from './manual.js';
import type { Module, ModuleContext, ModuleResult } from './module.js';
import { psIdentityProblem, psQuote } from './powershell.js';

const ROLE = 'ApplicationImpersonation';
/** Exchange caps a role assignment's name at 64 characters. */
const NAME_LIMIT = 64;

/** Loads the Exchange cmdlets when the shell does not have them yet. */
const EMS_PREAMBLE = [
  "$ErrorActionPreference = 'Stop'",
  ...['SnapIn', 'E2010'].map(
    (v) =>
      `if (-not (Get-Command Get-ManagementRoleAssignment -ErrorAction SilentlyContinue)) { Add-PSSnapin Microsoft.Exchange.Management.PowerShell.${v} -ErrorAction SilentlyContinue }`,
  ),
];

/** The cmdlet that lists the account's impersonation assignments. */
export function getCmdlet(user: string): string {
  return `Get-ManagementRoleAssignment -Role ${ROLE} -RoleAssignee ${psQuote(user)}`;
}

/** The cmdlet that assigns the role. */
export function newCmdlet(name: string, user: string): string {
  return `New-ManagementRoleAssignment -Name ${psQuote(name)} -Role ${ROLE} -User ${psQuote(user)}`;
}

/** A whole script for `-Command -`: prints the names of the assignments, errors on stderr with exit 1. */
export function emsScript(cmdlet: string): string {
  return `${[
    ...EMS_PREAMBLE,
    `try { ${cmdlet} | ForEach-Object { $_.Name }; exit 0 } catch { [Console]::Error.WriteLine($_.Exception.Message); exit 1 }`,
  ].join('\n')}\n\n`;
}

/** ewsplay-impersonation-USER with characters an assignment name should not hold replaced, within 64. */
export function assignmentName(user: string): string {
  return `ewsplay-impersonation-${user.replace(/[^A-Za-z0-9._@-]/g, '-')}`.slice(0, NAME_LIMIT);
}

interface ImpersonationArgs {
  service_account: string;
  mode: 'ssh' | 'manual';
  powershell: string;
  assignment_name: string;
  verify?: Node[];
  verify_retries: number;
  verify_delay: number;
}

export const exchangeImpersonationModule: Module = defineModule<Record<string, unknown>>({
  name: 'exchange_impersonation',
  summary:
    'Give the service account the ApplicationImpersonation role (Get- first, New- only when absent), over SSH or as a manual step',
  taskListArgs: ['verify'],
  args: {
    type: 'object',
    additionalProperties: false,
    required: ['service_account'],
    properties: {
      service_account: {
        type: 'string',
        minLength: 1,
        description: 'The AD account (svc_vkmail_collector, DOMAIN\\user or user@domain)',
      },
      mode: {
        type: 'string',
        enum: ['ssh', 'manual'],
        default: 'ssh',
        description:
          "ssh: run the cmdlets on the task's host (the Exchange server); manual: show them to the operator",
      },
      powershell: {
        type: 'string',
        pattern: '^[A-Za-z0-9._/:\\\\ -]+$',
        default: 'powershell',
        description: 'PowerShell executable on the Exchange host (powershell, pwsh, or a full path)',
      },
      assignment_name: {
        type: 'string',
        minLength: 1,
        maxLength: NAME_LIMIT,
        description: 'Name of the new role assignment (default ewsplay-impersonation-USER)',
      },
      verify: {
        type: 'array',
        description:
          'manual mode: tasks that pass once the role works (e.g. ews_event), so a re-run does not ask',
      },
      verify_retries: {
        type: 'integer',
        minimum: 0,
        default: 0,
        description:
          'manual mode: after the admin confirms, verify again this many times (Exchange applies a role after minutes)',
      },
      verify_delay: {
        type: 'integer',
        minimum: 0,
        default: 60,
        description: 'manual mode: seconds before the first of those retries; doubled after each',
      },
    },
  },
  check: 'full',
  async run(ctx, rawArgs) {
    const args = withDefaults(rawArgs);
    for (const [k, v] of [
      ['service_account', args.service_account],
      ['assignment_name', args.assignment_name],
    ] as const) {
      const problem = psIdentityProblem(v);
      if (problem) return fail(`${k} ${problem}`);
    }
    const get = getCmdlet(args.service_account);
    const create = newCmdlet(args.assignment_name, args.service_account);
    return args.mode === 'manual' ? manual(ctx, args, get, create) : overSsh(ctx, args, get, create);
  },
});

async function overSsh(
  ctx: ModuleContext,
  args: ImpersonationArgs,
  get: string,
  create: string,
): Promise<ModuleResult | Planned> {
  const data = { service_account: args.service_account, role: ROLE, mode: 'ssh' };
  const found = await ems(ctx, args, get);
  if ('error' in found)
    return fail(explain(found.error, ctx.host, args.service_account), { ...data, cmdlet: get });
  if (found.names.length > 0)
    return {
      changed: false,
      msg: `${args.service_account} already has ${ROLE} (${found.names.join(', ')})`,
      data: { ...data, assignments: found.names },
    };
  const prediction: ModuleResult = {
    changed: true,
    msg: `would run on ${ctx.host}: ${create}`,
    data: { ...data, assignments: [], cmdlet: create },
  };
  return planned(prediction, async () => {
    const made = await ems(ctx, args, create);
    if ('error' in made)
      return fail(explain(made.error, ctx.host, args.service_account), { ...data, cmdlet: create });
    return {
      changed: true,
      msg: `assigned ${ROLE} to ${args.service_account} (${made.names.join(', ') || args.assignment_name}); Exchange applies it within minutes`,
      data: { ...data, assignments: made.names, cmdlet: create },
    };
  });
}

async function ems(
  ctx: ModuleContext,
  args: ImpersonationArgs,
  cmdlet: string,
): Promise<{ names: string[] } | { error: string }> {
  const exe = /^[A-Za-z0-9._/:\\-]+$/.test(args.powershell) ? args.powershell : `"${args.powershell}"`;
  const r = await ctx.conn.exec(`${exe} -NoProfile -NonInteractive -Command -`, {
    stdin: emsScript(cmdlet),
    timeoutMs: ctx.timeoutMs,
    signal: ctx.signal,
  });
  if (r.rc !== 0) return { error: (r.stderr.trim() || r.stdout.trim() || `exit ${r.rc}`).replace(/\r/g, '') };
  return {
    names: r.stdout
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== ''),
  };
}

function explain(error: string, host: string, user: string): string {
  if (/is not recognized|CommandNotFound/i.test(error))
    return `the Exchange cmdlets are not available on ${host} (is it the Exchange server, with the management tools?): ${error}`;
  if (/couldn't be found|could not be found/i.test(error))
    return `Exchange does not know the account ${user}: create it in Active Directory first (${error})`;
  if (/not found|No such file|cannot find/i.test(error) && !/object/i.test(error))
    return `PowerShell could not be started on ${host}: ${error}`;
  return `PowerShell on ${host} failed: ${error}`;
}

async function manual(
  ctx: ModuleContext,
  args: ImpersonationArgs,
  get: string,
  create: string,
): Promise<ModuleResult> {
  const instructions = [
    `Give the service account ${args.service_account} the ${ROLE} role. On the Exchange server, in the Exchange Management Shell, as an Exchange administrator, first check whether it has it:`,
    '',
    `  ${get}`,
    '',
    'and only when that prints nothing, assign it:',
    '',
    `  ${create}`,
    '',
    'Exchange applies a new role assignment within minutes.',
  ].join('\n');
  const r = await manualModule.run(ctx, {
    instructions,
    ...(args.verify ? { verify: args.verify, retries: args.verify_retries, delay: args.verify_delay } : {}),
  });
  return {
    ...r,
    data: { ...r.data, service_account: args.service_account, role: ROLE, mode: 'manual', cmdlet: create },
  };
}

function withDefaults(a: Record<string, unknown>): ImpersonationArgs {
  const user = String(a.service_account ?? '');
  return {
    service_account: user,
    mode: a.mode === 'manual' ? 'manual' : 'ssh',
    powershell: typeof a.powershell === 'string' ? a.powershell : 'powershell',
    assignment_name: typeof a.assignment_name === 'string' ? a.assignment_name : assignmentName(user),
    ...(Array.isArray(a.verify) ? { verify: a.verify as Node[] } : {}),
    verify_retries: typeof a.verify_retries === 'number' ? a.verify_retries : 0,
    verify_delay: typeof a.verify_delay === 'number' ? a.verify_delay : 60,
  };
}
