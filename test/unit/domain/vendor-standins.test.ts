// The vendor stand-ins themselves: what the lab and the playbook's verification tasks rely on.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LabHost, makeLabHost, VENDOR_DIR } from './lab.js';

let lab: LabHost;
beforeEach(async () => {
  lab = await makeLabHost('hv1');
});
afterEach(() => lab.cleanup());

const sh = (cmd: string) => lab.conn.exec(cmd);

describe('docker stand-in', () => {
  it('lists the vendor containers, by name with --format', async () => {
    expect((await sh(`docker ps --format '{{.Names}}'`)).stdout).toBe(
      'exchange-sync-api1\ncalendar-cexsy-1\n',
    );
    expect((await sh('docker ps')).stdout).toMatch(
      /^CONTAINER ID .*NAMES\n.*exchange-sync-api1\n.*calendar-cexsy-1\n$/,
    );
  });

  it('reads a container environment variable from its state, as printenv does', async () => {
    expect((await sh('docker exec calendar-cexsy-1 printenv CEXSY_ACCESS_LIST_MODE')).rc).toBe(1);
    await mkdir(join(lab.state, 'docker/env/calendar-cexsy-1'), { recursive: true });
    await writeFile(join(lab.state, 'docker/env/calendar-cexsy-1/CEXSY_ACCESS_LIST_MODE'), 'black\n');
    expect(await sh('docker exec calendar-cexsy-1 printenv CEXSY_ACCESS_LIST_MODE')).toMatchObject({
      rc: 0,
      stdout: 'black\n',
    });
  });

  it('fails -t without a terminal as docker does, and masks tokens in its call log', async () => {
    const r = await sh(
      'docker exec -it exchange-sync-api1 /usr/bin/subscriber -operation=sync_all a@x.example',
    );
    expect(r).toMatchObject({ rc: 1, stderr: 'the input device is not a TTY\n' });
    await sh(
      "docker exec exchange-sync-api1 /usr/bin/subscriber '-sync_api_acl_token=s3cret' -operation=sync_all a@x.example",
    );
    const log = await readFile(join(lab.state, 'calls.log'), 'utf8');
    expect(log).not.toContain('s3cret');
    expect(log).toContain("'-sync_api_acl_token=********'");
  });

  it('refuses a subscriber run without tokens, and unknown containers', async () => {
    const r = await sh('docker exec exchange-sync-api1 /usr/bin/subscriber -operation=sync_all a@x.example');
    expect(r.rc).toBe(1);
    expect(r.stderr).toContain('Unauthenticated');
    expect((await sh('docker exec nope true')).stderr).toBe(
      'Error response from daemon: No such container: nope\n',
    );
  });
});

describe('installer stand-in', () => {
  it('checks its arguments like a careful script', async () => {
    const r = await sh('socat-static-tls-forwarder-install.sh exch1 9443');
    expect(r.rc).toBe(2);
    expect(r.stderr).toMatch(/usage: .* NAME LOCAL_PORT EWS_HOST:PORT/);
    expect((await sh("socat-static-tls-forwarder-install.sh exch1 9443 'ews;reboot:443'")).rc).toBe(2);
  });

  it('writes the unit and nothing starts until systemctl is told', async () => {
    expect((await sh('socat-static-tls-forwarder-install.sh exch1 9443 ews.corp.example:443')).rc).toBe(0);
    const unit = await readFile(join(lab.unitDir, 'socat-static-tls-forwarder-exch1.service'), 'utf8');
    expect(unit).toMatch(
      /^ExecStart=\S+\/socat-static OPENSSL-LISTEN:9443,.* OPENSSL:ews\.corp\.example:443,/m,
    );
    expect((await sh('systemctl is-active socat-static-tls-forwarder-exch1')).stdout).toBe('inactive\n');
    expect((await sh('systemctl is-enabled socat-static-tls-forwarder-exch1')).stdout).toBe('disabled\n');
  });
});

describe('dpkg stand-in', () => {
  it("installs the vendor's .deb with the real dpkg into the host's own root, never the machine's", async () => {
    const built = await sh(`sh ${join(VENDOR_DIR, 'build-socat-static-deb.sh')} pkgs 1.2-3`);
    expect(built.rc).toBe(0);
    // A query of a host that never installed anything reads an empty database and creates none.
    expect(await sh('dpkg -s socat-static')).toMatchObject({
      rc: 1,
      stderr: expect.stringContaining("package 'socat-static' is not installed"),
    });
    expect(existsSync(join(lab.state, 'root'))).toBe(false);

    expect((await sh(`dpkg -i ${built.stdout.trim()}`)).rc).toBe(0);
    expect(existsSync(join(lab.state, 'root/usr/local/bin/socat-static-tls-forwarder-install.sh'))).toBe(
      true,
    );
    const status = (await sh('dpkg -s socat-static')).stdout;
    expect(status).toContain('\nStatus: install ok installed\n');
    expect(status).toContain('\nVersion: 1.2-3\n');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's format
    expect((await sh("dpkg-query -W -f='${Version}' socat-static")).stdout).toBe('1.2-3');
    expect(await readFile(join(lab.state, 'root/var/log/dpkg.log'), 'utf8')).toContain(
      'install socat-static',
    );
    // The machine's own dpkg knows nothing of it.
    expect(spawnSync('dpkg-query', ['-W', 'socat-static']).status).toBe(1);
  });
});

describe('systemctl stand-in', () => {
  it('warns about a changed unit until daemon-reload, as systemd does', async () => {
    await mkdir(lab.unitDir, { recursive: true });
    const unit = join(lab.unitDir, 'sleeper.service');
    await writeFile(unit, '[Service]\nExecStart=/bin/sleep 30\n');
    expect((await sh('systemctl start sleeper && systemctl is-active sleeper')).stdout).toBe('active\n');
    await writeFile(unit, '[Service]\nExecStart=/bin/sleep 31\n');
    expect((await sh('systemctl restart sleeper')).stderr).toContain("Run 'systemctl daemon-reload'");
    expect((await sh('systemctl daemon-reload && systemctl restart sleeper')).stderr).toBe('');
    expect((await sh('systemctl show -p ActiveState,SubState -- sleeper')).stdout).toBe(
      'ActiveState=active\nSubState=running\n',
    );
    await sh('systemctl stop sleeper');
    expect((await sh('systemctl is-active sleeper')).rc).toBe(3);
  });
});
