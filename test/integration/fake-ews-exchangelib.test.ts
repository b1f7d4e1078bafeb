// The fake EWS judged by python exchangelib (Debian's python3-exchangelib), a client no one here wrote,
// with Exchange's real defaults: it probes the server version itself, impersonates, and reads typed errors.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeEws } from '../../src/lab/fake-ews.js';
import {
  type ClientAuth,
  caFile,
  clientEnv,
  exchangelibPython,
  expectAnsweredAsServiceAccount,
  expectCalendarAfterDeletes,
  expectDeniedAndMissingFaults,
  FIXTURES,
  runClient,
  sendsNtlmChallenge,
  startSite,
} from './fake-ews-clients.js';

const python = exchangelibPython();
const ntlm = await sendsNtlmChallenge();
const SCRIPT = join(FIXTURES, 'exchangelib_client.py');

describe.skipIf(!python)(
  `python exchangelib against the fake EWS${python ? '' : ' (skipped: python3-exchangelib is not installed; scripts/test-deps.sh installs it as root)'}`,
  () => {
    for (const auth of ['basic', 'ntlm'] as ClientAuth[]) {
      const skip = auth === 'ntlm' && !ntlm;
      describe.skipIf(skip)(
        `with ${auth}${skip ? ' (skipped: the fake answers no NTLM negotiate with a challenge yet)' : ''}`,
        () => {
          let ews: FakeEws;
          let report: Record<string, unknown>;
          const subject = `exchangelib ${auth} ${Date.now()}`;

          beforeAll(async () => {
            ews = await startSite(auth);
            report = await runClient(python as string, [SCRIPT], {
              ...clientEnv(ews, auth, subject),
              EWS_VERSION: 'probe',
              REQUESTS_CA_BUNDLE: caFile(ews),
            });
          }, 120_000);
          afterAll(() => ews?.close());

          it('finds Exchange 2013 by its own version probe, as it would on a real server', () => {
            expect(report.version).toEqual({ build: '15.0.1497.2', api: 'Exchange2013_SP1' });
            // Newer schema names are refused with ErrorInvalidServerVersion until one Exchange 2013 knows.
            const probes = ews.requests.filter((r) => r.operation === 'ConvertId');
            expect(probes.at(-1)).toMatchObject({ status: 200, responseCode: 'ErrorInvalidSmtpAddress' });
            expect(probes.slice(0, -1).length).toBeGreaterThan(0);
            for (const p of probes.slice(0, -1)) {
              expect(p).toMatchObject({ status: 500, responseCode: 'ErrorInvalidServerVersion' });
            }
          });

          it('reads the root, Top of Information Store and the calendar with their parents', () => {
            expect(report.root).toEqual({ name: 'Root', children: 3 });
            expect(report.msg_folder_root).toEqual({
              name: 'Top of Information Store',
              parent_is_root: true,
            });
            expect(report.calendar).toEqual({
              name: 'Calendar',
              folder_class: 'IPF.Appointment',
              parent_is_msg_folder_root: true,
            });
          });

          it('creates items the fake stores and gets one back by id', () => {
            expect(report.created).toHaveLength(5);
            expect(report.calendar_total_after_create).toBe(5);
            expect(report.get).toEqual({
              subject: `${subject} 2`,
              body: 'body 2',
              start: '2031-03-04T11:00:00+00:00',
            });
          });

          it('finds by subject: equal, contains (exact and ignoring case) and or', () => {
            expect(report.filter_equal).toEqual([`${subject} 3`]);
            expect(report.filter_contains).toEqual([`${subject} 1`]);
            expect(report.filter_icontains).toEqual([0, 1, 2, 3, 4].map((i) => `${subject} ${i}`));
            expect(report.filter_contains_wrong_case).toEqual([]);
            expect(report.filter_or).toEqual([`${subject} 0`, `${subject} 4`]);
          });

          it('pages two at a time with the offsets Exchange sends, and caps a calendar view', () => {
            expect(report.paged_descending).toEqual([4, 3, 2, 1, 0].map((i) => `${subject} ${i}`));
            // [IndexedPagingOffset, TotalItemsInView, IncludesLastItemInRange] as exchangelib read them.
            expect(report.pages).toEqual([
              [2, 5, false],
              [4, 5, false],
              [5, 5, true],
            ]);
            expect(report.view_max_2).toEqual([`${subject} 0`, `${subject} 1`]);
          });

          it('soft-deletes, moves to Deleted Items and hard-deletes as three different things', () => {
            expect(report.after_delete).toEqual({
              calendar: [`${subject} 3`, `${subject} 4`],
              trash: [`${subject} 1`],
              recoverable_deletions: [`${subject} 0`],
            });
            expect(report.get_hard_deleted).toBe('ErrorItemNotFound');
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
  },
);
