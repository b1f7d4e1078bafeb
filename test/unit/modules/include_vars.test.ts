import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MASK, Secrets } from '../../../src/core/secrets.js';
import { loadYamlVars } from '../../../src/engine/run.js';
import { includeVarsModule, varsFileCandidates } from '../../../src/modules/include_vars.js';
import { encryptVault } from '../../../src/vault/age.js';
import { vaultReader } from '../../../src/vault/vars.js';
import { argsValidator, makeContext, makeTempDir } from './context.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
  await mkdir(join(dir, 'vars'));
  await mkdir(join(dir, 'tasks', 'vars'), { recursive: true });
});
afterEach(() => cleanup());

const ctx = (o: Parameters<typeof makeContext>[0] = {}) =>
  makeContext({ baseDir: dir, pos: { file: join(dir, 'site.yml'), line: 1, col: 1 }, ...o });

describe('include_vars', () => {
  it('loads a file from the playbook vars/ as author-written variables, never changed (check mode too)', async () => {
    await writeFile(join(dir, 'vars', 'app.yml'), 'app_port: 8443\napp_hosts: [a, b]\n');
    for (const check of [false, true]) {
      const r = await includeVarsModule.run(ctx({ check }), { file: 'app.yml' });
      expect(r).toEqual({
        changed: false,
        authoredVars: { app_port: 8443, app_hosts: ['a', 'b'] },
        data: { ansible_included_var_files: [join(dir, 'vars', 'app.yml')] },
      });
    }
  });

  it('name puts every variable under one; JSON files load too', async () => {
    await writeFile(join(dir, 'stuff.json'), '{"a": 1, "b": {"c": true}}');
    const r = await includeVarsModule.run(ctx(), { file: 'stuff.json', name: 'stuff' });
    expect(r.authoredVars).toEqual({ stuff: { a: 1, b: { c: true } } });
  });

  it("looks beside the task's file first (its vars/ too), then in the playbook's directory", async () => {
    await writeFile(join(dir, 'vars', 'x.yml'), 'where: playbook\n');
    await writeFile(join(dir, 'tasks', 'vars', 'x.yml'), 'where: tasks\n');
    const inTasks = ctx({ pos: { file: join(dir, 'tasks', 'main.yml'), line: 3, col: 3 } });
    expect((await includeVarsModule.run(inTasks, { file: 'x.yml' })).authoredVars).toEqual({
      where: 'tasks',
    });
    expect(
      varsFileCandidates({ baseDir: '/pb', pos: { file: 'site.yml', line: 1, col: 1 } }, 'v.yml'),
    ).toEqual(['/pb/vars/v.yml', '/pb/v.yml']);
    expect(
      varsFileCandidates({ baseDir: '/pb', pos: { file: 'site.yml', line: 1, col: 1 } }, '/abs.yml'),
    ).toEqual(['/abs.yml']);
  });

  it('a missing file fails and says where it looked; a list or a bad name is refused', async () => {
    const r = await includeVarsModule.run(ctx(), { file: 'nope.yml' });
    expect(r).toMatchObject({ failed: true, changed: false });
    expect(r.msg).toContain(`Could not find or access 'nope.yml'`);
    expect(r.msg).toContain(join(dir, 'vars', 'nope.yml'));
    await writeFile(join(dir, 'list.yml'), '- a\n- b\n');
    await expect(includeVarsModule.run(ctx(), { file: 'list.yml' })).rejects.toThrow(/must be a mapping/);
    await writeFile(join(dir, 'bad.yml'), '"my-var": 1\n');
    expect(await includeVarsModule.run(ctx(), { file: 'bad.yml' })).toMatchObject({
      failed: true,
      msg: expect.stringMatching(/invalid variable name 'my-var'/),
    });
    expect((await includeVarsModule.run(ctx(), { file: 'bad.yml', name: 'b' })).authoredVars).toEqual({
      b: { 'my-var': 1 },
    });
  });

  it("a vault file is decrypted by the run's vars loader and its values become secrets", async () => {
    await writeFile(
      join(dir, 'vars', 'secret.yml'),
      await encryptVault('db_password: s3cret-Pa55\ndb_user: svc_app\n', 'vault pass', 10),
    );
    const secrets = new Secrets();
    const read = vaultReader(async () => 'vault pass', secrets);
    const c = ctx({ secrets, loadVarsFile: (f) => loadYamlVars(f, read) });
    const r = await includeVarsModule.run(c, { file: 'secret.yml', name: 'db' });
    expect(r.authoredVars).toEqual({ db: { db_password: 's3cret-Pa55', db_user: 'svc_app' } });
    expect(secrets.mask('login svc_app with s3cret-Pa55')).toBe(`login ${MASK} with ${MASK}`);
  });

  it('takes file (free form) and name', () => {
    expect(includeVarsModule.freeForm).toBe('file');
    const valid = argsValidator(includeVarsModule);
    expect(valid({ file: 'a.yml', name: 'a' })).toBe(true);
    expect(valid({ file: 'a.yml', name: 'not valid' })).toBe(false);
    expect(valid({ dir: 'vars' })).toBe(false);
  });
});
