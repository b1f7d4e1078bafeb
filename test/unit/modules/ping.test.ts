// ping: a command really runs on the host (here the real local connection) and answers; it changes nothing,
// runs in check mode, and data=crash fails as Ansible's does.
import { describe, expect, it } from 'vitest';
import type { Connection } from '../../../src/connection/connection.js';
import { LocalConnection } from '../../../src/connection/local.js';
import { pingModule } from '../../../src/modules/ping.js';
import { argsValidator, makeContext } from './context.js';

describe('ping', () => {
  it('runs a command on the host and returns ping: pong, in check mode too', async () => {
    for (const check of [false, true]) {
      const r = await pingModule.run(makeContext({ check }), {});
      expect(r).toMatchObject({ changed: false, data: { ping: 'pong' } });
      expect(r.failed).toBeFalsy();
    }
    const r = await pingModule.run(makeContext(), { data: 'hello' });
    expect(r.data).toEqual({ ping: 'hello' });
  });

  it('fails when the command does not answer, with its error masked', async () => {
    const ctx = makeContext();
    ctx.secrets.add('s3cret-value');
    const broken = new LocalConnection('localhost');
    const conn: Connection = Object.assign(Object.create(broken) as Connection, {
      exec: () => broken.exec('echo "sudo: s3cret-value rejected" >&2; exit 1'),
    });
    const r = await pingModule.run({ ...ctx, conn }, {});
    expect(r.failed).toBe(true);
    expect(r.msg).toContain('rc 1');
    expect(r.msg).not.toContain('s3cret-value');
  });

  it('fails on data=crash without touching the host, and refuses unknown arguments', async () => {
    const ctx = makeContext({
      conn: {
        exec: () => {
          throw new Error('ping data=crash must not run a command');
        },
      } as unknown as Connection,
    });
    expect(await pingModule.run(ctx, { data: 'crash' })).toMatchObject({ failed: true, changed: false });
    const validate = argsValidator(pingModule);
    expect(validate({ data: 'x' })).toBe(true);
    expect(validate({ date: 'x' })).toBe(false);
  });
});
