import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalConnection } from '../../../src/connection/local.js';
import type { ModuleContext } from '../../../src/modules/module.js';
import { packageModule } from '../../../src/modules/package.js';
import { readPackageMeta } from '../../../src/modules/package-meta.js';
import { argsValidator, makeContext, makeTempDir, snapshotTree } from './context.js';
import { standinCalls, standinHost } from './standins.js';

let dir: string;
let state: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
  state = join(dir, 'host');
  await mkdir(state);
});

/** Everything under the test directory except the stand-ins' call log. */
async function snapshot(): Promise<Record<string, string>> {
  const { 'host/calls.log': _calls, ...rest } = await snapshotTree(dir);
  return rest;
}
afterEach(() => cleanup());

/** A real .deb built with dpkg-deb (control.tar compressed as asked). */
async function buildDeb(name: string, version: string, compression = 'xz'): Promise<string> {
  const root = join(dir, `build-${name}-${version}-${compression}`);
  await mkdir(join(root, 'DEBIAN'), { recursive: true });
  await mkdir(join(root, 'opt', name), { recursive: true });
  await writeFile(
    join(root, 'DEBIAN', 'control'),
    `Package: ${name}\nVersion: ${version}\nArchitecture: all\nMaintainer: Test <t@example.com>\nDescription: test package\n`,
  );
  await writeFile(join(root, 'opt', name, 'VERSION'), `${version}\n`);
  const file = join(dir, `${name}_${version}_${compression}.deb`);
  execFileSync('dpkg-deb', ['--root-owner-group', `-Z${compression}`, '--build', root, file], {
    stdio: 'ignore',
  });
  return file;
}

/** An .rpm with a real lead and header (NAME, VERSION, RELEASE, optional EPOCH), as rpm's header reader sees it. */
async function buildRpm(name: string, version: string, release: string, epoch?: number): Promise<string> {
  const header = (entries: { tag: number; type: number; data: Buffer }[]) => {
    const index = Buffer.alloc(entries.length * 16);
    const store: Buffer[] = [];
    let offset = 0;
    entries.forEach((e, i) => {
      index.writeUInt32BE(e.tag, i * 16);
      index.writeUInt32BE(e.type, i * 16 + 4);
      index.writeUInt32BE(offset, i * 16 + 8);
      index.writeUInt32BE(1, i * 16 + 12);
      store.push(e.data);
      offset += e.data.length;
    });
    const intro = Buffer.alloc(16);
    intro.writeUInt32BE(0x8eade801, 0);
    intro.writeUInt32BE(entries.length, 8);
    intro.writeUInt32BE(offset, 12);
    return Buffer.concat([intro, index, ...store]);
  };
  const str = (tag: number, s: string) => ({ tag, type: 6, data: Buffer.from(`${s}\0`) });
  const lead = Buffer.alloc(96);
  lead.writeUInt32BE(0xedabeedb, 0);
  const sig = header([{ tag: 1000, type: 4, data: Buffer.alloc(4) }]); // 36 bytes: padded to 40
  const epochEntry = epoch === undefined ? [] : [{ tag: 1003, type: 4, data: Buffer.from([0, 0, 0, epoch]) }];
  const main = header([...epochEntry, str(1000, name), str(1001, version), str(1002, release)]);
  const file = join(dir, `${name}-${version}-${release}.noarch.rpm`);
  await writeFile(file, Buffer.concat([lead, sig, Buffer.alloc(4), main, Buffer.from('payload')]));
  return file;
}

const ctxFor = (overrides: Partial<ModuleContext> = {}) =>
  makeContext({ conn: standinHost(state), baseDir: dir, ...overrides });

describe('package metadata from the file', () => {
  it('reads .deb files with xz, gzip and no control compression, and .rpm headers with and without epoch', async () => {
    for (const z of ['xz', 'gzip', 'none']) {
      const file = await buildDeb('ewsplay-meta', '2.1-3', z);
      expect(readPackageMeta(await readFile(file), file)).toEqual({
        kind: 'deb',
        name: 'ewsplay-meta',
        version: '2.1-3',
      });
    }
    const rpm = await buildRpm('socat-static', '1.7.4', '2.el8');
    expect(readPackageMeta(await readFile(rpm), rpm)).toEqual({
      kind: 'rpm',
      name: 'socat-static',
      version: '1.7.4-2.el8',
    });
    const withEpoch = await buildRpm('x', '1', '1', 2);
    expect(readPackageMeta(await readFile(withEpoch), withEpoch).version).toBe('2:1-1');
    expect(() => readPackageMeta(Buffer.from('hello'), 'x.txt')).toThrow(/neither a .deb nor an .rpm/);
  });
});

describe('package (.deb, the real dpkg confined to a test database)', () => {
  it('check mode predicts, the first run installs, the second run is ok, a new version upgrades', async () => {
    const v1 = await buildDeb('ewsplay-hello', '1.0-1');
    const before = await snapshot();
    const predicted = await packageModule.run(ctxFor({ check: true }), { src: v1 });
    expect(predicted).toMatchObject({
      changed: true,
      msg: 'would install ewsplay-hello 1.0-1',
      data: { name: 'ewsplay-hello', version: '1.0-1', installed_before: null },
    });
    expect(await snapshot()).toEqual(before);

    const first = await packageModule.run(ctxFor(), { src: v1 });
    expect(first).toMatchObject({ changed: true, msg: 'installed ewsplay-hello 1.0-1' });
    expect(first.failed).toBeUndefined();
    expect(await readFile(join(state, 'root/opt/ewsplay-hello/VERSION'), 'utf8')).toBe('1.0-1\n');
    const status = execFileSync('dpkg-query', [
      '--admindir',
      join(state, 'root/var/lib/dpkg'),
      '-W',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's format
      '-f=${Status} ${Version}',
      'ewsplay-hello',
    ]);
    expect(status.toString()).toBe('install ok installed 1.0-1');
    // The uploaded temp file is gone.
    expect((await readdir('/tmp')).filter((f) => f.endsWith('ewsplay-hello_1.0-1_xz.deb'))).toEqual([]);

    const calls = (await standinCalls(state)).length;
    const second = await packageModule.run(ctxFor(), { src: v1 });
    expect(second).toMatchObject({ changed: false, msg: 'ewsplay-hello 1.0-1 is already installed' });
    expect((await standinCalls(state)).slice(calls).filter((c) => c.startsWith('dpkg '))).toEqual([]);

    const v2 = await buildDeb('ewsplay-hello', '1.1-1');
    expect(await packageModule.run(ctxFor({ check: true }), { src: v2 })).toMatchObject({
      changed: true,
      msg: 'would install ewsplay-hello 1.1-1 (replacing 1.0-1)',
    });
    const upgraded = await packageModule.run(ctxFor(), { src: v2 });
    expect(upgraded).toMatchObject({ changed: true, data: { installed_before: '1.0-1', version: '1.1-1' } });
    expect(await readFile(join(state, 'root/opt/ewsplay-hello/VERSION'), 'utf8')).toBe('1.1-1\n');
  });

  it('installs a file already on the host (path), reading its name and version there', async () => {
    const deb = await buildDeb('ewsplay-onhost', '3.0');
    expect((await packageModule.run(ctxFor({ check: true }), { path: deb })).changed).toBe(true);
    expect(existsSync(join(state, 'root/opt/ewsplay-onhost'))).toBe(false);
    expect(await packageModule.run(ctxFor(), { path: deb })).toMatchObject({
      changed: true,
      data: { version: '3.0' },
    });
    expect(existsSync(deb)).toBe(true);
    expect((await packageModule.run(ctxFor(), { path: deb })).changed).toBe(false);
    expect(await packageModule.run(ctxFor(), { path: join(dir, 'gone.deb') })).toMatchObject({
      failed: true,
      msg: `${join(dir, 'gone.deb')} does not exist on the host`,
    });
  });

  it('resolves src beside the playbook, and fails clearly on a host without dpkg', async () => {
    await mkdir(join(dir, 'files'));
    const deb = await buildDeb('ewsplay-rel', '1');
    await writeFile(join(dir, 'files', 'rel.deb'), await readFile(deb));
    expect((await packageModule.run(ctxFor({ check: true }), { src: 'rel.deb' })).changed).toBe(true);
    const bare = makeContext({
      baseDir: dir,
      conn: new LocalConnection('bare', undefined, { PATH: join(dir, 'none') }),
    });
    const r = await packageModule.run(bare, { src: deb });
    expect(r).toMatchObject({
      failed: true,
      msg: 'a .deb needs dpkg on the host, which has neither dpkg nor rpm',
    });
  });
});

describe('package (.rpm, stand-in rpm)', () => {
  it('check mode predicts, the first run installs with rpm -U, the second run is ok', async () => {
    const rpm = await buildRpm('socat-static', '1.7.4', '2', 1);
    const before = await snapshot();
    expect(await packageModule.run(ctxFor({ check: true }), { src: rpm })).toMatchObject({
      changed: true,
      data: { name: 'socat-static', version: '1:1.7.4-2' },
    });
    expect(await snapshot()).toEqual(before);
    expect((await packageModule.run(ctxFor(), { src: rpm })).changed).toBe(true);
    expect(await readFile(join(state, 'rpmdb/socat-static'), 'utf8')).toBe('1:1.7.4-2\n');
    expect(
      (await standinCalls(state)).some((c) => /^rpm '-Uvh' '--oldpackage' '\/tmp\/ewsplay-\w+-socat/.test(c)),
    ).toBe(true);
    expect((await packageModule.run(ctxFor(), { src: rpm })).changed).toBe(false);
    expect((await packageModule.run(ctxFor(), { path: rpm })).changed).toBe(false);
  });
});

describe('package args', () => {
  it('takes exactly one of src and path; path must name a .deb or .rpm', () => {
    const valid = argsValidator(packageModule);
    expect(valid({ src: 'a.deb' })).toBe(true);
    expect(valid({ path: '/tmp/a.rpm', state: 'present' })).toBe(true);
    expect(valid({ src: 'a.deb', path: '/tmp/a.deb' })).toBe(false);
    expect(valid({ path: '/tmp/a.tgz' })).toBe(false);
    expect(valid({ src: 'a.deb', state: 'absent' })).toBe(false);
  });
});
