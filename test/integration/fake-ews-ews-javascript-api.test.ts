// The fake EWS judged by ews-javascript-api used directly (not through ewsplay's client), a client no one
// here wrote, with Exchange 2013 + UTC and impersonation as a real deployment configures it.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeEws } from '../../src/lab/fake-ews.js';
import {
  type ClientAuth,
  caFile,
  clientEnv,
  expectAnsweredAsServiceAccount,
  expectCalendarAfterDeletes,
  expectDeniedAndMissingFaults,
  FIXTURES,
  runClient,
  sendsNtlmChallenge,
  startSite,
} from './fake-ews-clients.js';

const ntlm = await sendsNtlmChallenge();
const SCRIPT = join(FIXTURES, 'ews-javascript-api-client.mjs');

describe('ews-javascript-api against the fake EWS', () => {
  for (const auth of ['basic', 'ntlm'] as ClientAuth[]) {
    const skip = auth === 'ntlm' && !ntlm;
    describe.skipIf(skip)(
      `with ${auth}${skip ? ' (skipped: the fake answers no NTLM negotiate with a challenge yet)' : ''}`,
      () => {
        let ews: FakeEws;
        let report: Record<string, unknown>;
        const subject = `ews-javascript-api ${auth} ${Date.now()}`;

        beforeAll(async () => {
          ews = await startSite(auth);
          report = await runClient(process.execPath, [SCRIPT], {
            ...clientEnv(ews, auth, subject),
            NODE_EXTRA_CA_CERTS: caFile(ews),
          });
        }, 120_000);
        afterAll(() => ews?.close());

        it('reads the root, Top of Information Store and the calendar with their parents', () => {
          expect(report.root).toEqual({ name: 'Root', children: 3 });
          expect(report.msgFolderRoot).toEqual({ name: 'Top of Information Store', parentIsRoot: true });
          expect(report.calendar).toEqual({
            name: 'Calendar',
            folderClass: 'IPF.Appointment',
            parentIsMsgFolderRoot: true,
          });
        });

        it('creates appointments the fake stores and binds one back by id', () => {
          expect(report.created).toHaveLength(5);
          expect(report.get).toEqual({
            subject: `${subject} 2`,
            body: 'body 2',
            start: '2031-06-07T11:00:00.000Z',
          });
        });

        it('finds by subject: equal, contains (exact and ignoring case) and or', () => {
          expect(report.filterEqual).toEqual([`${subject} 3`]);
          expect(report.filterContains).toEqual([`${subject} 1`]);
          expect(report.filterContainsIgnoreCase).toEqual([0, 1, 2, 3, 4].map((i) => `${subject} ${i}`));
          expect(report.filterContainsWrongCase).toEqual([]);
          expect(report.filterOr).toEqual([`${subject} 0`, `${subject} 4`]);
        });

        it('pages two at a time following NextPageOffset, and caps a calendar view', () => {
          expect(report.paged).toEqual([4, 3, 2, 1, 0].map((i) => `${subject} ${i}`));
          // [NextPageOffset, TotalCount, MoreAvailable] as the library read them.
          expect(report.pages).toEqual([
            [2, 5, true],
            [4, 5, true],
            [null, 5, false],
          ]);
          expect(report.calendarViewMax2).toEqual({
            subjects: [`${subject} 0`, `${subject} 1`],
            totalCount: 5,
            moreAvailable: true,
          });
        });

        it('soft-deletes, moves to Deleted Items and hard-deletes as three different things', () => {
          expect(report.afterDelete).toEqual({
            calendar: [`${subject} 3`, `${subject} 4`],
            deletedItems: [`${subject} 1`],
            recoverableDeletions: [`${subject} 0`],
          });
          expect(report.getHardDeleted).toBe('ErrorItemNotFound');
          expectCalendarAfterDeletes(ews, subject);
        });

        it('raises the typed errors for a denied and a missing mailbox, from real-shaped faults', () => {
          expect(report.denied).toBe('ErrorImpersonateUserDenied');
          expect(report.missing).toBe('ErrorNonExistentMailbox');
          expectDeniedAndMissingFaults(ews);
        });

        it(`authenticated every request as the service account with ${auth}`, () => {
          expectAnsweredAsServiceAccount(ews);
        });
      },
    );
  }
});
