import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  assignmentName,
  emsScript,
  exchangeImpersonationModule,
  getCmdlet,
  newCmdlet,
} from '../../../src/modules/exchange_impersonation.js';
import { argsValidator, makeContext } from '../modules/context.js';
import { type LabHost, makeLabHost } from './lab.js';

let lab: LabHost;
beforeEach(async () => {
  lab = await makeLabHost('exch1');
});
afterEach(() => lab.cleanup());

const ctx = (over: Parameters<typeof makeContext>[0] = {}) =>
  makeContext({ host: 'exch1', conn: lab.conn, ...over });
const assignments = async () =>
  (await readFile(join(lab.state, 'exchange/assignments'), 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t'));
const granted = () => readdir(join(lab.state, 'impersonation-granted')).catch(() => []);

describe('exchange_impersonation over ssh', () => {
  it('assigns the role once: Get- first, New- only when absent', async () => {
    const args = { service_account: 'svc_vkmail_collector' };
    const first = await exchangeImpersonationModule.run(ctx(), args);
    expect(first).toMatchObject({
      changed: true,
      data: { assignments: ['ewsplay-impersonation-svc_vkmail_collector'] },
    });
    expect(first.msg).toMatch(/^assigned ApplicationImpersonation to svc_vkmail_collector/);
    expect(await assignments()).toEqual([
      ['ewsplay-impersonation-svc_vkmail_collector', 'ApplicationImpersonation', 'svc_vkmail_collector'],
    ]);
    expect(await granted()).toEqual(['svc_vkmail_collector']);
    expect(await lab.calls()).toEqual([
      "powershell '-NoProfile' '-NonInteractive' '-Command' '-'",
      "powershell '-NoProfile' '-NonInteractive' '-Command' '-'",
    ]);

    const second = await exchangeImpersonationModule.run(ctx(), { service_account: 'SVC_VKMAIL_COLLECTOR' });
    expect(second).toMatchObject({
      changed: false,
      msg: 'SVC_VKMAIL_COLLECTOR already has ApplicationImpersonation (ewsplay-impersonation-svc_vkmail_collector)',
    });
    expect(await lab.calls()).toHaveLength(3);
  });

  it('check mode only asks, and says what it would run', async () => {
    const r = await exchangeImpersonationModule.run(ctx({ check: true }), {
      service_account: 'svc_vkmail_collector',
    });
    expect(r).toMatchObject({
      changed: true,
      msg: `would run on exch1: New-ManagementRoleAssignment -Name 'ewsplay-impersonation-svc_vkmail_collector' -Role ApplicationImpersonation -User 'svc_vkmail_collector'`,
    });
    expect(await assignments()).toEqual([]);
    expect(await granted()).toEqual([]);
    expect(await readFile(join(lab.state, 'exchange/last-script.ps1'), 'utf8')).toContain(
      "Get-ManagementRoleAssignment -Role ApplicationImpersonation -RoleAssignee 'svc_vkmail_collector'",
    );
  });

  it('an injection attempt stays one account name, end to end', async () => {
    const hostile = "svc'; Remove-Item -Recurse C:\\ ; '\u2019; Stop-Computer";
    const r = await exchangeImpersonationModule.run(ctx(), { service_account: hostile });
    expect(r.changed).toBe(true);
    expect((await assignments())[0]?.[2]).toBe(hostile);
  });

  it('explains an account Exchange does not know', async () => {
    await mkdir(join(lab.state, 'exchange'), { recursive: true });
    await writeFile(join(lab.state, 'exchange/users'), 'svc_vkmail_collector\n');
    const r = await exchangeImpersonationModule.run(ctx(), { service_account: 'svc_typo' });
    expect(r).toMatchObject({ failed: true, changed: false });
    expect(r.msg).toMatch(
      /^Exchange does not know the account svc_typo: create it in Active Directory first/,
    );
  });

  it('explains a host without PowerShell', async () => {
    const r = await exchangeImpersonationModule.run(ctx(), {
      service_account: 'svc',
      powershell: '/nonexistent/powershell.exe',
    });
    expect(r.failed).toBe(true);
    expect(r.msg).toMatch(/^PowerShell could not be started on exch1/);
  });

  it('refuses a name with a line break before touching the host', async () => {
    const r = await exchangeImpersonationModule.run(ctx(), { service_account: 'svc\nStop-Computer' });
    expect(r).toMatchObject({
      failed: true,
      msg: 'service_account contains a control character or line break',
    });
    expect(await lab.calls()).toEqual([]);
  });
});

describe('exchange_impersonation, manual', () => {
  const create = newCmdlet('ewsplay-impersonation-svc', 'svc');

  it('fails with the exact cmdlets when nobody can be asked', async () => {
    const r = await exchangeImpersonationModule.run(ctx(), { service_account: 'svc', mode: 'manual' });
    expect(r.failed).toBe(true);
    expect(r.msg).toContain(`  ${getCmdlet('svc')}\n`);
    expect(r.msg).toContain(`  ${create}\n`);
    expect(r.data).toMatchObject({ mode: 'manual', cmdlet: create });
    expect(await lab.calls()).toEqual([]);
  });

  it('asks an operator at a terminal', async () => {
    const questions: string[] = [];
    const r = await exchangeImpersonationModule.run(
      ctx({
        interactive: true,
        confirm: async (q) => {
          questions.push(q);
          return true;
        },
      }),
      { service_account: 'svc', mode: 'manual' },
    );
    expect(r).toMatchObject({ changed: true });
    expect(questions[0]).toContain(create);
  });

  it('reports ok without asking when its verify tasks pass', async () => {
    const r = await exchangeImpersonationModule.run(
      ctx({ runTasks: async () => ({ ok: true, results: [{ changed: false }] }) }),
      { service_account: 'svc', mode: 'manual', verify: [] },
    );
    expect(r).toMatchObject({ changed: false, msg: 'already done (verified)' });
  });
});

describe('the PowerShell it sends', () => {
  it('one statement per line for -Command -, snap-ins guarded, a blank line at the end', () => {
    const script = emsScript(getCmdlet('svc'));
    const lines = script.split('\n');
    expect(lines.at(-1)).toBe('');
    expect(lines.at(-2)).toBe('');
    expect(script).toContain(
      'Add-PSSnapin Microsoft.Exchange.Management.PowerShell.SnapIn -ErrorAction SilentlyContinue',
    );
    expect(script).toContain(
      'Add-PSSnapin Microsoft.Exchange.Management.PowerShell.E2010 -ErrorAction SilentlyContinue',
    );
    expect(
      lines.filter((l) => l.includes('{')).every((l) => l.split('{').length === l.split('}').length),
    ).toBe(true);
  });

  it('names the assignment after the account, within 64 characters', () => {
    expect(assignmentName('CONTOSO\\svc')).toBe('ewsplay-impersonation-CONTOSO-svc');
    expect(assignmentName('x'.repeat(80))).toHaveLength(64);
  });

  it('has a strict args schema', () => {
    const valid = argsValidator(exchangeImpersonationModule);
    expect(valid({ service_account: 'svc' })).toBe(true);
    expect(valid({ service_account: 'svc', mode: 'manual', verify: [] })).toBe(true);
    expect(valid({ service_account: 'svc', mode: 'winrm' })).toBe(false);
    expect(valid({ service_account: 'svc', powershell: 'pwsh; reboot' })).toBe(false);
    expect(valid({ mailbox: 'a@x.example' })).toBe(false);
  });
});
