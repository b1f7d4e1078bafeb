// The lab's fake EWS as a process of its own (`node dist/lab/fake-ews-main.js CONFIG.json`), so that it
// outlives `ewsplay lab up`. It grants impersonation to an account once the PowerShell stand-in on the lab's
// exchange host has run New-ManagementRoleAssignment for it (the stand-in leaves a file per account in
// grantsDir; the directory is read on every request, so there is no window where the two disagree).
// Beside it run the two web interfaces of the procedure: the installer UI (HTTP) and the admin panel (HTTPS),
// stand-ins that answer and record what the operator enters (installer-standin.ts). It writes {pid, port, installerPort, adminPort} to
// stateFile once listening, logs each answered EWS request as a JSON line, and stops on SIGTERM or SIGINT.
import { appendFileSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import http, { type Server } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { type FakeTls, startFakeEws } from './fake-ews.js';
import { adminPanelStandIn, installerStandIn } from './installer-standin.js';

export interface FakeEwsProcessConfig {
  users: Record<string, string>;
  mailboxes: string[];
  /** Mailboxes an account may not impersonate although it holds the role (account -> SMTP addresses). */
  impersonationDeniedFor?: Record<string, string[]>;
  /** Basic authentication on, beside Windows authentication (off on a default Exchange). */
  basicAuth?: boolean;
  tls: FakeTls;
  certFile: string;
  keyFile: string;
  /** The PowerShell stand-in's impersonation-granted directory on the exchange host. */
  grantsDir: string;
  /** JSON lines, one per answered request. */
  requestLog: string;
  /** Where {pid, port} is written once the server listens. */
  stateFile: string;
  /** The installer stand-in's record of its forms (JSON). */
  installerSettingsFile: string;
  /** The hypervisor's docker stand-in state, where the installer's Play starts the containers. */
  hypervisorDockerState: string;
  /** The admin panel stand-in's record of connected projects. */
  adminProjectsFile: string;
}

async function main(configFile: string): Promise<void> {
  const config = JSON.parse(readFileSync(configFile, 'utf8')) as FakeEwsProcessConfig;
  const byLowerName = new Map(Object.keys(config.users).map((u) => [u.toLowerCase(), u]));
  const granted = (): string[] => {
    let files: string[];
    try {
      files = readdirSync(config.grantsDir);
    } catch {
      return [];
    }
    // Active Directory names compare case-insensitively.
    return files.map((f) => byLowerName.get(f.toLowerCase())).filter((u): u is string => u !== undefined);
  };
  const ews = await startFakeEws({
    users: config.users,
    mailboxes: config.mailboxes,
    ...(config.impersonationDeniedFor ? { impersonationDeniedFor: config.impersonationDeniedFor } : {}),
    basicAuth: config.basicAuth === true,
    tls: config.tls,
    cert: { certPem: readFileSync(config.certFile, 'utf8'), keyPem: readFileSync(config.keyFile, 'utf8') },
    grantedImpersonators: granted,
    onRequest: (r) => appendFileSync(config.requestLog, `${JSON.stringify({ time: new Date(), ...r })}\n`),
  });
  const installerUi = installerStandIn(config.installerSettingsFile, config.hypervisorDockerState);
  const adminUi = adminPanelStandIn(config.adminProjectsFile);
  const installer = await listen(http.createServer((req, res) => installerUi.handle(req, res)));
  const admin = await listen(
    https.createServer(
      { cert: readFileSync(config.certFile), key: readFileSync(config.keyFile) },
      (req, res) => adminUi.handle(req, res),
    ),
  );
  const tmp = `${config.stateFile}.tmp`;
  writeFileSync(
    tmp,
    JSON.stringify({
      pid: process.pid,
      port: ews.port,
      url: ews.url,
      installerPort: installer,
      adminPort: admin,
    }),
  );
  renameSync(tmp, config.stateFile);
  const stop = () => {
    void ews.close().then(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

const configFile = process.argv[2];
if (!configFile) {
  process.stderr.write('usage: fake-ews-main CONFIG.json\n');
  process.exit(2);
}
main(configFile).catch((e: unknown) => {
  process.stderr.write(`fake EWS: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
