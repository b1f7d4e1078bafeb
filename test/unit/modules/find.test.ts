import { mkdir, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findModule, fnmatchRegex, listArg, parseAge, parseSize } from '../../../src/modules/find.js';
import { argsValidator, makeContext, makeTempDir, snapshotTree } from './context.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
  await mkdir(join(dir, 'logs/old'), { recursive: true });
  await mkdir(join(dir, '.cache'));
  await writeFile(join(dir, 'logs/app.log'), 'started\nERROR disk full\n');
  await writeFile(join(dir, 'logs/app.log.1'), 'ok\n');
  await writeFile(join(dir, 'logs/old/app.log.gz'), 'x'.repeat(2048));
  await writeFile(join(dir, 'logs/.hidden.log'), 'h\n');
  await writeFile(join(dir, '.cache/c.log'), 'c\n');
  await writeFile(join(dir, 'notes.txt'), 'the ERROR is not at the start\n');
  await symlink('logs/app.log', join(dir, 'current.log'));
  // Ten days old.
  const old = Date.now() / 1000 - 10 * 86400;
  await utimes(join(dir, 'logs/old/app.log.gz'), old, old);
});
afterEach(() => cleanup());

const find = async (args: Record<string, unknown>, check = false) => {
  const r = await findModule.run(makeContext({ check }), args);
  const files = (r.data?.files as { path: string }[] | undefined) ?? [];
  return { r, names: files.map((f) => f.path.slice(dir.length + 1)).sort() };
};

describe('find (Ansible semantics)', () => {
  it('parses its units and patterns as Ansible does', () => {
    expect(parseAge('2d')).toBe(172800);
    expect(parseAge('-1h')).toBe(-3600);
    expect(parseAge(30)).toBe(30);
    expect(parseSize('10k')).toBe(10240);
    expect(parseSize('-1m')).toBe(-1048576);
    expect(() => parseAge('2 days')).toThrow(/failed to process age/);
    expect(listArg('/a, /b')).toEqual(['/a', '/b']);
    expect(fnmatchRegex('*.log').test('app.log')).toBe(true);
    expect(fnmatchRegex('*.log').test('app.log.1')).toBe(false);
    expect(fnmatchRegex('app.[!l]*').test('app.x')).toBe(true);
    expect(fnmatchRegex('app.[!l]*').test('app.log')).toBe(false);
    expect(fnmatchRegex('a?c').test('abc')).toBe(true);
    expect(argsValidator(findModule)({ paths: '/tmp', patterns: ['*.log'], age: '2d', size: 10 })).toBe(true);
    expect(argsValidator(findModule)({ paths: '/tmp', file_type: 'socket' })).toBe(false);
  });

  it('selects regular files by glob, one level deep unless recurse, hidden names only with hidden', async () => {
    const top = await find({ paths: dir });
    expect(top.names).toEqual(['notes.txt']);
    expect(top.r.changed).toBe(false);
    expect(top.r.data?.examined).toBe(4);

    const logs = await find({ paths: dir, patterns: '*.log', recurse: true });
    // As Ansible: a hidden directory is still walked; only names starting with a dot are left out.
    expect(logs.names).toEqual(['.cache/c.log', 'logs/app.log']);
    expect(logs.r.data?.matched).toBe(2);

    const hidden = await find({ paths: dir, patterns: ['*.log'], recurse: true, hidden: true });
    expect(hidden.names).toEqual(['.cache/c.log', 'logs/.hidden.log', 'logs/app.log']);

    const depth = await find({ paths: dir, patterns: ['app*'], recurse: true, depth: 2 });
    expect(depth.names).toEqual(['logs/app.log', 'logs/app.log.1']);
  });

  it("registers Ansible's stat fields for each file", async () => {
    const { r } = await find({ paths: join(dir, 'logs'), patterns: 'app.log' });
    expect(r.data?.files).toEqual([
      expect.objectContaining({
        path: join(dir, 'logs/app.log'),
        size: 24,
        isreg: true,
        isdir: false,
        islnk: false,
        pw_name: 'root',
        uid: 0,
        mode: '0644',
        rusr: true,
        wusr: true,
        xusr: false,
      }),
    ]);
    const f = (r.data?.files as { mtime: number }[] | undefined)?.[0];
    if (!f) throw new Error('no file found');
    expect(Math.abs(f.mtime - Date.now() / 1000)).toBeLessThan(60);
  });

  it('regex patterns (re.match), excludes, file types, age, size and contains', async () => {
    expect(
      (await find({ paths: join(dir, 'logs'), patterns: 'app\\.log(\\.\\d+)?$', use_regex: true })).names,
    ).toEqual(['logs/app.log', 'logs/app.log.1']);
    // re.match anchors at the start only: "pp" does not match "app.log".
    expect((await find({ paths: join(dir, 'logs'), patterns: 'pp', use_regex: true })).names).toEqual([]);
    expect((await find({ paths: dir, recurse: true, patterns: 'app*', excludes: '*.gz' })).names).toEqual([
      'logs/app.log',
      'logs/app.log.1',
    ]);
    expect((await find({ paths: dir, file_type: 'directory', recurse: true })).names).toEqual([
      'logs',
      'logs/old',
    ]);
    const links = await find({ paths: dir, file_type: 'link' });
    expect(links.names).toEqual(['current.log']);
    expect(links.r.data?.files).toEqual([
      expect.objectContaining({ islnk: true, lnk_target: 'logs/app.log' }),
    ]);
    expect((await find({ paths: dir, recurse: true, age: '1w' })).names).toEqual(['logs/old/app.log.gz']);
    expect((await find({ paths: dir, recurse: true, age: '-1d', patterns: 'app*' })).names).toEqual([
      'logs/app.log',
      'logs/app.log.1',
    ]);
    expect((await find({ paths: dir, recurse: true, size: '2k' })).names).toEqual(['logs/old/app.log.gz']);
    expect((await find({ paths: dir, recurse: true, size: '-3' })).names).toEqual([
      '.cache/c.log',
      'logs/app.log.1',
    ]);
    // Per line with re.match: notes.txt has ERROR only mid-line.
    expect((await find({ paths: dir, recurse: true, contains: 'ERROR' })).names).toEqual(['logs/app.log']);
    expect(
      (await find({ paths: dir, recurse: true, contains: 'ERROR', read_whole_file: true })).names,
    ).toEqual(['logs/app.log', 'notes.txt']);
  });

  it('reports a path that is not a directory in skipped_paths with a warning, and runs in check mode', async () => {
    const before = await snapshotTree(dir);
    const r = await findModule.run(makeContext({ check: true }), {
      paths: [join(dir, 'none'), join(dir, 'logs')],
      patterns: '*.log',
    });
    expect(r.failed).toBeUndefined();
    expect(r.changed).toBe(false);
    expect(r.data?.matched).toBe(1);
    expect(Object.keys(r.data?.skipped_paths as object)).toEqual([join(dir, 'none')]);
    expect(r.warnings?.[0]).toMatch(/Skipped/);
    expect(r.msg).toMatch(/Not all paths examined/);
    expect(await snapshotTree(dir)).toEqual(before);
  });

  it('says what is wrong with a bad age', async () => {
    const r = await findModule.run(makeContext(), { paths: dir, age: 'yesterday' });
    expect(r.failed).toBe(true);
    expect(r.msg).toMatch(/failed to process age/);
  });
});
