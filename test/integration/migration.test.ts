// The whole migration playbook against a site of real sshd hosts with the vendor stand-ins (the Exchange host
// behind the stand-in of Windows OpenSSH's default shell), a fake EWS speaking only TLS 1.0 behind the real
// socat forwarder, and the installer's stand-in: --check on the untouched site changes nothing anywhere
// (the full tree of every host: content, mode, mtime); the first run stops at step 1 while the installer's
// form is empty, and a wrong form fails its check too; after the operator's form the run is green and the
// second run changes nothing; A3.4 gets EWS's answer through the forwarder, and fails once EWS behind it is
// down; --tags runs each step alone; a failing mailbox is named with its output and the vendor's advice and
// retried only when asked; no secret shows in any output, report, state, host file or argument list.
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snapshotTree } from '../unit/modules/context.js';
import {
  changed,
  failedTasks,
  MAILBOXES,
  type MigrationSite,
  type Report,
  SERVICE_ACCOUNT,
  SERVICE_PASSWORD,
  startMigrationSite,
} from './migration-site.js';

const ran = (r: Report) =>
  r.tasks.filter((t) => Object.values(t.hosts).some((h) => h.status !== 'skipped')).map((t) => t.task);
/** The result of the first task whose name matches, on the first host where it did not skip. */
const resultOf = (r: Report, task: RegExp) =>
  r.tasks
    .filter((t) => task.test(t.task))
    .flatMap((t) => Object.values(t.hosts))
    .find((h) => h.status !== 'skipped');

/** The stand-ins' own records of the calls they got (not state of the host): left out of the comparison. */
const CALL_RECORDS = /(^|\/)(calls\.log|last-script\.ps1)$/;

async function trees(site: MigrationSite): Promise<Record<string, string>[]> {
  return Promise.all(
    Object.values(site.hosts).map(async (h) =>
      Object.fromEntries(Object.entries(await snapshotTree(h.dir)).filter(([p]) => !CALL_RECORDS.test(p))),
    ),
  );
}

/** Every file under dir whose content holds the text. */
async function filesHolding(dir: string, text: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && (await readFile(p)).includes(text)) out.push(p);
    }
  };
  await walk(dir);
  return out;
}

describe.each([
  { forwarder: 'own socat unit', socatPackage: false },
  { forwarder: 'socat-static package', socatPackage: true },
])('the migration playbook ($forwarder)', ({ socatPackage }) => {
  let site: MigrationSite;
  const outputs: string[] = [];
  const run = async (...args: Parameters<MigrationSite['run']>) => {
    const r = await site.run(...args);
    outputs.push(r.stdout, r.stderr);
    return r;
  };
  beforeAll(async () => {
    site = await startMigrationSite({ socatPackage });
  }, 30_000);
  afterAll(async () => site?.stop());

  it('--check on the untouched site changes nothing on any host (content, mode, mtime) and creates no event', async () => {
    const before = await trees(site);
    const r = await run('ews-migration.yml', '--check');
    expect(failedTasks(r.report), r.stdout + r.stderr).toEqual([]);
    expect(r.code).toBe(0);
    expect(changed(r.report)).toBeGreaterThan(0);
    expect(await trees(site)).toEqual(before);
    expect(site.ews.requests.filter((q) => q.operation === 'CreateItem')).toEqual([]);
  }, 60_000);

  it('stops at step 1 while the form is empty, fails a wrong form, is green after the operator, then 0 changed', async () => {
    const empty = await run('ews-migration.yml');
    expect(empty.code).toBe(3);
    expect(failedTasks(empty.report)).toEqual([
      expect.stringMatching(
        /^lab-hypervisor: 1\.2-1\.4: .*verified in the exchange-sync container: In the installer/,
      ),
    ]);
    // The lab's Exchange speaks only TLS 1.0; the forwarder takes TLS 1.3 and EWS answers through it.
    expect(resultOf(empty.report, /^P5/)?.data).toMatchObject({ protocol: 'TLSv1' });
    expect(resultOf(empty.report, /^A3\.4/)?.data).toMatchObject({ protocol: 'TLSv1.3', http_status: 401 });
    // A2 reached the Exchange host through its default shell, as Windows OpenSSH hands commands over.
    expect(await site.hosts.exchange.calls()).toContainEqual(
      "powershell.exe '-c' 'powershell -NoProfile -NonInteractive -Command -'",
    );

    const certificate = await site.servedCertificate();
    await site.fillInstaller({ address: `127.0.0.1:${site.ews.port}`, login: SERVICE_ACCOUNT, certificate });
    const wrong = await run('ews-migration.yml', '--tags', 'installer');
    expect(wrong.code).toBe(3);
    expect(failedTasks(wrong.report).join('\n')).toContain(
      `not the one this site needs. The exchange-sync container has EWS_ADDRESS=127.0.0.1:${site.ews.port}`,
    );

    const address = `127.0.0.1:${site.forwarderPort}`;
    await site.fillInstaller({ address, login: SERVICE_ACCOUNT, certificate, cexsy: 'black' });
    const first = await run('ews-migration.yml');
    expect(failedTasks(first.report), first.stdout + first.stderr).toEqual([]);
    expect(first.code).toBe(0);
    expect(changed(first.report)).toBeGreaterThan(0);
    expect(resultOf(first.report, /^1\.2-1\.4/)).toMatchObject({
      status: 'ok',
      msg: 'already done (verified)',
    });
    const script = await readFile(join(site.deployerHome, 'sync_all.sh'), 'utf8');
    expect(script).toContain('sudo docker exec -i exchange-sync-api1');
    expect(script).not.toMatch(/^[^#]*docker exec -it/m);
    // The forwarder came the way the inventory asked: the vendor's installer only with the package.
    const installer = (await site.hosts.mail.calls()).some((c) => c.includes('tls-forwarder-install'));
    expect(installer).toBe(socatPackage);
    const ops = site.ews.requests.map((q) => q.operation);
    expect(ops).toEqual(expect.arrayContaining(['CreateItem', 'FindItem', 'DeleteItem']));
    expect(site.ews.events(MAILBOXES[0]!)).toEqual([]);
    const synced = await readFile(join(site.hosts.hypervisor.state, 'docker/subscriber/sync_all'), 'utf8');
    expect(synced.split('\n').filter(Boolean)).toEqual(MAILBOXES.slice(0, 2));

    const second = await run('ews-migration.yml');
    expect(failedTasks(second.report), second.stdout).toEqual([]);
    expect(second.code).toBe(0);
    expect(changed(second.report)).toBe(0);
  }, 120_000);

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
        const r = await run('ews-migration.yml', '--tags', tag);
        expect(failedTasks(r.report), `${tag}: ${r.stdout}`).toEqual([]);
        expect(r.code, tag).toBe(0);
        expect(changed(r.report), tag).toBe(0);
        expect(r.report.tasks.length, tag).toBeGreaterThan(0);
        expect([...new Set(r.report.tasks.map((t) => t.file.split('/').pop()))], tag).toEqual([file]);
      }
    },
    90_000,
  );

  it('4.4: a failing mailbox is named with its output and the advice to contact VK, retried only when asked', async () => {
    const extra = ['sync.One@corp.example', 'sync.Two@corp.example', 'sync.Three@corp.example'];
    const fail = join(site.hosts.hypervisor.state, 'docker/subscriber/fail');
    await writeFile(fail, `${extra[1]}\n`);
    const vars = JSON.stringify({ sync_mailboxes: [...MAILBOXES.slice(0, 2), ...extra] });
    const r = await run('ews-migration.yml', '--tags', 'sync', '-e', vars);
    expect(r.code).toBe(3);
    expect(ran(r.report).every((t) => t.startsWith('4.3'))).toBe(true);
    const failure = failedTasks(r.report).join('\n');
    expect(failure).toContain(extra[1]);
    expect(failure).toContain(`ERROR sync_all mailbox=${extra[1]}: user not found in VK WorkMail`);
    expect(failure).toContain('contact VK');

    await rm(fail);
    const logBefore = (await site.hosts.hypervisor.calls()).length;
    const unasked = await run('ews-migration.yml', '--tags', 'sync', '-e', vars);
    expect(unasked.code).toBe(3);
    expect(failedTasks(unasked.report).join('\n')).toContain(
      `failed in an earlier run and was not run again: ${extra[1]}`,
    );
    expect((await site.hosts.hypervisor.calls()).length).toBe(logBefore);

    const again = await run(
      'ews-migration.yml',
      '--tags',
      'sync',
      '-e',
      vars,
      '-e',
      'sync_retry_failed=true',
    );
    expect(failedTasks(again.report), again.stdout).toEqual([]);
    expect(again.code).toBe(0);
    // Only the mailbox that failed ran again: the others are done in the state file.
    const calls = (await site.hosts.hypervisor.calls()).slice(logBefore).join('\n');
    expect(calls).toContain(extra[1]);
    for (const m of [...MAILBOXES, extra[0]!, extra[2]!]) expect(calls).not.toContain(m);
  }, 60_000);

  it("the EWS password shows in no output, report, state file, host file or process's argument list", async () => {
    expect(outputs.length).toBeGreaterThan(0);
    expect(outputs.filter((o) => o.includes(SERVICE_PASSWORD))).toEqual([]);
    // The site's directory holds the reports, the control node's state and every host's files.
    expect(await filesHolding(site.root, SERVICE_PASSWORD)).toEqual([]);
    expect(site.leakedArgv).toEqual([]);
  });

  it('A3.4 fails once EWS behind the forwarder is down, although the handshake still succeeds', async () => {
    await site.ews.close();
    const r = await run('ews-migration.yml', '--tags', 'tls');
    expect(r.code).toBe(3);
    const a34 = resultOf(r.report, /^A3\.4/);
    expect(a34?.status).toBe('failed');
    expect(a34?.msg).toMatch(
      /the TLS handshake succeeded, but the HTTP request for \/EWS\/Exchange\.asmx through it got no answer .*is down or refuses/,
    );
  }, 60_000);
});
