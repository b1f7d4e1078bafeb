// A whole migration site for tests: three real sshd hosts (mail, hypervisor, exchange) whose sessions get
// the vendor stand-ins of lab/vendor on their PATH (sshd_config SetEnv; the exchange host's sshd hands each
// command to the stand-in of Windows OpenSSH's default shell, `powershell.exe -c "<command>"`), a fake
// Exchange EWS speaking only TLS 1.0 that allows impersonation only once the PowerShell stand-in ran
// New-ManagementRoleAssignment, the installer's stand-in (nothing runs until the operator fills its form
// and presses Play) and an inventory made of inventory/example's variables with the lab's values laid
// over them. While a run goes on, every process's argument list is sampled for the site's secrets.
// With `sudo`, the mail host is logged into as inventory/example's mail group does it: a non-root user with
// ansible_become and its sudo password (EWSPLAY_BECOME_PASSWORD, read by the example's secrets.yml), and
// the real /usr/bin/sudo, which asks for it. That user's sudoers entry keeps the session's PATH and the
// stand-ins' variables (on a real site the tools they stand in for are on sudo's secure_path).
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import tls from 'node:tls';
import { type FakeEws, startFakeEws } from '../../src/lab/fake-ews.js';
import { EXCHANGE_SYNC_ENV, installerStandIn } from '../../src/lab/installer-standin.js';
import { selfSignedCert } from '../../src/lab/pki.js';
import { ensureSudoUser, freePort, type SshdLab, startSshdLab } from '../../src/lab/sshd.js';

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
  forwarderPort: number;
  installerUrl: string;
  /** Runs the ewsplay CLI in the site's directory (its .ewsplay/ state and reports stay there). */
  run(
    playbook: string,
    ...args: string[]
  ): Promise<{ code: number; stdout: string; stderr: string; report: Report }>;
  /** Argument lists of processes seen holding a secret of the site while runs went on (must stay empty). */
  leakedArgv: string[];
  /** With `sudo`: the mail host's login user and its sudo password (also a secret of the site). */
  sudo?: { user: string; password: string };
  /** Steps 1-2 done in the installer stand-in as an operator does them (values as given), then Play. */
  fillInstaller(form: { address: string; login: string; certificate: string; cexsy?: string }): Promise<void>;
  /** The certificate (PEM) the forwarder serves on the mail host. */
  servedCertificate(): Promise<string>;
  stop(): Promise<void>;
}

export interface Report {
  check: boolean;
  stats: Record<string, { ok: number; changed: number; failed: number; unreachable: number }>;
  tasks: {
    task: string;
    file: string;
    hosts: Record<string, { status: string; changed: boolean; msg?: string; data?: Record<string, unknown> }>;
  }[];
  exitCode?: number;
}

export interface SiteOptions {
  /** true: the socat-static package built by lab/vendor/build-socat-static-deb.sh (the vendor's way). */
  socatPackage?: boolean;
  /** true: the mail host through a non-root user, ansible_become and the real sudo with a password. */
  sudo?: boolean;
}

/** The sudo test's login user on the mail host (its own sudoers file: see ensureSudoUser). */
export const SUDO_SITE_USER = 'ewsplay-site';

const yaml = (vars: Record<string, unknown>) =>
  Object.entries(vars)
    .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
    .join('\n');

export async function startMigrationSite(opts: SiteOptions = {}): Promise<MigrationSite> {
  const root = await mkdtemp(join(tmpdir(), 'ewsplay-site-'));
  await chmod(root, 0o755);
  const names = ['mail', 'hypervisor', 'exchange'] as const;
  const stateOf = (dir: string) => join(dir, 'state');
  const sudo = opts.sudo
    ? ensureSudoUser(SUDO_SITE_USER, ['!secure_path', 'env_keep += "EWSPLAY_LAB_STATE EWSPLAY_UNIT_DIR"'])
    : undefined;
  // The real sudo ahead of the vendor directory's pass-through stand-in.
  const realSudo = join(root, 'real-sudo');
  if (sudo) {
    await mkdir(realSudo);
    await symlink('/usr/bin/sudo', join(realSudo, 'sudo'));
  }
  const lab = await startSshdLab(3, {
    names: [...names],
    hostConfig: (name, dir) => [
      `SetEnv PATH=${stateOf(dir)}/root/usr/local/bin:${sudo && name === 'mail' ? `${realSudo}:` : ''}${VENDOR_DIR}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin EWSPLAY_LAB_STATE=${stateOf(dir)} EWSPLAY_UNIT_DIR=${join(dir, 'etc/systemd/system')}`,
      // Windows OpenSSH runs each command through its default shell (a stand-in here).
      ...(name === 'exchange' ? [`ForceCommand ${join(VENDOR_DIR, 'windows-openssh-shell')}`] : []),
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
    tls: 'tls1.0-only',
    grantedImpersonators: () => (existsSync(grants) ? readdirSync(grants) : []),
  });
  // Steps 1-3 not done: no container runs until the installer's Play. The stand-ins' state directories
  // exist as on a host that has them, so read-only queries (check mode) change nothing.
  const docker = join(hosts.hypervisor.state, 'docker');
  await mkdir(join(docker, 'subscriber'), { recursive: true });
  await mkdir(join(docker, 'env'), { recursive: true });
  await writeFile(join(docker, 'containers'), '');
  await mkdir(join(hosts.exchange.state, 'exchange'), { recursive: true });
  await mkdir(grants, { recursive: true });
  await writeFile(join(hosts.exchange.state, 'exchange', 'assignments'), '');
  const installerUi = installerStandIn(join(root, 'installer-settings.json'), docker);
  const installer = http.createServer((req, res) => installerUi.handle(req, res));
  await new Promise<void>((r) => installer.listen(0, '127.0.0.1', r));
  const installerPort = (installer.address() as AddressInfo).port;
  // The admin panel (HTTPS; P1/P2 only checks that it answers).
  const adminCert = await selfSignedCert('biz.lab.example', ['127.0.0.1']);
  const admin = https.createServer({ cert: adminCert.certPem, key: adminCert.keyPem }, (_req, res) =>
    res.writeHead(200).end('admin panel'),
  );
  await new Promise<void>((r) => admin.listen(0, '127.0.0.1', r));
  const adminPort = (admin.address() as AddressInfo).port;

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
      admin_panel_url: `https://127.0.0.1:${adminPort}/`,
      ews_host: '127.0.0.1',
      ews_port: Number(ewsUrl.port),
      ews_ca_file: caFile,
      ews_min_tls_version: 'TLSv1',
      exchange_sync_settings_env: { ...EXCHANGE_SYNC_ENV },
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
    ...(sudo && h.name === 'mail'
      ? [`          ansible_user: ${JSON.stringify(sudo.user)}`, '          ansible_become: true']
      : [`          ansible_user: ${JSON.stringify(lab.user)}`, '          ansible_become: false']),
    ...(h.name === 'exchange' ? ['          ansible_shell_type: powershell'] : []),
    `          ansible_ssh_private_key_file: ${JSON.stringify(lab.clientKeyFile)}`,
  ]);
  await writeFile(join(inventoryDir, 'hosts.yml'), ['all:', '  children:', ...hostLines, ''].join('\n'));

  const installerUrl = `http://127.0.0.1:${installerPort}`;
  const leakedArgv: string[] = [];
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${installerUrl}${path}`, {
      method: 'POST',
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) throw new Error(`installer ${path}: HTTP ${res.status}`);
  };
  return {
    root,
    inventoryDir,
    hosts,
    deployerHome,
    ews,
    lab,
    forwarderPort,
    installerUrl,
    leakedArgv,
    ...(sudo ? { sudo } : {}),
    async fillInstaller(form) {
      await post('/products', { ews_calendar_migration: true });
      await post('/integrations/ews', {
        address: form.address,
        login: form.login,
        password: SERVICE_PASSWORD,
        rights_type: 'default',
        skip_ssl_verification: false,
        certificate: form.certificate,
      });
      if (form.cexsy)
        await post('/environment/calendar-cexsy', { name: 'CEXSY_ACCESS_LIST_MODE', value: form.cexsy });
      await post('/play', {});
    },
    servedCertificate() {
      return new Promise((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port: forwarderPort, rejectUnauthorized: false }, () => {
          const raw = s.getPeerCertificate().raw;
          s.destroy();
          const b64 = raw.toString('base64').replace(/.{64}/g, '$&\n').trim();
          resolve(`-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`);
        });
        s.once('error', reject);
        s.setTimeout(5000, () => s.destroy(new Error('the forwarder did not answer')));
      });
    },
    async run(playbook, ...args) {
      const report = join(root, `report-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
      const sampler = sampleArgv([SERVICE_PASSWORD, ...(sudo ? [sudo.password] : [])], leakedArgv);
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
        {
          EWSPLAY_EWS_PASSWORD: SERVICE_PASSWORD,
          ...(sudo ? { EWSPLAY_BECOME_PASSWORD: sudo.password } : {}),
        },
      ).finally(() => clearInterval(sampler));
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
      await new Promise((r) => admin.close(r));
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

/** Every 20 ms, the argument list of every process is read; one holding a secret is recorded. */
function sampleArgv(secrets: string[], leaked: string[]): NodeJS.Timeout {
  return setInterval(() => {
    let pids: string[];
    try {
      pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
    } catch {
      return;
    }
    for (const pid of pids) {
      try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
        if (secrets.some((x) => argv.includes(x))) leaked.push(`${pid}: ${argv}`);
      } catch {
        /* gone */
      }
    }
  }, 20);
}

/** Tasks changed over all hosts of a report. */
export const changed = (r: Report) => Object.values(r.stats).reduce((n, s) => n + s.changed, 0);

/** `host: task: message` for every failed task of a report. */
export const failedTasks = (r: Report) =>
  r.tasks.flatMap((t) =>
    Object.entries(t.hosts)
      .filter(([, h]) => h.status === 'failed')
      .map(([host, h]) => `${host}: ${t.task}: ${h.msg}`),
  );
