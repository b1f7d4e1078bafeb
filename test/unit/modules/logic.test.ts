// assert, fail, debug, set_fact: no host effects; they run the same in check mode.
import { describe, expect, it } from 'vitest';
import { Secrets } from '../../../src/core/secrets.js';
import { assertModule } from '../../../src/modules/assert.js';
import { debugModule } from '../../../src/modules/debug.js';
import { failModule } from '../../../src/modules/fail.js';
import { setFactModule } from '../../../src/modules/set_fact.js';
import { argsValidator, makeContext } from './context.js';

const vars = { out: { rc: 0, stdout: 'ready\nok' }, port: 9443, flag: 'no', items: [1, 2] };

describe('assert', () => {
  it('passes when every expression holds, in check mode too', async () => {
    for (const check of [false, true]) {
      const r = await assertModule.run(makeContext({ vars, check }), {
        that: ['out.rc == 0', "'ready' in out.stdout", 'port | int > 1024', 'items'],
      });
      expect(r).toEqual({ changed: false, msg: 'All assertions passed' });
    }
    expect(
      await assertModule.run(makeContext({ vars }), { that: 'port == 9443', success_msg: 'fine' }),
    ).toEqual({
      changed: false,
      msg: 'fine',
    });
    expect(await assertModule.run(makeContext({ vars }), { that: 'true', quiet: true })).toEqual({
      changed: false,
    });
  });

  it('fails on the first false expression, with fail_msg or msg when given', async () => {
    const r = await assertModule.run(makeContext({ vars }), { that: ['out.rc == 0', 'flag', 'port == 1'] });
    expect(r).toEqual({
      changed: false,
      failed: true,
      msg: 'Assertion failed: flag',
      data: { assertion: 'flag', evaluated_to: false },
    });
    expect(
      await assertModule.run(makeContext({ vars }), { that: 'port == 1', fail_msg: 'wrong port' }),
    ).toMatchObject({
      failed: true,
      msg: 'wrong port',
    });
    expect(await assertModule.run(makeContext({ vars }), { that: '[]', msg: ['a', 'b'] })).toMatchObject({
      msg: 'a\nb',
    });
    await expect(assertModule.run(makeContext({ vars }), { that: 'missing == 1' })).rejects.toThrow(
      /missing/,
    );
  });

  it('args: that is required; fail_msg and msg exclude each other', () => {
    const valid = argsValidator(assertModule);
    expect(valid({ that: 'x' })).toBe(true);
    expect(valid({ that: ['x'], fail_msg: 'a', success_msg: 'b', quiet: true })).toBe(true);
    expect(valid({ fail_msg: 'a' })).toBe(false);
    expect(valid({ that: 'x', fail_msg: 'a', msg: 'b' })).toBe(false);
    expect(valid({ that: [] })).toBe(false);
  });
});

describe('fail', () => {
  it('fails with the message, masked', async () => {
    const secrets = new Secrets();
    secrets.add('s3cr3t!');
    expect(await failModule.run(makeContext({ secrets }), { msg: 'bad password s3cr3t!' })).toEqual({
      changed: false,
      failed: true,
      msg: 'bad password ********',
    });
    expect(await failModule.run(makeContext({ check: true }), {})).toEqual({
      changed: false,
      failed: true,
      msg: 'Failed as requested from task',
    });
  });
});

describe('debug', () => {
  it('shows msg (non-strings as JSON) or the value of var', async () => {
    expect(await debugModule.run(makeContext(), { msg: 'hello' })).toEqual({
      changed: false,
      msg: 'hello',
      verbosity: 0,
    });
    expect(await debugModule.run(makeContext(), { msg: { a: [1] } })).toEqual({
      changed: false,
      msg: '{"a":[1]}',
      verbosity: 0,
    });
    expect(await debugModule.run(makeContext(), {})).toEqual({
      changed: false,
      msg: 'Hello world!',
      verbosity: 0,
    });
    expect(await debugModule.run(makeContext(), { msg: 'deep', verbosity: 2 })).toMatchObject({
      verbosity: 2,
    });
    expect(
      await debugModule.run(makeContext({ vars, check: true }), { var: 'out.stdout.splitlines()' }),
    ).toEqual({
      changed: false,
      msg: 'out.stdout.splitlines(): ["ready","ok"]',
      data: { 'out.stdout.splitlines()': ['ready', 'ok'] },
      verbosity: 0,
    });
    expect(await debugModule.run(makeContext({ vars }), { var: 'nope' })).toMatchObject({
      changed: false,
      msg: 'nope: VARIABLE IS NOT DEFINED!',
    });
  });

  it('masks secrets in what it shows', async () => {
    const secrets = new Secrets();
    secrets.add('pa55word');
    const r = await debugModule.run(makeContext({ secrets, vars: { pw: 'pa55word' } }), { var: 'pw' });
    expect(r.msg).toBe('pw: ********');
  });

  it('args: msg and var exclude each other', () => {
    const valid = argsValidator(debugModule);
    expect(valid({ msg: ['a', 1] })).toBe(true);
    expect(valid({ var: 'x', verbosity: 1 })).toBe(true);
    expect(valid({ msg: 'a', var: 'x' })).toBe(false);
  });
});

describe('set_fact', () => {
  it('returns the facts (cacheable dropped), never changed, also in check mode', async () => {
    for (const check of [false, true]) {
      expect(
        await setFactModule.run(makeContext({ check }), { url: 'https://x', n: 2, cacheable: true }),
      ).toEqual({
        changed: false,
        facts: { url: 'https://x', n: 2 },
      });
    }
  });

  it("turns strings that read as booleans into booleans, as Ansible's set_fact does", async () => {
    const { facts } = await setFactModule.run(makeContext({}), {
      a: 'yes',
      b: 'False',
      c: 'on',
      d: '1',
      e: 'no way',
    });
    expect(facts).toEqual({ a: true, b: false, c: 'on', d: '1', e: 'no way' });
  });

  it('args: at least one variable, with a valid name', () => {
    const valid = argsValidator(setFactModule);
    expect(valid({ a_1: 1 })).toBe(true);
    expect(valid({})).toBe(false);
    expect(valid({ 'bad-name': 1 })).toBe(false);
    expect(valid({ cacheable: 'yes', a: 1 })).toBe(false);
  });
});
