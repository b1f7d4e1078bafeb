// ews_event: the procedure's verification (V1). As the service account impersonating a mailbox, create a
// uniquely named event in its Exchange calendar, find it again with a CalendarView, report its id, and
// delete it unless `keep`. In check mode nothing is created: only that EWS answers and impersonation is
// allowed (a GetFolder of the calendar while impersonating).
//
// changed: a run that creates and deletes its event leaves the mailbox as it was, so it reports ok
// (changed: false) and a second run reports 0 changed; with `keep: true` the event stays: changed.
import { randomBytes } from 'node:crypto';
import type { EwsClient, TlsVersion } from '../ews/client.js';
import { type EwsAuth, EwsError } from '../ews/errors.js';
import { defineModule, fail, type Planned, planned, settledThen } from './kit.js';
import type { Module, ModuleContext, ModuleResult } from './module.js';

interface EwsEventArgs {
  url: string;
  username: string;
  password: string;
  auth: EwsAuth;
  mailbox: string;
  subject_prefix: string;
  keep: boolean;
  ca_file?: string;
  /** Trusted certificate as PEM text (e.g. the one a forwarder serves, as tls_probe reports it). */
  ca_pem?: string;
  skip_verify: boolean;
  min_tls_version?: TlsVersion;
  timeout: number;
  via_host: boolean;
  retries: number;
  delay: number;
}

/** Minutes the test event lasts, starting a day ahead so it never shows as a current meeting. */
const EVENT_MINUTES = 15;
const EVENT_LEAD_MS = 24 * 3600_000;

export const ewsEventModule: Module = defineModule<EwsEventArgs>({
  name: 'ews_event',
  summary:
    'Verify EWS: create, find (CalendarView) and delete a test event in a mailbox, impersonating it (check mode: access only)',
  args: {
    type: 'object',
    additionalProperties: false,
    required: ['url', 'username', 'password', 'mailbox'],
    properties: {
      url: {
        type: 'string',
        pattern: '^https://',
        description: 'EWS endpoint, https://HOST[:PORT]/EWS/Exchange.asmx',
      },
      username: {
        type: 'string',
        minLength: 1,
        description: 'Service account holding ApplicationImpersonation',
      },
      password: { type: 'string', minLength: 1, description: 'Its password (masked in all output)' },
      auth: {
        type: 'string',
        enum: ['auto', 'ntlm', 'basic'],
        default: 'auto',
        description:
          "HTTP authentication: auto (what Exchange's 401 offers, NTLM first), ntlm (NTLMv2, also under Negotiate) or basic",
      },
      mailbox: { type: 'string', minLength: 3, description: 'SMTP address of the mailbox to impersonate' },
      subject_prefix: {
        type: 'string',
        minLength: 1,
        default: 'ewsplay verification',
        description: 'Start of the test event subject (a timestamp and a random tag follow)',
      },
      keep: { type: 'boolean', default: false, description: 'Leave the test event in the calendar' },
      ca_file: {
        type: 'string',
        minLength: 1,
        description: 'PEM file of the CA that issued the EWS certificate',
      },
      ca_pem: {
        type: 'string',
        minLength: 1,
        description: "The same as PEM text (e.g. a forwarder's own certificate, from tls_probe's pem)",
      },
      skip_verify: {
        type: 'boolean',
        default: false,
        description: 'Do not verify the EWS certificate (tests only)',
      },
      min_tls_version: {
        type: 'string',
        enum: ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'],
        description: 'Lowest TLS version to offer (below TLSv1.2 also lowers the OpenSSL security level)',
      },
      timeout: { type: 'integer', minimum: 1, default: 30, description: 'Seconds allowed for each EWS call' },
      via_host: {
        type: 'boolean',
        default: false,
        description: "Reach EWS through the task's host (an SSH tunnel), as the mail server sees it",
      },
      retries: {
        type: 'integer',
        minimum: 0,
        default: 0,
        description: 'Retries while impersonation is denied (Exchange applies a new role after minutes)',
      },
      delay: {
        type: 'integer',
        minimum: 0,
        default: 60,
        description: 'Seconds before the first retry; doubled after each',
      },
    },
  },
  check: 'full',
  async run(ctx, args) {
    ctx.secrets.add(args.password);
    // One source of trust (checked here, not in the schema: a task may omit either one at run time).
    if (args.ca_file && args.ca_pem) return fail('give ca_file or ca_pem, not both');
    // The EWS client (and Node's https and tls) loads with the first EWS task, not with every run.
    const { ewsConnect } = await import('../ews/client.js');
    const client = await ewsConnect({
      url: args.url,
      username: args.username,
      password: args.password,
      auth: args.auth,
      skipVerify: args.skip_verify,
      timeoutMs: args.timeout * 1000,
      ...(args.ca_file ? { caFile: args.ca_file } : {}),
      ...(args.ca_pem ? { caPem: args.ca_pem } : {}),
      ...(args.min_tls_version ? { minTlsVersion: args.min_tls_version } : {}),
      ...(args.via_host
        ? {
            tunnel: (host: string, port: number) =>
              ctx.conn.forwardOut(host, port, { timeoutMs: args.timeout * 1000 }),
          }
        : {}),
    }).catch((e: unknown) => e as EwsError);
    if (client instanceof Error) return failure(ctx, client);
    const caught = async <T extends ModuleResult | Planned>(work: () => Promise<T>) => {
      try {
        return await work();
      } catch (e) {
        return failure(ctx, e);
      }
    };
    const outcome = caught(async () => {
      const v = await verify(ctx, client, args);
      return planned(v.prediction, () => caught(v.act));
    });
    return settledThen(outcome, async () => client.close());
  },
});

/** Checks access (in check mode too), and what creating, finding and deleting a test event would say. */
async function verify(
  ctx: ModuleContext,
  client: EwsClient,
  args: EwsEventArgs,
): Promise<{ prediction: ModuleResult; act: () => Promise<ModuleResult> }> {
  const access = await withImpersonationRetries(ctx, args, () => client.checkAccess(args.mailbox));
  const base = { mailbox: args.mailbox, calendar_items: access.totalCount };
  return {
    prediction: {
      changed: args.keep,
      msg: `EWS answers and ${args.username} may impersonate ${args.mailbox}; would create, find and ${args.keep ? 'keep' : 'delete'} a test event`,
      data: base,
    },
    act: () => testEvent(ctx, client, args, base),
  };
}

/** Creates, finds and (unless keep) deletes a test event (not in check mode). */
async function testEvent(
  ctx: ModuleContext,
  client: EwsClient,
  args: EwsEventArgs,
  base: { mailbox: string; calendar_items: number },
): Promise<ModuleResult> {
  const subject = `${args.subject_prefix} ${new Date().toISOString()} ${randomBytes(4).toString('hex')}`;
  const start = new Date(Math.ceil((Date.now() + EVENT_LEAD_MS) / 60_000) * 60_000);
  const end = new Date(start.getTime() + EVENT_MINUTES * 60_000);
  const id = await client.createTestEvent(args.mailbox, subject, start, end);
  ctx.log(`ews_event: created ${subject} (${id}) in ${args.mailbox}`);
  const found = await client.findEvent(args.mailbox, subject, start, end).catch(async (e: unknown) => {
    if (!args.keep) await client.deleteEvent(args.mailbox, id).catch(() => {});
    throw e;
  });
  const data = {
    ...base,
    event_id: id,
    subject,
    start: start.toISOString(),
    end: end.toISOString(),
    found: found !== undefined,
    items_in_view: found?.itemsInView ?? 0,
    deleted: false,
  };
  if (!args.keep) {
    await client.deleteEvent(args.mailbox, id).catch((e: unknown) => {
      throw new EwsError(
        `the test event ${JSON.stringify(subject)} (id ${id}) was created but not deleted: ${(e as Error).message}`,
        'ews',
      );
    });
    data.deleted = true;
  }
  if (!found) {
    return {
      changed: args.keep,
      failed: true,
      msg: `created the test event in ${args.mailbox}, but a CalendarView over its time did not return it${data.deleted ? ' (deleted again)' : ''}`,
      data,
    };
  }
  return {
    changed: args.keep,
    msg: `created, found${args.keep ? ' and kept' : ' and deleted'} test event ${id} in ${args.mailbox}`,
    data,
  };
}

/** Retries while Exchange still denies impersonation (role assignments take minutes to apply). */
async function withImpersonationRetries<T>(
  ctx: ModuleContext,
  args: EwsEventArgs,
  work: () => Promise<T>,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (e) {
      if (!(e instanceof EwsError) || e.kind !== 'impersonation-denied' || attempt >= args.retries) throw e;
      const waitMs = args.delay * 1000 * 2 ** attempt;
      ctx.log(`ews_event: impersonation denied, retry ${attempt + 1}/${args.retries} in ${waitMs / 1000} s`);
      await sleep(waitMs, ctx.signal);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function failure(ctx: ModuleContext, e: unknown): ModuleResult {
  if (!(e instanceof EwsError)) throw e;
  const data: Record<string, unknown> = { failure: e.kind };
  if (e.responseCode) data.response_code = e.responseCode;
  return fail(ctx.secrets.mask(e.message), data);
}
