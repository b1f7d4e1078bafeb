// The EWS client against the fake Exchange, through the real ews-javascript-api.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ewsConnect } from '../../../src/ews/client.js';
import { type FakeEws, startFakeEws } from '../../../src/lab/fake-ews.js';

const SVC = 'svc_vkmail_collector@corp.example';
const PASSWORD = 'S3cret-pass!';
const MAILBOX = 'Ivan.Petrov@corp.example';

let ews: FakeEws;

beforeAll(async () => {
  ews = await startFakeEws({
    users: { [SVC]: PASSWORD },
    mailboxes: [MAILBOX, 'other@corp.example'],
    impersonators: [SVC],
    basicAuth: true,
  });
});
afterAll(() => ews.close());

function connect(extra: Partial<Parameters<typeof ewsConnect>[0]> = {}) {
  return ewsConnect({
    url: ews.url,
    username: SVC,
    password: PASSWORD,
    auth: 'basic',
    caPem: ews.caPem,
    timeoutMs: 10_000,
    ...extra,
  });
}

describe('ews client', () => {
  it('creates, finds and deletes an event while impersonating the mailbox', async () => {
    const client = await connect();
    const start = new Date(Date.UTC(2030, 0, 2, 10, 0, 0));
    const end = new Date(start.getTime() + 30 * 60_000);
    const access = await client.checkAccess(MAILBOX);
    expect(access.displayName).toBe('Calendar');
    const id = await client.createTestEvent(MAILBOX, 'ewsplay test 1', start, end);
    expect(ews.events(MAILBOX).map((e) => e.subject)).toEqual(['ewsplay test 1']);
    expect(ews.events(MAILBOX)[0]?.start.toISOString()).toBe(start.toISOString());
    const found = await client.findEvent(MAILBOX, 'ewsplay test 1', start, end);
    expect(found).toMatchObject({ id, subject: 'ewsplay test 1', itemsInView: 1 });
    await client.deleteEvent(MAILBOX, id);
    expect(ews.events(MAILBOX)).toEqual([]);
    client.close();
    const ops = ews.requests.map((r) => [r.operation, r.impersonated, r.anchorMailbox]);
    expect(ops).toEqual([
      ['GetFolder', MAILBOX, MAILBOX],
      ['CreateItem', MAILBOX, MAILBOX],
      ['FindItem', MAILBOX, MAILBOX],
      ['GetItem', MAILBOX, MAILBOX],
      ['DeleteItem', MAILBOX, MAILBOX],
    ]);
  });
});

describe('ews client failures', () => {
  const when = (days: number) => {
    const start = new Date(Date.UTC(2030, 1, days, 9, 0, 0));
    return [start, new Date(start.getTime() + 15 * 60_000)] as const;
  };

  it('names the missing ApplicationImpersonation role, then works once it is granted', async () => {
    const client = await connect();
    ews.revokeImpersonation(SVC);
    try {
      const denied = await client.checkAccess(MAILBOX).catch((e: unknown) => e);
      expect(denied).toMatchObject({
        kind: 'impersonation-denied',
        responseCode: 'ErrorImpersonateUserDenied',
      });
      expect(String((denied as Error).message)).toContain(
        `the account ${SVC} may not impersonate ${MAILBOX}: assign the ApplicationImpersonation role (New-ManagementRoleAssignment`,
      );
      expect(ews.requests.at(-1)).toMatchObject({ status: 500, responseCode: 'ErrorImpersonateUserDenied' });
    } finally {
      ews.grantImpersonation(SVC);
    }
    await expect(client.checkAccess(MAILBOX)).resolves.toMatchObject({ displayName: 'Calendar' });
    client.close();
  });

  it('says a mailbox does not exist, and warns that names are case-sensitive', async () => {
    const client = await connect();
    const err = await client.checkAccess('nobody@corp.example').catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'no-mailbox', responseCode: 'ErrorNonExistentMailbox' });
    expect((err as Error).message).toBe(
      "mailbox nobody@corp.example does not exist on Exchange (names are case-sensitive in VK's sync; check the spelling)",
    );
    client.close();
  });

  it('reports rejected credentials without the password', async () => {
    const client = await connect({ password: 'wrong-password-123' });
    const err = await client.checkAccess(MAILBOX).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'unauthorized' });
    expect((err as Error).message).toContain(
      `refused the Basic login of ${SVC} (the server offers Negotiate, NTLM, Basic): the password is wrong, or the account may be locked or disabled`,
    );
    expect((err as Error).message).not.toContain('wrong-password-123');
    expect(ews.requests.at(-1)?.status).toBe(401);
    client.close();
  });

  it('turns an HTTP 500 with an empty body into a clear failure, without an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (r: unknown) => unhandled.push(r);
    process.on('unhandledRejection', onUnhandled);
    try {
      const client = await connect();
      ews.failNextWithEmpty500();
      const [start, end] = when(1);
      const err = await client.createTestEvent(MAILBOX, 'never', start, end).catch((e: unknown) => e);
      expect(err).toMatchObject({ kind: 'bad-response' });
      expect((err as Error).message).toBe(
        `EWS at ${ews.url} answered CreateItem with HTTP 500 and an empty body`,
      );
      // The next call on the same client works.
      await expect(client.checkAccess(MAILBOX)).resolves.toMatchObject({ displayName: 'Calendar' });
      await new Promise((r) => setTimeout(r, 50));
      client.close();
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });

  it('gives up on a slow server after the timeout', async () => {
    const client = await connect({ timeoutMs: 300 });
    ews.setDelay(2_000);
    try {
      const t0 = Date.now();
      const err = await client.checkAccess(MAILBOX).catch((e: unknown) => e);
      expect(Date.now() - t0).toBeLessThan(1_500);
      expect(err).toMatchObject({ kind: 'timeout' });
      expect((err as Error).message).toBe(
        `EWS at ${ews.url} did not answer GetFolder (calendar) within 0.3 s (raise timeout if Exchange is slow)`,
      );
    } finally {
      ews.setDelay(0);
      client.close();
    }
  });

  it('reports an item that is gone when deleting', async () => {
    const client = await connect();
    const [start, end] = when(3);
    const id = await client.createTestEvent(MAILBOX, 'gone soon', start, end);
    await client.deleteEvent(MAILBOX, id);
    const err = await client.deleteEvent(MAILBOX, id).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'ews', responseCode: 'ErrorItemNotFound' });
    client.close();
  });
});
