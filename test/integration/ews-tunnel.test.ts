// ews_event with via_host through a real OpenSSH server: EWS reached from the mail host, as the procedure's
// mail server sees Exchange, with TLS (1.2 only, as Exchange 2013) verified end to end inside the tunnel, and
// NTLMv2 (Exchange's default; Basic off) run on one kept-alive connection through it.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectSsh, type SshConnection } from '../../src/connection/ssh.js';
import { toRegistered } from '../../src/engine/task-runner.js';
import { type FakeEws, startFakeEws } from '../../src/lab/fake-ews.js';
import { type SshdLab, startSshdLab } from '../../src/lab/sshd.js';
import { ewsEventModule } from '../../src/modules/ews_event.js';
import { makeContext } from '../unit/modules/context.js';

const SVC = 'CORP\\svc_vkmail_collector';
const PASSWORD = 'Tunnel-Secret-9';
const MAILBOX = 'Olga.Smirnova@corp.example';

let lab: SshdLab;
let conn: SshConnection;
let ews: FakeEws;

beforeAll(async () => {
  process.env.HOME = await mkdtemp(join(tmpdir(), 'ewsplay-home-'));
  lab = await startSshdLab(1);
  const h = lab.hosts[0]!;
  conn = await connectSsh({
    host: h.name,
    connection: 'ssh',
    address: '127.0.0.1',
    port: h.port,
    user: lab.user,
    privateKeyFile: lab.clientKeyFile,
    knownHostsFile: lab.knownHostsFile,
    connectTimeoutMs: 5000,
  });
  ews = await startFakeEws({
    users: { [SVC]: PASSWORD },
    mailboxes: [MAILBOX],
    impersonators: [SVC],
    tls: 'tls1.2-only',
  });
});

afterAll(async () => {
  await conn?.close();
  await lab?.stop();
  await ews?.close();
});

it('creates, finds and deletes the test event through the SSH host, logged in with NTLM', async () => {
  const ctx = makeContext({ host: conn.host, conn });
  const { writeFile } = await import('node:fs/promises');
  const caFile = join(process.env.HOME ?? tmpdir(), 'exchange-ca.pem');
  await writeFile(caFile, ews.caPem ?? '');
  const args = {
    url: ews.url,
    username: SVC,
    password: PASSWORD,
    mailbox: MAILBOX,
    ca_file: caFile,
    via_host: true,
  };
  const check = await ewsEventModule.run({ ...ctx, check: true }, args);
  // The engine stamps check_mode on what the task registers.
  expect(toRegistered(check, true)).toMatchObject({ changed: false, check_mode: true });
  const r = await ewsEventModule.run(ctx, args);
  expect(r).toMatchObject({ changed: false, data: { found: true, deleted: true } });
  const answered = ews.requests.filter((q) => q.status !== 401);
  expect(answered.map((q) => q.operation)).toEqual([
    'GetFolder',
    'GetFolder',
    'CreateItem',
    'FindItem',
    'GetItem',
    'DeleteItem',
  ]);
  for (const q of answered) expect([q.auth, q.account]).toEqual(['NTLM', SVC]);
  // Two runs, two clients: one handshake each (the probe that learns the offers, then the negotiate).
  expect(ews.requests.filter((q) => q.status === 401)).toHaveLength(4);
  expect(ews.events(MAILBOX)).toEqual([]);
});

it('says in one sentence, without the password, that the NTLM login was refused', async () => {
  const ctx = makeContext({ host: conn.host, conn });
  const wrong = 'Tunnel-Secret-8';
  const r = await ewsEventModule.run(ctx, {
    url: ews.url,
    username: SVC,
    password: wrong,
    mailbox: MAILBOX,
    auth: 'ntlm',
    skip_verify: true,
    via_host: true,
  });
  expect(r).toMatchObject({ failed: true, data: { failure: 'unauthorized' } });
  expect(r.msg).toBe(
    `EWS at ${ews.url} refused the NTLM login of ${SVC} (the server offers Negotiate, NTLM): the password is wrong, or the account may be locked or disabled; check the password and the user name (DOMAIN\\user or user@domain), and in Active Directory that the account is enabled and not locked out`,
  );
  expect(JSON.stringify(r)).not.toContain(wrong);
});
