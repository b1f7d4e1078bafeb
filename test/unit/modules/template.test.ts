import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { templateModule } from '../../../src/modules/template.js';
import { argsValidator, makeContext, makeTempDir, snapshotTree } from './context.js';

const fixtures = resolve(import.meta.dirname, '../../fixtures/modules');
const vars = {
  listen_port: 8443,
  backends: [{ name: 'ex1' }, { name: 'ex2', port: 444 }],
  tls_enabled: true,
};
const expected = '# Ansible managed\nlisten=8443\nbackend=ex1:443\nbackend=ex2:444\ntls=on\n';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
});
afterEach(() => cleanup());

describe('template', () => {
  it('renders from templates/ with the task vars, then is ok on the second run', async () => {
    const dest = join(dir, 'forwarder.conf');
    const ctx = makeContext({ baseDir: fixtures, vars });
    const first = await templateModule.run(ctx, { src: 'forwarder.conf.j2', dest, mode: '0644' });
    expect(first).toMatchObject({ changed: true, msg: 'file created' });
    expect(await readFile(dest, 'utf8')).toBe(expected);
    expect((await templateModule.run(ctx, { src: 'forwarder.conf.j2', dest, mode: '0644' })).changed).toBe(
      false,
    );
  });

  it('check mode with diff shows the rendered change and writes nothing', async () => {
    const dest = join(dir, 'forwarder.conf');
    await writeFile(dest, expected.replace('8443', '443'));
    const before = await snapshotTree(dir);
    const ctx = makeContext({ baseDir: fixtures, vars, check: true, diff: true });
    const r = await templateModule.run(ctx, { src: 'forwarder.conf.j2', dest });
    expect(r.changed).toBe(true);
    expect(r.diff).toEqual([{ path: dest, before: expected.replace('8443', '443'), after: expected }]);
    expect(await snapshotTree(dir)).toEqual(before);
  });

  it('names the template file, line and variable when a variable is undefined', async () => {
    const ctx = makeContext({ baseDir: fixtures });
    const err = await templateModule
      .run(ctx, { src: 'broken.j2', dest: join(dir, 'x') })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({
      name: 'TemplateError',
      variable: 'missing_var',
      message: `${join(fixtures, 'templates', 'broken.j2')}:2: 'missing_var' is undefined`,
    });
    expect(await snapshotTree(dir)).toEqual({});
  });

  it('fails clearly when the template cannot be found', async () => {
    const ctx = makeContext({ baseDir: dir });
    await expect(templateModule.run(ctx, { src: 'nope.j2', dest: join(dir, 'x') })).rejects.toThrow(
      /could not find nope\.j2 \(looked in .*templates\/nope\.j2/,
    );
  });
});

describe('template args schema', () => {
  const valid = argsValidator(templateModule);
  it.each([
    [{ src: 'a.j2', dest: '/a', mode: '0640', backup: true }, true],
    [{ src: 'a.j2' }, false],
    [{ src: 'a.j2', dest: '/a', content: 'x' }, false],
  ] as [Record<string, unknown>, boolean][])('%j -> %s', (args, ok) => {
    expect(valid(args)).toBe(ok);
  });
});
