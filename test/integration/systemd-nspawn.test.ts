// A3 (tasks/tls-forwarder.yml, ewsplay's own socat unit) against REAL systemd: the mail host is a Debian
// bookworm systemd-nspawn container booted from a debootstrap'd tree (src/lab/nspawn.ts; built once into
// /var/cache/ewsplay-test, each boot on a throwaway overlay), reached by ewsplay over its sshd on 127.0.0.1,
// forwarding to a fake EWS on the host that speaks only TLS 1.0. What systemd itself says is read inside the
// container (nsenter, not through ewsplay): `systemctl show`, the unit file, the journal's count of PID 1's
// "Reloading." lines and the forwarder's command line. Proven: --check on a bare host touches nothing; the
// first run writes the unit, reloads, starts and enables it (systemd has no stale unit, EWS answers
// through it); the second run changes nothing (no reload, same process); --check with a changed target
// predicts the restart and touches nothing; the real run reloads once and restarts the forwarder onto the
// new target, after which a run is 0 changed again. Skipped only where a probe finds this machine cannot
// boot a container (the reason is in the suite's name); a failed build of the tree fails the suite.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeEws, startFakeEws } from '../../src/lab/fake-ews.js';
import { bootContainer, ensureRootfs, type NspawnHost, nspawnUnavailable } from '../../src/lab/nspawn.js';
import { freePort } from '../../src/lab/sshd.js';
import { ewsplayIn } from './cli.js';
import type { Report } from './migration-site.js';

const REPO = resolve(import.meta.dirname, '../..');
const UNIT = 'socat-tls-forwarder-exch1.service';
const UNIT_FILE = `/etc/systemd/system/${UNIT}`;
const CERT = '/etc/ewsplay/tls-forwarder/exch1.crt';

const unavailable = await nspawnUnavailable();
if (unavailable) console.warn(`systemd-nspawn test skipped: ${unavailable}`);

/** What systemd and the file system say about the forwarder, read inside the container. */
interface SystemdState {
  show: Record<string, string>;
  /** How many times PID 1 reloaded its configuration since boot. */
  reloads: number;
  /** The files under /etc/systemd/system and /etc/ewsplay: path, mode, size, mtime (ns). */
  files: string;
  unit: string;
  /** The running forwarder's command line. */
  cmdline: string;
}

const STATE_SCRIPT = `
u=${UNIT}
systemctl show "$u" -p LoadState,ActiveState,SubState,UnitFileState,MainPID,ExecMainStartTimestampMonotonic,NRestarts,NeedDaemonReload,FragmentPath
journalctl --sync 2>/dev/null
echo "reloads=$(journalctl -q -o cat _PID=1 | grep -c '^Reloading\\.$')"
pid=$(systemctl show -p MainPID --value "$u")
[ "$pid" -gt 0 ] 2>/dev/null && echo "cmdline=$(tr '\\0' ' ' < /proc/$pid/cmdline)"
echo --files--
find /etc/systemd/system /etc/ewsplay -xdev -printf '%p %m %s %T@\\n' 2>/dev/null | sort
echo --unit--
cat ${UNIT_FILE} 2>/dev/null
exit 0
`;

describe.skipIf(unavailable !== undefined)(
  `A3 on a mail host run by real systemd (systemd-nspawn)${unavailable ? `: skipped, ${unavailable}` : ''}`,
  () => {
    let host: NspawnHost;
    let ews: FakeEws;
    let ews2: FakeEws;
    let dir: string;
    let forwarderPort: number;

    const state = async (): Promise<SystemdState> => {
      const r = await host.exec(STATE_SCRIPT);
      if (r.code !== 0) throw new Error(`reading systemd's state failed: ${r.stderr}`);
      const [head = '', rest = ''] = r.stdout.split('--files--\n');
      const [files = '', unit = ''] = rest.split('--unit--\n');
      const show: Record<string, string> = {};
      let reloads = Number.NaN;
      let cmdline = '';
      for (const line of head.split('\n')) {
        const eq = line.indexOf('=');
        if (eq < 0) continue;
        const [k, v] = [line.slice(0, eq), line.slice(eq + 1)];
        if (k === 'reloads') reloads = Number(v);
        else if (k === 'cmdline') cmdline = v.trim();
        else show[k] = v;
      }
      return { show, reloads, files, unit, cmdline };
    };

    const run = async (...args: string[]) => {
      const report = join(dir, `report-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
      const r = await ewsplayIn(
        dir,
        [
          'run',
          join(dir, 'a3.yml'),
          '-i',
          join(dir, 'hosts.yml'),
          '--known-hosts',
          host.knownHostsFile,
          '--report',
          report,
          '-o',
          'plain',
          ...args,
        ],
        120_000,
      );
      const text = await readFile(report, 'utf8').catch(() => {
        throw new Error(`ewsplay wrote no report (exit ${r.rc}):\n${r.stdout}\n${r.stderr}`);
      });
      const rep = JSON.parse(text) as Report;
      const result = (task: RegExp) =>
        rep.tasks.filter((t) => task.test(t.task)).flatMap((t) => Object.values(t.hosts))[0];
      const changed = Object.values(rep.stats).reduce((n, s) => n + s.changed, 0);
      return { ...r, report: rep, changed, result, out: `${r.stdout}\n${r.stderr}` };
    };
    const ownUnit = (r: Awaited<ReturnType<typeof run>>) => r.result(/ewsplay's own socat unit/);
    const a34 = (r: Awaited<ReturnType<typeof run>>) => r.result(/^A3\.4/);

    beforeAll(async () => {
      const rootfs = await ensureRootfs();
      console.info(
        rootfs.built
          ? `built the container's root file system at ${rootfs.path} in ${rootfs.seconds.toFixed(0)} s`
          : `using the cached root file system at ${rootfs.path}`,
      );
      host = await bootContainer(rootfs.path);
      // Exchange 2013 on an old Windows: TLS 1.0 only. A second one is the "changed target".
      const opts = { users: { svc_vkmail_collector: 'nspawn-test-pw' }, mailboxes: ['a@corp.example'] };
      ews = await startFakeEws({ ...opts, tls: 'tls1.0-only' });
      ews2 = await startFakeEws({ ...opts, tls: 'tls1.0-only' });
      forwarderPort = await freePort();
      dir = await mkdtemp(join(tmpdir(), 'ewsplay-nspawn-run-'));
      await writeFile(
        join(dir, 'hosts.yml'),
        [
          'all:',
          '  children:',
          '    mail:',
          '      hosts:',
          '        nspawn-mail:',
          '          ansible_host: 127.0.0.1',
          `          ansible_port: ${host.port}`,
          '          ansible_user: root',
          `          ansible_ssh_private_key_file: ${JSON.stringify(host.clientKeyFile)}`,
          '          ansible_ssh_common_args: "-F /dev/null"',
          '',
        ].join('\n'),
      );
      const vars = {
        tls_forwarder_name: 'exch1',
        tls_forwarder_port: forwarderPort,
        tls_forwarder_listen_address: '127.0.0.1',
        tls_forwarder_min_tls: 'TLS1',
        tls_forwarder_cert_dir: '/etc/ewsplay/tls-forwarder',
        systemd_unit_dir: '/etc/systemd/system',
        socat_static_package: '',
        // The installer form's address for the containers: the generated certificate must name it too.
        mail_server_address: 'vkmail-01.lab.example',
        ews_host: '127.0.0.1',
        ews_port: ews.port,
        ews_url: 'https://{{ ews_host }}:{{ ews_port }}/EWS/Exchange.asmx',
      };
      await writeFile(
        join(dir, 'a3.yml'),
        [
          '- name: A3 on a mail server run by systemd',
          '  hosts: mail',
          '  gather_facts: false',
          '  vars:',
          ...Object.entries(vars).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`),
          '  tasks:',
          `    - import_tasks: ${JSON.stringify(join(REPO, 'tasks/tls-forwarder.yml'))}`,
          '',
        ].join('\n'),
      );
    }, 1_020_000);

    afterAll(async () => {
      await host?.stop();
      await ews?.close();
      await ews2?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    }, 60_000);

    it('boots systemd as the container init, with nothing of the forwarder yet', async () => {
      const r = await host.exec(
        'systemctl is-system-running --wait; readlink /proc/1/exe; systemd-detect-virt',
      );
      expect(r.stdout.split('\n')).toEqual([
        expect.stringMatching(/^(running|degraded)$/),
        '/usr/lib/systemd/systemd',
        'systemd-nspawn',
        '',
      ]);
      const s = await state();
      expect(s.show).toMatchObject({ LoadState: 'not-found', ActiveState: 'inactive' });
      expect(s.unit).toBe('');
    }, 60_000);

    it('--check on the bare host predicts the whole install and touches nothing', async () => {
      const before = await state();
      const r = await run('--check', '--diff');
      expect(r.rc, r.out).toBe(0);
      expect(ownUnit(r)).toMatchObject({ status: 'changed' });
      expect(ownUnit(r)?.msg).toMatch(
        /^would generate a self-signed certificate .*; write \/etc\/systemd\/system\/socat-tls-forwarder-exch1\.service; daemon-reload; start; enable$/,
      );
      // Under --check the forwarder cannot answer yet: A3.4 waits for the real run.
      expect(a34(r)?.status).toBe('skipped');
      expect(await state()).toEqual(before);
      expect(ews.requests).toEqual([]);
    }, 120_000);

    it('the first run writes the unit, reloads, starts and enables it; EWS answers through it', async () => {
      const before = await state();
      const r = await run();
      expect(r.rc, r.out).toBe(0);
      expect(ownUnit(r)).toMatchObject({ status: 'changed' });
      expect(ownUnit(r)?.data?.actions).toEqual([
        expect.stringMatching(/^generate a self-signed certificate /),
        `write ${UNIT_FILE}`,
        'daemon-reload',
        'start',
        'enable',
      ]);
      const after = await state();
      expect(after.show).toMatchObject({
        LoadState: 'loaded',
        ActiveState: 'active',
        SubState: 'running',
        UnitFileState: 'enabled',
        NeedDaemonReload: 'no',
        FragmentPath: UNIT_FILE,
        NRestarts: '0',
      });
      // ewsplay's daemon-reload and the one `systemctl enable` does itself.
      expect(after.reloads).toBeGreaterThan(before.reloads);
      expect(after.files).toContain(`/etc/systemd/system/multi-user.target.wants/${UNIT} 777`);
      expect(after.cmdline).toContain(
        `OPENSSL-LISTEN:${forwarderPort},bind=127.0.0.1,reuseaddr,fork,cert=${CERT}`,
      );
      expect(after.cmdline).toContain(
        `OPENSSL:127.0.0.1:${ews.port},verify=0,openssl-min-proto-version=TLS1`,
      );
      // A3.4: TLS 1.3 to the forwarder, TLS 1.0 on to EWS, whose 401 came back through it.
      expect(a34(r)).toMatchObject({ status: 'ok', data: { protocol: 'TLSv1.3', http_status: 401 } });
      expect(ews.requests.length).toBeGreaterThan(0);
      const cert = await host.exec(`openssl x509 -noout -text -in ${CERT}`);
      expect(cert.stdout).toMatch(
        /Subject Alternative Name: *\n *IP Address:127\.0\.0\.1, DNS:vkmail-01\.lab\.example\n/,
      );
    }, 120_000);

    it('the second run changes nothing: no reload, no restart', async () => {
      const before = await state();
      const r = await run();
      expect(r.rc, r.out).toBe(0);
      expect(r.changed).toBe(0);
      expect(ownUnit(r)).toMatchObject({ status: 'ok' });
      expect(ownUnit(r)?.msg).toBe(
        `${UNIT} (:${forwarderPort} -> 127.0.0.1:${ews.port}) installed, running and enabled`,
      );
      expect(a34(r)).toMatchObject({ status: 'ok', data: { http_status: 401 } });
      expect(await state()).toEqual(before);
    }, 120_000);

    it('--check with a changed target predicts a reload and restart, and touches nothing', async () => {
      const before = await state();
      const seen = ews2.requests.length;
      const r = await run('--check', '--diff', '-e', JSON.stringify({ ews_port: ews2.port }));
      expect(r.rc, r.out).toBe(0);
      expect(ownUnit(r)).toMatchObject({ status: 'changed' });
      expect(ownUnit(r)?.msg).toBe(`would rewrite ${UNIT_FILE}; daemon-reload; restart`);
      expect(r.out).toContain(`+ExecStart=/usr/bin/socat OPENSSL-LISTEN:${forwarderPort}`);
      expect(r.out).toContain(`OPENSSL:127.0.0.1:${ews2.port},`);
      expect(await state()).toEqual(before);
      expect(ews2.requests.length).toBe(seen);
    }, 120_000);

    it('a changed target rewrites the unit, reloads once and restarts the forwarder onto it; then 0 changed', async () => {
      const before = await state();
      const seen = ews.requests.length;
      const r = await run('-e', JSON.stringify({ ews_port: ews2.port }));
      expect(r.rc, r.out).toBe(0);
      expect(ownUnit(r)?.data?.actions).toEqual([`rewrite ${UNIT_FILE}`, 'daemon-reload', 'restart']);
      const after = await state();
      expect(after.show).toMatchObject({
        ActiveState: 'active',
        SubState: 'running',
        UnitFileState: 'enabled',
        NeedDaemonReload: 'no',
      });
      expect(after.reloads).toBe(before.reloads + 1);
      // A new process, started later, running the new unit (a restart without the reload would run the old one).
      expect(after.show.MainPID).not.toBe(before.show.MainPID);
      expect(Number(after.show.ExecMainStartTimestampMonotonic)).toBeGreaterThan(
        Number(before.show.ExecMainStartTimestampMonotonic),
      );
      expect(after.cmdline).toContain(`OPENSSL:127.0.0.1:${ews2.port},`);
      expect(after.cmdline).not.toContain(`:${ews.port},`);
      expect(a34(r)).toMatchObject({ status: 'ok', data: { http_status: 401 } });
      expect(ews2.requests.length).toBeGreaterThan(0);
      expect(ews.requests.length).toBe(seen);

      const again = await run('-e', JSON.stringify({ ews_port: ews2.port }));
      expect(again.rc, again.out).toBe(0);
      expect(again.changed).toBe(0);
      expect(await state()).toEqual(after);
    }, 120_000);
  },
);
