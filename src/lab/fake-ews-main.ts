// The lab's fake EWS as a process of its own (`node dist/lab/fake-ews-main.js CONFIG.json`), so that it
// outlives `ewsplay lab up`. It grants impersonation to an account once the PowerShell stand-in on the lab's
// exchange host has run New-ManagementRoleAssignment for it (the stand-in leaves a file per account in
// grantsDir; the directory is read on every request, so there is no window where the two disagree).
// Beside it run the two web interfaces the procedure's prerequisites check: the installer UI (HTTP) and
// the admin panel (HTTPS), each a page that answers. It writes {pid, port, installerPort, adminPort} to
// stateFile once listening, logs each answered EWS request as a JSON line, and stops on SIGTERM or SIGINT.
import { appendFileSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import http, { type Server } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { type FakeTls, startFakeEws } from './fake-ews.js';

export interface FakeEwsProcessConfig {
  users: Record<string, string>;
  mailboxes: string[];
  tls: FakeTls;
  certFile: string;
  keyFile: string;
  /** The PowerShell stand-in's impersonation-granted directory on the exchange host. */
  grantsDir: string;
  /** JSON lines, one per answered request. */
  requestLog: string;
  /** Where {pid, port} is written once the server listens. */
  stateFile: string;
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
    tls: config.tls,
    cert: { certPem: readFileSync(config.certFile, 'utf8'), keyPem: readFileSync(config.keyFile, 'utf8') },
    grantedImpersonators: granted,
    onRequest: (r) => appendFileSync(config.requestLog, `${JSON.stringify({ time: new Date(), ...r })}\n`),
  });
  const page = (title: string) => (_req: unknown, res: http.ServerResponse) =>
    res
      .writeHead(200, { 'Content-Type': 'text/html' })
      .end(`<html><body>${title} (ewsplay lab)</body></html>`);
  const installer = await listen(http.createServer(page('VK WorkSpace installer')));
  const admin = await listen(
    https.createServer(
      { cert: readFileSync(config.certFile), key: readFileSync(config.keyFile) },
      page('VK WorkSpace admin panel'),
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
