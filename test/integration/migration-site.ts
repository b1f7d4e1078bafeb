// A whole migration site for tests: three real sshd hosts (mail, hypervisor, exchange) whose sessions get
// the vendor stand-ins of lab/vendor on their PATH (sshd_config SetEnv), a fake Exchange EWS that allows
// impersonation only once the PowerShell stand-in ran New-ManagementRoleAssignment, an HTTP "installer"
// and an inventory made of inventory/example's variables with the lab's values laid over them.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type FakeEws, startFakeEws } from '../../src/lab/fake-ews.js';
import { freePort, type SshdLab, startSshdLab } from '../../src/lab/sshd.js';

const REPO = resolve(import.meta.dirname, '../..');
export const VENDOR_DIR = join(REPO, 'lab/vendor');
export const SERVICE_ACCOUNT = 'svc_vkmail_collector';
export const SERVICE_PASSWORD = 'Site-Secret-7q';
export const MAILBOXES = [
  'Ivan.Petrov@corp.example',
  'Anna.Smirnova@corp.example',
  'Olga.Ivanova@corp.example',
];

export interface SiteHost {
  name: 'mail' | 'hypervisor' | 'exchange';
  dir: string;
  /** $EWSPLAY_LAB_STATE of its stand-ins. */
  state: string;
  calls(): Promise<string[]>;
}

export interface MigrationSite {
  root: string;
  inventoryDir: string;
  hosts: Record<SiteHost['name'], SiteHost>;
  deployerHome: string;
  ews: FakeEws;
  lab: SshdLab;
  /** Runs the ewsplay CLI in the site's directory (its .ewsplay/ state and reports stay there). */
  run(
    playbook: string,
    ...args: string[]
  ): Promise<{ code: number; stdout: string; stderr: string; report: Report }>;
  stop(): Promise<void>;
}

export interface Report {
  check: boolean;
  stats: Record<string, { ok: number; changed: number; failed: number; unreachable: number }>;
  tasks: {
    task: string;
    file: string;
    hosts: Record<string, { status: string; changed: boolean; msg?: string }>;
  }[];
  exitCode?: number;
}

export interface SiteOptions {
  /** true: the socat-static package built by lab/vendor/build-socat-static-deb.sh (the vendor's way). */
  socatPackage?: boolean;
}

const yaml = (vars: Record<string, unknown>) =>
  Object.entries(vars)
    .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
    .join('\n');

export async function startMigrationSite(opts: SiteOptions = {}): Promise<MigrationSite> {
  const root = await mkdtemp(join(tmpdir(), 'ewsplay-site-'));
  await chmod(root, 0o755);
  const names = ['mail', 'hypervisor', 'exchange'] as const;
  const stateOf = (dir: string) => join(dir, 'state');
  const lab = await startSshdLab(3, {
    names: [...names],
    hostConfig: (_name, dir) => [
      `SetEnv PATH=${stateOf(dir)}/root/usr/local/bin:${VENDOR_DIR}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin EWSPLAY_LAB_STATE=${stateOf(dir)} EWSPLAY_UNIT_DIR=${join(dir, 'etc/systemd/system')}`,
    ],
  });
  const hosts = Object.fromEntries(
    lab.hosts.map((h) => {
      const state = stateOf(h.workDir);
      const host: SiteHost = {
        name: h.name as SiteHost['name'],
        dir: h.workDir,
        state,
        calls: async () =>
          (await readFile(join(state, 'calls.log'), 'utf8').catch(() => ''))
            .split('\n')
            .filter((l) => l !== ''),
      };
      return [h.name, host];
    }),
  ) as Record<SiteHost['name'], SiteHost>;
  for (const h of Object.values(hosts)) await mkdir(h.state, { recursive: true });

  const grants = join(hosts.exchange.state, 'impersonation-granted');
  const ews = await startFakeEws({
    users: { [SERVICE_ACCOUNT]: SERVICE_PASSWORD },
    mailboxes: MAILBOXES,
    tls: 'tls1.2-only',
    grantedImpersonators: () => (existsSync(grants) ? readdirSync(grants) : []),
  });
  const installer = http.createServer((_req, res) => res.writeHead(200).end('installer'));
  await new Promise<void>((r) => installer.listen(0, '127.0.0.1', r));
  const installerPort = (installer.address() as AddressInfo).port;

  // The hypervisor's deployer home with the installer's main.yaml (the two tokens the scripts read).
  const deployerHome = join(hosts.hypervisor.dir, 'deployer');
  await mkdir(deployerHome, { recursive: true });
  await copyFile(join(VENDOR_DIR, 'main.yaml'), join(deployerHome, 'main.yaml'));

  const inventoryDir = join(root, 'inventory');
  await mkdir(join(inventoryDir, 'group_vars/all'), { recursive: true });
  const files = join(root, 'files');
  await mkdir(files);
  for (const f of ['main.yml', 'secrets.yml'])
    await copyFile(
      join(REPO, 'inventory/example/group_vars/all', f),
      join(inventoryDir, 'group_vars/all', f),
    );
  const caFile = join(files, 'exchange-ca.pem');
  await writeFile(caFile, ews.caPem ?? '');
  let socatPackage = '';
  if (opts.socatPackage) {
    await run('sh', [join(VENDOR_DIR, 'build-socat-static-deb.sh'), files], root);
    const deb = readdirSync(files).find((f) => f.endsWith('.deb'));
    if (!deb) throw new Error('build-socat-static-deb.sh built no package');
    socatPackage = join(files, deb);
  }
  const forwarderPort = await freePort();
  const ewsUrl = new URL(ews.url);
  // Laid over the example's main.yml (files of group_vars/all merge in order, later keys win).
  await writeFile(
    join(inventoryDir, 'group_vars/all/zz-lab.yml'),
    `${yaml({
      site_name: 'lab',
      site_files: files,
      company_domain: 'lab.example',
      installer_url: `http://127.0.0.1:${installerPort}`,
      admin_panel_url: ews.url,
      ews_host: '127.0.0.1',
      ews_port: Number(ewsUrl.port),
      ews_ca_file: caFile,
      impersonation_retry_delay: 1,
      impersonation_retries: 2,
      tls_forwarder_port: forwarderPort,
      tls_forwarder_listen_address: '127.0.0.1',
      socat_static_package: socatPackage,
      tls_forwarder_cert_dir: join(hosts.mail.dir, 'etc/ewsplay/tls-forwarder'),
      systemd_unit_dir: join(hosts.mail.dir, 'etc/systemd/system'),
      mail_server_address: '127.0.0.1',
      admin_ews_domain_connected: true,
      deployer_home: deployerHome,
      sync_mailboxes: MAILBOXES.slice(0, 2),
      sync_mailboxes_file: '',
      subscribe_mailboxes: MAILBOXES.slice(2),
      subscribe_mailboxes_file: '',
      verify_mailbox: MAILBOXES[0],
    })}\n`,
  );
  const hostLines = lab.hosts.flatMap((h) => [
    `    ${h.name}:`,
    '      hosts:',
    `        lab-${h.name}:`,
    '          ansible_host: 127.0.0.1',
    `          ansible_port: ${h.port}`,
    `          ansible_user: ${JSON.stringify(lab.user)}`,
    '          ansible_become: false',
    `          ansible_ssh_private_key_file: ${JSON.stringify(lab.clientKeyFile)}`,
  ]);
  await writeFile(join(inventoryDir, 'hosts.yml'), ['all:', '  children:', ...hostLines, ''].join('\n'));

  return {
    root,
    inventoryDir,
    hosts,
    deployerHome,
    ews,
    lab,
    async run(playbook, ...args) {
      const report = join(root, `report-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
      const r = await run(
        process.execPath,
        [
          join(REPO, 'bin/ewsplay.js'),
          'run',
          join(REPO, 'playbooks', playbook),
          '-i',
          inventoryDir,
          '--known-hosts',
          lab.knownHostsFile,
          '--report',
          report,
          '-o',
          'plain',
          ...args,
        ],
        root,
        { EWSPLAY_EWS_PASSWORD: SERVICE_PASSWORD },
      );
      const text = await readFile(report, 'utf8').catch(() => {
        throw new Error(`ewsplay wrote no report (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
      });
      return { ...r, report: JSON.parse(text) as Report };
    },
    async stop() {
      // The systemctl stand-in runs each service in its own process group and keeps its pid.
      const run = join(hosts.mail.state, 'systemd/run');
      for (const f of existsSync(run) ? readdirSync(run) : []) {
        const pid = Number(await readFile(join(run, f), 'utf8'));
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      await new Promise((r) => installer.close(r));
      await ews.close();
      await lab.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}

function run(
  cmd: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(cmd, args, { cwd, env: { ...process.env, ...env }, timeout: 60_000 }, (e, stdout, stderr) =>
      done({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout, stderr }),
    );
  });
}
