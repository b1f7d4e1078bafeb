// The ews_event module against the fake Exchange (as Exchange ships: Negotiate and NTLM, Basic off), through
// the real ews-javascript-api, with its default auth (auto, which takes NTLM).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalConnection } from '../../../src/connection/local.js';
import { toRegistered } from '../../../src/engine/task-runner.js';
import { type FakeEws, startFakeEws } from '../../../src/lab/fake-ews.js';
import { ewsEventModule } from '../../../src/modules/ews_event.js';
import { argsValidator, makeContext } from '../modules/context.js';

const SVC = 'svc_vkmail_collector';
const PASSWORD = 'Very-Secret-42';
const MAILBOX = 'Maria.Ivanova@corp.example';

let ews: FakeEws;
let caFile: string;

beforeAll(async () => {
  ews = await startFakeEws({
    users: { [SVC]: PASSWORD },
    mailboxes: [MAILBOX],
    impersonators: [SVC],
  });
  const { writeFile, mkdtemp } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  caFile = join(await mkdtemp(join(tmpdir(), 'ewsplay-ews-event-')), 'ca.pem');
  await writeFile(caFile, ews.caPem ?? '');
});
afterAll(() => ews.close());

function args(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    url: ews.url,
    username: SVC,
    password: PASSWORD,
    mailbox: MAILBOX,
    ca_file: caFile,
    timeout: 10,
    ...extra,
  };
}

/** The requests answered since the n-th, without NTLM's handshake legs (401s). */
function answeredSince(n: number) {
  return ews.requests.slice(n).filter((r) => r.status !== 401);
}

function operationsSince(n: number): string[] {
  return answeredSince(n).map((r) => r.operation);
}

describe('ews_event', () => {
  it('has a strict args schema', () => {
    const valid = argsValidator(ewsEventModule);
    expect(valid(args())).toBe(true);
    expect(valid(args({ min_tls_version: 'TLSv1.1', auth: 'ntlm', via_host: true, retries: 3 }))).toBe(true);
    expect(valid(args({ url: 'http://ews.example/EWS/Exchange.asmx' }))).toBe(false);
    expect(valid(args({ min_tls_version: 'SSLv3' }))).toBe(false);
    expect(valid(args({ mailboxes: [MAILBOX] }))).toBe(false);
  });

  it('creates, finds and deletes a uniquely named event, reporting ok and never the password', async () => {
    const ctx = makeContext();
    const n = ews.requests.length;
    const r = await ewsEventModule.run(ctx, args());
    expect(r).toMatchObject({
      changed: false,
      data: { mailbox: MAILBOX, found: true, deleted: true, items_in_view: 1 },
    });
    expect(r.failed).toBeUndefined();
    expect(operationsSince(n)).toEqual(['GetFolder', 'CreateItem', 'FindItem', 'GetItem', 'DeleteItem']);
    expect(answeredSince(n).map((q) => [q.auth, q.account])).toEqual(Array(5).fill(['NTLM', SVC]));
    // One NTLM handshake (probe, negotiate) for the whole run: the connection stays authenticated.
    expect(ews.requests.slice(n).filter((q) => q.status === 401)).toHaveLength(2);
    expect(ews.requests.at(-4)?.sendMeetingInvitations).toBe('SendToNone');
    expect(String(r.data?.subject)).toMatch(/^ewsplay verification \d{4}-\d\d-\d\dT[\d:.]+Z [0-9a-f]{8}$/);
    expect(r.msg).toContain(`test event ${r.data?.event_id} in ${MAILBOX}`);
    expect(ews.events(MAILBOX)).toEqual([]);
    expect(ctx.secrets.has(PASSWORD)).toBe(true);
    expect(JSON.stringify(r)).not.toContain(PASSWORD);
    // Every run uses a new subject.
    const again = await ewsEventModule.run(makeContext(), args());
    expect(again.data?.subject).not.toBe(r.data?.subject);
  });

  it('keeps the event when asked, and then reports changed', async () => {
    const r = await ewsEventModule.run(makeContext(), args({ keep: true, subject_prefix: 'kept by test' }));
    expect(r).toMatchObject({ changed: true, data: { found: true, deleted: false } });
    expect(ews.events(MAILBOX).map((e) => e.id)).toEqual([r.data?.event_id]);
    ews.events(MAILBOX).length = 0;
  });

  it('in check mode creates nothing: it only proves that EWS answers and impersonation is allowed', async () => {
    const n = ews.requests.length;
    const r = await ewsEventModule.run(makeContext({ check: true }), args());
    expect(r).toMatchObject({ changed: false, data: { mailbox: MAILBOX } });
    // The engine stamps check_mode on what the task registers.
    expect(toRegistered(r, true)).toMatchObject({ changed: false, check_mode: true, mailbox: MAILBOX });
    expect(r.msg).toBe(
      `EWS answers and ${SVC} may impersonate ${MAILBOX}; would create, find and delete a test event`,
    );
    expect(operationsSince(n)).toEqual(['GetFolder']);
    expect(ews.events(MAILBOX)).toEqual([]);
  });

  it('fails in check mode too when impersonation is denied', async () => {
    ews.revokeImpersonation(SVC);
    try {
      const r = await ewsEventModule.run(makeContext({ check: true }), args());
      expect(r).toMatchObject({
        changed: false,
        failed: true,
        data: { failure: 'impersonation-denied', response_code: 'ErrorImpersonateUserDenied' },
      });
      expect(r.msg).toContain('assign the ApplicationImpersonation role');
    } finally {
      ews.grantImpersonation(SVC);
    }
  });

  it('retries while the impersonation role is not effective yet', async () => {
    ews.revokeImpersonation(SVC);
    const ctx = makeContext();
    const n = ews.requests.length;
    // The role takes effect once the first call has been denied (a timer raced the first call on a loaded
    // machine); the module's retry, a second later, finds it.
    const grant = setInterval(() => {
      if (answeredSince(n).some((q) => q.responseCode === 'ErrorImpersonateUserDenied')) {
        ews.grantImpersonation(SVC);
        clearInterval(grant);
      }
    }, 10);
    const r = await ewsEventModule
      .run(ctx, args({ retries: 2, delay: 1 }))
      .finally(() => clearInterval(grant));
    expect(r).toMatchObject({ changed: false, data: { found: true, deleted: true } });
    expect(
      answeredSince(n)
        .slice(0, 2)
        .map((q) => q.responseCode),
    ).toEqual(['ErrorImpersonateUserDenied', 'NoError']);
    expect(ctx.logs).toContain('ews_event: impersonation denied, retry 1/2 in 1 s');
  });

  it('reports wrong credentials without the password', async () => {
    const ctx = makeContext();
    const r = await ewsEventModule.run(ctx, args({ password: 'Wrong-Password-7' }));
    expect(r).toMatchObject({ failed: true, changed: false, data: { failure: 'unauthorized' } });
    expect(r.msg).toContain(`refused the NTLM login of ${SVC} (the server offers Negotiate, NTLM)`);
    expect(JSON.stringify(r)).not.toContain('Wrong-Password-7');
    expect(ctx.secrets.has('Wrong-Password-7')).toBe(true);
  });

  it('names a mailbox that does not exist', async () => {
    const r = await ewsEventModule.run(makeContext(), args({ mailbox: 'maria.ivanova@corp.exampel' }));
    expect(r).toMatchObject({ failed: true, data: { failure: 'no-mailbox' } });
    expect(r.msg).toContain('mailbox maria.ivanova@corp.exampel does not exist on Exchange');
  });

  it("tunnels through the task's host with via_host", async () => {
    const opened: string[] = [];
    class RecordingConnection extends LocalConnection {
      override forwardOut(host: string, port: number, opts?: { timeoutMs?: number }) {
        opened.push(`${host}:${port}`);
        return super.forwardOut('127.0.0.1', port, opts);
      }
    }
    const r = await ewsEventModule.run(
      makeContext({ conn: new RecordingConnection('mail1') }),
      args({ via_host: true }),
    );
    expect(r).toMatchObject({ changed: false, data: { found: true, deleted: true } });
    // One pooled TLS connection carries all five calls.
    expect(opened).toEqual([`localhost:${ews.port}`]);
  });
});
