// The lab's stand-in for VK's installer web UI (port 8888 on a real site), where steps 1 and 2 are done by
// hand. A real installer has no public API; this one takes what an operator types into its forms as JSON
// posts, records them, and on Play (1.4, 2.3) does what the installer's container steps do, as far as the
// procedure can see it on the hypervisor: the exchange-sync-api1 and calendar-cexsy-1 containers run (the
// docker stand-in's list), exchange-sync-api1 carries the integration's settings in its environment and
// calendar-cexsy-1 the variables of its tab. Nothing runs before Play, so an empty or wrong form is seen
// by the checks after it.
//   GET  /                               the page (the installer answers: P1)
//   GET  /settings                       what was recorded (JSON), the password only as set or not
//   POST /products                       {"ews_calendar_migration": true}                             1.2
//   POST /integrations/ews               {"address", "login", "password", "rights_type",
//                                         "skip_ssl_verification", "certificate"}                     1.3
//   POST /environment/calendar-cexsy     {"name", "value"}                                             2.1-2.2
//   POST /play                           re-runs the container steps                                  1.4, 2.3
// The password is never written anywhere: the containers are told only that one was given.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';

/** Where exchange-sync-api1 shows the integration's settings (the inventory's exchange_sync_settings_env). */
export const EXCHANGE_SYNC_ENV = {
  address: 'EWS_ADDRESS',
  login: 'EWS_LOGIN',
  certificate: 'EWS_CA_CERT',
} as const;

export interface InstallerSettings {
  products: { ews_calendar_migration: boolean };
  integration?: {
    address: string;
    login: string;
    password_set: boolean;
    rights_type: string;
    skip_ssl_verification: boolean;
    certificate: string;
  };
  cexsyEnvironment: Record<string, string>;
  plays: number;
}

export interface InstallerStandIn {
  handle(req: IncomingMessage, res: ServerResponse): void;
}

/**
 * `settingsFile`: where the forms' values are kept (JSON); `dockerState`: the hypervisor's docker stand-in
 * state ($EWSPLAY_LAB_STATE/docker), where Play starts the containers and sets their environment.
 */
export function installerStandIn(settingsFile: string, dockerState: string): InstallerStandIn {
  const read = (): InstallerSettings => {
    try {
      return JSON.parse(readFileSync(settingsFile, 'utf8')) as InstallerSettings;
    } catch {
      return { products: { ews_calendar_migration: false }, cexsyEnvironment: {}, plays: 0 };
    }
  };
  const save = (s: InstallerSettings) => writeFileSync(settingsFile, `${JSON.stringify(s, null, 2)}\n`);

  const play = (s: InstallerSettings): string[] => {
    const containers: string[] = [];
    const envDir = (c: string) => {
      const d = join(dockerState, 'env', c);
      mkdirSync(d, { recursive: true });
      return d;
    };
    if (s.products.ews_calendar_migration && s.integration) {
      containers.push('exchange-sync-api1', 'calendar-cexsy-1');
      const sync = envDir('exchange-sync-api1');
      writeFileSync(join(sync, EXCHANGE_SYNC_ENV.address), `${s.integration.address}\n`);
      writeFileSync(join(sync, EXCHANGE_SYNC_ENV.login), `${s.integration.login}\n`);
      writeFileSync(join(sync, EXCHANGE_SYNC_ENV.certificate), `${s.integration.certificate.trim()}\n`);
      const cexsy = envDir('calendar-cexsy-1');
      for (const [k, v] of Object.entries(s.cexsyEnvironment))
        if (/^[A-Z_][A-Z0-9_]*$/.test(k)) writeFileSync(join(cexsy, k), `${v}\n`);
    }
    mkdirSync(dockerState, { recursive: true });
    writeFileSync(join(dockerState, 'containers'), containers.map((c) => `${c}\n`).join(''));
    return containers;
  };

  return {
    handle(req, res) {
      const send = (status: number, body: unknown) =>
        res.writeHead(status, { 'Content-Type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
      if (req.method === 'GET' && req.url === '/settings') return send(200, read());
      if (req.method !== 'POST') {
        res
          .writeHead(200, { 'Content-Type': 'text/html' })
          .end('<html><body>VK WorkSpace installer (ewsplay lab)</body></html>');
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let body: Record<string, unknown>;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
        } catch {
          return send(400, { error: 'the body is not JSON' });
        }
        const s = read();
        const text = (k: string) => (typeof body[k] === 'string' ? (body[k] as string) : '');
        switch (req.url) {
          case '/products':
            s.products.ews_calendar_migration = body.ews_calendar_migration === true;
            break;
          case '/integrations/ews':
            s.integration = {
              address: text('address'),
              login: text('login'),
              password_set: text('password') !== '',
              rights_type: text('rights_type') || 'default',
              skip_ssl_verification: body.skip_ssl_verification === true,
              certificate: text('certificate'),
            };
            break;
          case '/environment/calendar-cexsy':
            if (!/^[A-Z_][A-Z0-9_]*$/.test(text('name')))
              return send(400, { error: 'name: an environment variable name' });
            s.cexsyEnvironment[text('name')] = text('value');
            break;
          case '/play':
            s.plays++;
            save(s);
            return send(200, { containers: play(s) });
          default:
            return send(404, { error: `no form at ${req.url}` });
        }
        save(s);
        return send(200, { saved: req.url });
      });
    },
  };
}

/** The lab's admin panel stand-in: "Подключить новый проект" records a domain; nothing can read it back. */
export function adminPanelStandIn(projectsFile: string): InstallerStandIn {
  return {
    handle(req, res) {
      if (req.method === 'POST' && req.url === '/projects') {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          let domain = '';
          try {
            domain = String(
              (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { domain?: unknown }).domain ?? '',
            );
          } catch {
            /* answered below */
          }
          if (!/^[A-Za-z0-9.-]+$/.test(domain))
            return res.writeHead(400, { 'Content-Type': 'text/plain' }).end('domain: a domain name\n');
          writeFileSync(projectsFile, `${domain}\n`, { flag: 'a' });
          res.writeHead(200, { 'Content-Type': 'text/plain' }).end(`project ${domain} connected\n`);
        });
        return;
      }
      res
        .writeHead(200, { 'Content-Type': 'text/html' })
        .end('<html><body>VK WorkSpace admin panel (ewsplay lab)</body></html>');
    },
  };
}
