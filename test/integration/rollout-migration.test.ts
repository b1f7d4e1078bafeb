// The migration playbook rolled out to three lab sites (each: three real sshd hosts, the vendor stand-ins, a
// fake EWS). The canary's calendar sync fails for one mailbox: the rollout stops there. After the fix,
// --resume runs the canary from its sync step only and the two other sites from the start; `ewsplay status`
// shows every step done and each site's mailbox outcomes, kept apart by site.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MAILBOXES,
  type MigrationSite,
  SERVICE_ACCOUNT,
  SERVICE_PASSWORD,
  startMigrationSite,
} from './migration-site.js';

const BIN = resolve(import.meta.dirname, '../../bin/ewsplay.js');
const PLAYBOOK = resolve(import.meta.dirname, '../../playbooks/ews-migration.yml');
const NAMES = ['berlin', 'lyon', 'paris'] as const;
const SYNC_STEP =
  'Installer, admin panel and calendar sync on the hypervisor > Steps 4.2-4.4: calendar sync and subscription';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

describe('rolling the migration out to three lab sites', () => {
  const sites: Partial<Record<(typeof NAMES)[number], MigrationSite>> = {};
  let project: string;
  let knownHosts: string;

  const ewsplay = (...args: string[]): Promise<Result> =>
    new Promise((done) => {
      execFile(
        process.execPath,
        [BIN, ...args],
        { cwd: project, env: { ...process.env, EWSPLAY_EWS_PASSWORD: SERVICE_PASSWORD }, timeout: 170_000 },
        (e, stdout, stderr) =>
          done({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout, stderr }),
      );
    });
  const run = (...args: string[]) =>
    ewsplay('run', PLAYBOOK, '-i', 'inventory/sites', '--known-hosts', knownHosts, '-o', 'plain', ...args);

  beforeAll(async () => {
    project = await mkdtemp(join(tmpdir(), 'ewsplay-rollout-migration-'));
    await mkdir(join(project, 'inventory/sites'), { recursive: true });
    const known: string[] = [];
    for (const name of NAMES) {
      const site = await startMigrationSite();
      sites[name] = site;
      // The operator's part of steps 1-2, as on a real site: the forwarder runs (A3), then its address and
      // certificate and CEXSY_ACCESS_LIST_MODE go into the installer's form, then Play.
      const tls = await site.run('ews-migration.yml', '--tags', 'tls');
      if (tls.code !== 0) throw new Error(`A3 on ${name} failed: ${tls.stdout}${tls.stderr}`);
      await site.fillInstaller({
        address: `127.0.0.1:${site.forwarderPort}`,
        login: SERVICE_ACCOUNT,
        certificate: await site.servedCertificate(),
        cexsy: 'black',
      });
      // The lab inventories all say site_name: lab; named after the site, mailbox state stays apart.
      await writeFile(
        join(site.inventoryDir, 'group_vars/all/zzz-site.yml'),
        'site_name: "{{ ewsplay_site }}"\n',
      );
      await symlink(site.inventoryDir, join(project, 'inventory/sites', name));
      known.push(await readFile(site.lab.knownHostsFile, 'utf8'));
    }
    knownHosts = join(project, 'known_hosts');
    await writeFile(knownHosts, known.join(''));
  }, 240_000);

  afterAll(async () => {
    for (const site of Object.values(sites)) await site?.stop();
    if (project) await rm(project, { recursive: true, force: true });
  });

  it('canary fails at the sync step and stops the rollout; --resume finishes it after the fix', async () => {
    const lyon = sites.lyon!;
    const fail = join(lyon.hosts.hypervisor.state, 'docker/subscriber/fail');
    await mkdir(join(fail, '..'), { recursive: true });
    await writeFile(fail, `${MAILBOXES[1]}\n`);

    const first = await run('--canary', 'lyon');
    expect(first.code, first.stderr).toBe(3);
    expect(first.stdout).toMatch(new RegExp(`^\\[lyon\\] .*${MAILBOXES[1]!.replace('.', '\\.')}`, 'm'));
    expect(first.stdout).toMatch(/^berlin +not run +0 +0 +canary lyon did not succeed$/m);
    expect(first.stdout).toMatch(/^paris +not run +0 +0 +canary lyon did not succeed$/m);
    expect(await sites.berlin!.hosts.hypervisor.calls()).toEqual([]);

    const status = await ewsplay('status', '-i', 'inventory/sites');
    expect(status.stdout).toMatch(/^STEP +berlin +lyon +paris$/m);
    expect(status.stdout).toMatch(/^\[Installer, admin panel and calendar sync on the hypervisor\]$/m);
    expect(status.stdout).toMatch(
      /^ {2}Step 4\.1: sync scripts in the de\.\.\. +not run +done [\d :-]+ +not run$/m,
    );
    expect(status.stdout).toMatch(
      /^ {2}Steps 4\.2-4\.4: calendar sync and\.\.\. +not run +failed [\d :-]+ +not run$/m,
    );
    expect(status.stdout).toMatch(/^mailboxes: sync +not run +1 done, 1 failed +not run$/m);
    for (const line of status.stdout.split('\n')) expect(line.length).toBeLessThanOrEqual(100);

    await rm(fail);
    const callsBefore = (await lyon.hosts.hypervisor.calls()).length;
    const second = await run('--resume');
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(second.stdout).toContain(`[lyon] --resume: resuming at '${SYNC_STEP}'`);
    expect(second.stdout).not.toMatch(/^\[lyon\] TASK \[P1/m);
    expect(second.stdout).toMatch(/^\[berlin\] TASK \[P1/m);
    expect(second.stdout).toMatch(/^paris +ok +\d+ +0 +\.ewsplay\/runs\/paris\/.+\.json$/m);
    // On lyon only the sync step ran, and of its mailboxes only the one that had failed.
    const lyonCalls = (await lyon.hosts.hypervisor.calls()).slice(callsBefore).join('\n');
    expect(lyonCalls).toContain(MAILBOXES[1]);
    expect(lyonCalls).not.toContain(MAILBOXES[0]);

    const json = JSON.parse((await ewsplay('status', '--json')).stdout) as {
      sites: {
        site: string;
        state: { steps: Record<string, { status: string }>; mailboxes: { file: string }[] };
      }[];
    };
    expect(json.sites.map((s) => s.site)).toEqual([...NAMES]);
    for (const s of json.sites) {
      expect(Object.values(s.state.steps).every((x) => x.status === 'done')).toBe(true);
      expect(Object.keys(s.state.steps)).toHaveLength(9);
      expect(s.state.mailboxes.map((m) => m.file)).toEqual([`.ewsplay/state/${s.site}/calendar-sync.json`]);
    }
    expect(existsSync(join(project, '.ewsplay/state/lab'))).toBe(false);
    const table = (await ewsplay('status')).stdout;
    expect(table).toMatch(/^mailboxes: sync +2 done, 0 failed +2 done, 0 failed +2 done, 0 failed$/m);
  }, 180_000);
});
