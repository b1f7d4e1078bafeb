// The EWS client against the fake Exchange, through the real ews-javascript-api.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ewsConnect } from '../../../src/ews/client.js';
import { type FakeEws, startFakeEws } from '../../fakes/fake-ews.js';

const SVC = 'svc_vkmail_collector@corp.example';
const PASSWORD = 'S3cret-pass!';
const MAILBOX = 'Ivan.Petrov@corp.example';

let ews: FakeEws;

beforeAll(async () => {
  ews = await startFakeEws({
    users: { [SVC]: PASSWORD },
    mailboxes: [MAILBOX, 'other@corp.example'],
    impersonators: [SVC],
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
