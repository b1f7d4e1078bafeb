// The whole migration playbook against a site of real sshd hosts with the vendor stand-ins and a fake
// EWS: --check first changes nothing, the first run changes and ends green, the second changes nothing,
// --tags runs each step alone (its own task file only, nothing to change once migrated), a mailbox failing
// in --tags sync is named and retried on the next run, and the verification creates, finds and deletes its
// event on the fake EWS.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAILBOXES, type MigrationSite, type Report, startMigrationSite } from './migration-site.js';

const changed = (r: Report) => Object.values(r.stats).reduce((n, s) => n + s.changed, 0);
const failedTasks = (r: Report) =>
  r.tasks.flatMap((t) =>
    Object.entries(t.hosts)
      .filter(([, h]) => h.status === 'failed')
      .map(([host, h]) => `${host}: ${t.task}: ${h.msg}`),
  );
const ran = (r: Report) =>
  r.tasks.filter((t) => Object.values(t.hosts).some((h) => h.status !== 'skipped')).map((t) => t.task);

async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.push(`${p} ${e.isFile() ? (await readFile(p)).length : 'other'}`);
    }
  };
  await walk(dir);
  return out.sort();
}

describe.each([
  { forwarder: 'own socat unit', socatPackage: false },
  { forwarder: 'socat-static package', socatPackage: true },
])('the migration playbook ($forwarder)', ({ socatPackage }) => {
  let site: MigrationSite;
  beforeAll(async () => {
    site = await startMigrationSite({ socatPackage });
    // The operator set CEXSY_ACCESS_LIST_MODE in the installer (step 2): the container has it.
    const env = join(site.hosts.hypervisor.state, 'docker/env/calendar-cexsy-1');
    await mkdir(env, { recursive: true });
    await writeFile(join(env, 'CEXSY_ACCESS_LIST_MODE'), 'black\n');
  }, 30_000);
  afterAll(async () => site?.stop());

  it('--check changes no host and creates no event', async () => {
    const before = await Promise.all(Object.values(site.hosts).map((h) => snapshot(h.dir)));
    const r = await site.run('ews-migration.yml', '--check');
    expect(failedTasks(r.report), r.stdout + r.stderr).toEqual([]);
    expect(r.code).toBe(0);
    expect(changed(r.report)).toBeGreaterThan(0);
    // Only the stand-ins' own bookkeeping of read-only queries may differ: their call log, docker's state
    // directory, the PowerShell stand-in's copy of the last script and its (still empty) assignment list.
    const after = await Promise.all(Object.values(site.hosts).map((h) => snapshot(h.dir)));
    const bookkeeping = /calls\.log|\/docker\/|last-script\.ps1|\/exchange\/assignments 0$/;
    const noLog = (l: string[]) => l.filter((f) => !bookkeeping.test(f));
    expect(after.map(noLog)).toEqual(before.map(noLog));
    expect(site.ews.requests.filter((q) => q.operation === 'CreateItem')).toEqual([]);
    expect(existsSync(join(site.deployerHome, 'sync_all.sh'))).toBe(false);
  }, 60_000);

  it('the first run changes and ends green; the second changes nothing', async () => {
    const first = await site.run('ews-migration.yml');
    expect(failedTasks(first.report), first.stdout + first.stderr).toEqual([]);
    expect(first.code).toBe(0);
    expect(changed(first.report)).toBeGreaterThan(0);
    const script = await readFile(join(site.deployerHome, 'sync_all.sh'), 'utf8');
    expect(script).toContain('sudo docker exec -i exchange-sync-api1');
    expect(script).not.toMatch(/^[^#]*docker exec -it/m);
    // The forwarder came the way the inventory asked: the vendor's installer only with the package.
    const installer = (await site.hosts.mail.calls()).some((c) => c.includes('tls-forwarder-install'));
    expect(installer).toBe(socatPackage);
    // The role was assigned through the PowerShell stand-in, then the test event made its round trip.
    expect((await site.hosts.exchange.calls()).some((c) => c.startsWith('powershell'))).toBe(true);
    const ops = site.ews.requests.map((q) => q.operation);
    expect(ops).toEqual(expect.arrayContaining(['CreateItem', 'FindItem', 'DeleteItem']));
    expect(site.ews.events(MAILBOXES[0]!)).toEqual([]);
    const synced = await readFile(join(site.hosts.hypervisor.state, 'docker/subscriber/sync_all'), 'utf8');
    expect(synced.split('\n').filter(Boolean)).toEqual(MAILBOXES.slice(0, 2));

    const second = await site.run('ews-migration.yml');
    expect(failedTasks(second.report), second.stdout).toEqual([]);
    expect(second.code).toBe(0);
    expect(changed(second.report)).toBe(0);
  }, 60_000);

  // After the migration: each documented step alone, by its tag, runs only its own task file and finds
  // nothing to change. (Once, for the own-unit site: the package variant runs the same task files.)
  it.runIf(!socatPackage)(
    'each step runs alone by its tag',
    async () => {
      const steps: Record<string, string> = {
        preflight: 'preflight.yml',
        tls: 'tls-forwarder.yml',
        impersonation: 'impersonation.yml',
        installer: 'installer-integration.yml',
        'access-list': 'access-list.yml',
        admin: 'admin-domain.yml',
        'sync-scripts': 'sync-scripts.yml',
        sync: 'calendar-sync.yml',
        verify: 'verify-event.yml',
      };
      for (const [tag, file] of Object.entries(steps)) {
        const r = await site.run('ews-migration.yml', '--tags', tag);
        expect(failedTasks(r.report), `${tag}: ${r.stdout}`).toEqual([]);
        expect(r.code, tag).toBe(0);
        expect(changed(r.report), tag).toBe(0);
        expect(r.report.tasks.length, tag).toBeGreaterThan(0);
        expect([...new Set(r.report.tasks.map((t) => t.file.split('/').pop()))], tag).toEqual([file]);
      }
    },
    90_000,
  );

  it('--tags sync runs only the sync step; a failing mailbox is named and retried on the next run', async () => {
    const extra = ['sync.One@corp.example', 'sync.Two@corp.example', 'sync.Three@corp.example'];
    const fail = join(site.hosts.hypervisor.state, 'docker/subscriber/fail');
    await writeFile(fail, `${extra[1]}\n`);
    const vars = JSON.stringify({ sync_mailboxes: [...MAILBOXES.slice(0, 2), ...extra] });
    const r = await site.run('ews-migration.yml', '--tags', 'sync', '-e', vars);
    expect(r.code).toBe(3);
    expect(ran(r.report).every((t) => t.startsWith('4.3'))).toBe(true);
    expect(failedTasks(r.report).join('\n')).toContain(extra[1]);

    await rm(fail);
    const logBefore = (await site.hosts.hypervisor.calls()).length;
    const again = await site.run('ews-migration.yml', '--tags', 'sync', '-e', vars);
    expect(failedTasks(again.report), again.stdout).toEqual([]);
    expect(again.code).toBe(0);
    // Only the mailbox that failed ran again: the others are done in the state file.
    const calls = (await site.hosts.hypervisor.calls()).slice(logBefore).join('\n');
    expect(calls).toContain(extra[1]);
    for (const m of [...MAILBOXES, extra[0]!, extra[2]!]) expect(calls).not.toContain(m);
  }, 60_000);
});
