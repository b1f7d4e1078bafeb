// The migration with become through the REAL sudo and a password, as inventory/example's mail group has
// it: ansible_user a non-root user, ansible_become: true, ansible_become_password from
// EWSPLAY_BECOME_PASSWORD (the example's secrets.yml). A wrong password fails the mail host with sudo's
// refusal and writes nothing; with the right one A3's forwarder is set up as root (its unit and key are
// root's), the run is green once the operator filled the installer's form, and the next one changes
// nothing. The sudo password (and the EWS password) never shows in any output, report, state file, host
// file, sshd log or process argument list seen during the runs.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  changed,
  failedTasks,
  type MigrationSite,
  SERVICE_ACCOUNT,
  SERVICE_PASSWORD,
  startMigrationSite,
} from './migration-site.js';

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

describe('the migration playbook with become through the real sudo and a password', () => {
  let site: MigrationSite;
  beforeAll(async () => {
    site = await startMigrationSite({ sudo: true });
  }, 30_000);
  afterAll(async () => site?.stop());

  it('a wrong password is refused by sudo; the right one runs A3 as root, green, then 0 changed; it never leaks', async () => {
    const sudo = site.sudo!;
    const outputs: string[] = [];
    const run = async (...args: Parameters<MigrationSite['run']>) => {
      const r = await site.run(...args);
      outputs.push(r.stdout, r.stderr);
      return r;
    };
    const unit = join(site.hosts.mail.dir, 'etc/systemd/system/socat-tls-forwarder-exch1.service');
    const key = join(site.hosts.mail.dir, 'etc/ewsplay/tls-forwarder/exch1.key');

    // -e wins over the inventory's ansible_become_password, as in Ansible.
    const wrong = await site.run(
      'ews-migration.yml',
      '--tags',
      'tls',
      '-e',
      JSON.stringify({ ansible_become_password: 'not-the-sudo-password' }),
    );
    expect(wrong.code).toBe(3);
    expect(failedTasks(wrong.report).join('\n')).toMatch(
      /^lab-mail: A3\.1-A3\.3: .*: sudo: incorrect password for user ewsplay-site on host lab-mail/m,
    );
    await expect(stat(unit)).rejects.toMatchObject({ code: 'ENOENT' });

    const first = await run('ews-migration.yml');
    // Step 1 waits for the operator (see migration.test.ts); everything before it went through sudo.
    expect(failedTasks(first.report), first.stdout).toEqual([
      expect.stringMatching(/^lab-hypervisor: 1\.2-1\.4: /),
    ]);
    expect(first.stdout).toContain(`ok: [lab-mail]`);
    const unitStat = await stat(unit);
    const keyStat = await stat(key);
    expect([unitStat.uid, keyStat.uid]).toEqual([0, 0]);
    expect(keyStat.mode & 0o777).toBe(0o600);
    // The login user itself is not root (so root's files came through sudo).
    const home = await stat(join('/home', sudo.user));
    expect(home.uid).not.toBe(0);

    const certificate = await site.servedCertificate();
    await site.fillInstaller({
      address: `127.0.0.1:${site.forwarderPort}`,
      login: SERVICE_ACCOUNT,
      certificate,
      cexsy: 'black',
    });
    const green = await run('ews-migration.yml');
    expect(failedTasks(green.report), green.stdout + green.stderr).toEqual([]);
    expect(green.code).toBe(0);
    const again = await run('ews-migration.yml');
    expect(failedTasks(again.report), again.stdout).toEqual([]);
    expect(again.code).toBe(0);
    expect(changed(again.report)).toBe(0);

    for (const secret of [sudo.password, SERVICE_PASSWORD]) {
      expect(outputs.filter((o) => o.includes(secret))).toEqual([]);
      // Reports, the control node's state, the installer's records; the hosts' files and sshd logs.
      expect(await filesHolding(site.root, secret)).toEqual([]);
      expect(await filesHolding(site.lab.dir, secret)).toEqual([]);
    }
    expect(site.leakedArgv).toEqual([]);
  }, 300_000);
});
