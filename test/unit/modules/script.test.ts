import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { firstWordEnd, scriptModule } from '../../../src/modules/script.js';
import { argsValidator, makeContext, makeTempDir, snapshotTree } from './context.js';

let dir: string;
let play: string;
let host: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
  play = join(dir, 'play');
  host = join(dir, 'host');
  await mkdir(join(play, 'files'), { recursive: true });
  await mkdir(host);
  // Prints its name, its working directory and each argument on its own line, and leaves a mark.
  await writeFile(
    join(play, 'files', 'show.sh'),
    `#!/bin/sh\necho "name=\${0##*/}"\necho "pwd=$(pwd)"\nfor a in "$@"; do echo "arg=$a"; done\ntouch ${host}/ran\n`,
  );
});
afterEach(() => cleanup());

const ctx = (o: Parameters<typeof makeContext>[0] = {}) => makeContext({ baseDir: play, ...o });

/** Temp directories scripts left behind (there must be none). */
async function leftovers(): Promise<string[]> {
  return (await readdir(process.env.TMPDIR ?? tmpdir())).filter((n) => n.startsWith('ewsplay-script.'));
}

describe('script', () => {
  it('finds the script in files/, runs it with its arguments (quoting kept), removes it', async () => {
    const before = await leftovers();
    const r = await scriptModule.run(ctx(), { cmd: `show.sh one "two words" '$HOME'`, chdir: host });
    expect(r.failed, r.msg).toBeUndefined();
    expect(r.changed).toBe(true);
    expect(r.data?.stdout_lines).toEqual([
      'name=show.sh',
      `pwd=${host}`,
      'arg=one',
      'arg=two words',
      'arg=$HOME',
    ]);
    expect(r.data).toMatchObject({ rc: 0, stderr: '' });
    expect(existsSync(join(host, 'ran'))).toBe(true);
    expect(await leftovers()).toEqual(before);
  });

  it('a path relative to the playbook works too, and executable runs it with that program', async () => {
    await writeFile(join(play, 'plain.txt'), 'echo "via $0"\n'); // no #! and not executable
    const r = await scriptModule.run(ctx(), { cmd: 'plain.txt', executable: '/bin/sh' });
    expect(r.data?.stdout).toMatch(/^via \/.*ewsplay-script\.\w+\/plain\.txt\n$/);
  });

  it('a non-zero exit fails, and the temp directory is removed all the same', async () => {
    await writeFile(join(play, 'files', 'bad.sh'), '#!/bin/sh\necho broken >&2\nexit 4\n');
    const before = await leftovers();
    const r = await scriptModule.run(ctx(), { cmd: 'bad.sh' });
    expect(r).toMatchObject({ changed: true, failed: true, msg: 'non-zero return code' });
    expect(r.data).toMatchObject({ rc: 4, stderr_lines: ['broken'] });
    expect(await leftovers()).toEqual(before);
  });

  it('creates/removes skip the task as Ansible does, without sending or running the script', async () => {
    await writeFile(join(host, 'done'), '');
    const skipped = await scriptModule.run(ctx(), { cmd: 'show.sh', creates: join(host, 'done') });
    expect(skipped).toEqual({
      changed: false,
      skipped: true,
      msg: `${join(host, 'done')} exists, matching creates option`,
    });
    const absent = await scriptModule.run(ctx(), { cmd: 'show.sh', removes: join(host, 'nothing') });
    expect(absent).toMatchObject({
      skipped: true,
      msg: `${join(host, 'nothing')} does not exist, matching removes option`,
    });
    expect(existsSync(join(host, 'ran'))).toBe(false);
    const runs = await scriptModule.run(ctx(), { cmd: 'show.sh', removes: join(host, 'done') });
    expect(runs.changed).toBe(true);
    expect(existsSync(join(host, 'ran'))).toBe(true);
  });

  it('check mode: skipped without creates/removes; predicted with them; never runs, sends nothing', async () => {
    const before = await snapshotTree(dir);
    const tmpBefore = await leftovers();
    const plain = await scriptModule.run(ctx({ check: true }), { cmd: 'show.sh' });
    expect(plain).toEqual({
      changed: false,
      skipped: true,
      msg: 'Check mode is not supported for this task.',
    });
    const would = await scriptModule.run(ctx({ check: true }), {
      cmd: 'show.sh',
      creates: join(host, 'made'),
    });
    expect(would).toMatchObject({ changed: true });
    await writeFile(join(host, 'made'), '');
    const before2 = await snapshotTree(dir);
    const wouldNot = await scriptModule.run(ctx({ check: true }), {
      cmd: 'show.sh',
      creates: join(host, 'made'),
    });
    expect(wouldNot).toMatchObject({ changed: false, skipped: true });
    expect(await snapshotTree(dir)).toEqual(before2);
    expect(Object.keys(before2).filter((k) => !(k in before))).toEqual(['host/made']);
    expect(await leftovers()).toEqual(tmpBefore);
  });

  it('a missing script and a relative chdir fail with what to fix', async () => {
    await expect(scriptModule.run(ctx(), { cmd: 'nope.sh' })).rejects.toThrow(/could not find nope\.sh/);
    const r = await scriptModule.run(ctx(), { cmd: 'show.sh', chdir: 'relative/dir' });
    expect(r).toMatchObject({ failed: true, msg: expect.stringMatching(/must be an absolute path/) });
  });

  it('firstWordEnd finds the end of the quoted script path', () => {
    expect(firstWordEnd('a.sh x y')).toBe(4);
    expect(firstWordEnd(`"my script.sh" x`)).toBe(14);
    expect(firstWordEnd('my\\ script.sh x')).toBe(13);
    expect(firstWordEnd('a.sh')).toBe(4);
  });

  it('takes Ansible arguments only', () => {
    const valid = argsValidator(scriptModule);
    expect(valid({ cmd: 'x.sh', creates: '/a', removes: '/b', chdir: '/c', executable: 'bash' })).toBe(true);
    expect(valid({ cmd: 'x.sh', stdin: 'x' })).toBe(false);
  });
});
