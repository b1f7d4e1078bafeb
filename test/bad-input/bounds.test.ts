// The bounds of hostile input, measured on the built command line as a user runs it: each input is refused
// (exit 2) or fails its task (exit 3) within 10 s, with the heap capped at 1 GiB (a run that needed more
// would crash instead of answering) and, where GNU time is there, a peak RSS under 1 GiB. SIGTERM during a
// long loop of heavy templates ends the run within about a second.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LOCAL_INVENTORY } from './cases.js';

const BIN = resolve(import.meta.dirname, '../../bin/ewsplay.js');
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const GIB_KB = 1024 * 1024;
const root = mkdtempSync(join(tmpdir(), 'ewsplay-bounds-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Measured {
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
  maxRssKb?: number;
  output: string;
}

function ewsplay(
  dir: string,
  args: string[],
  terminateAfterMs?: number,
): Promise<Measured & { afterSignalMs?: number }> {
  const node = [process.execPath, '--max-old-space-size=1024', BIN, ...args];
  const [cmd, ...argv] = TIME ? [TIME, '-f', 'EWSPLAY_MAX_RSS_KB=%M', ...node] : node;
  return new Promise((done) => {
    const started = performance.now();
    const child = spawn(cmd!, argv, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    let signalled: number | undefined;
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const terminate =
      terminateAfterMs === undefined
        ? undefined
        : setTimeout(() => {
            signalled = performance.now();
            // Under GNU time the run is its child: signal the run itself, as a CI runner or systemd would.
            const pid = TIME
              ? Number(
                  spawnSync('pgrep', ['-P', String(child.pid)])
                    .stdout.toString()
                    .trim(),
                )
              : child.pid;
            process.kill(pid || child.pid!, 'SIGTERM');
          }, terminateAfterMs);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      if (terminate) clearTimeout(terminate);
      const ended = performance.now();
      const rss = /EWSPLAY_MAX_RSS_KB=(\d+)/.exec(output);
      done({
        code,
        signal,
        ms: ended - started,
        ...(rss ? { maxRssKb: Number(rss[1]) } : {}),
        ...(signalled !== undefined ? { afterSignalMs: ended - signalled } : {}),
        output,
      });
    });
  });
}

const bomb = [
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...'bcdefghi'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`),
].join('\n');
const PLAY = '- hosts: all\n  gather_facts: false\n';

const cases: {
  name: string;
  files: Record<string, string>;
  args: string[];
  exit: number;
  message: RegExp;
}[] = [
  {
    name: 'an alias bomb in play vars, used by a task',
    files: { 'p.yml': `${PLAY}  vars:\n${bomb.replace(/^/gm, '    ')}\n  tasks:\n    - debug: var=i\n` },
    args: ['run', 'p.yml', '-i', 'inv.yml'],
    exit: 2,
    message: /expand to more than 100,000 values/,
  },
  {
    name: 'an alias bomb in a vars file',
    files: { 'p.yml': `${PLAY}  vars_files: [b.yml]\n  tasks: []\n`, 'b.yml': bomb },
    args: ['run', 'p.yml', '-i', 'inv.yml'],
    exit: 2,
    message: /b\.yml:\d+:\d+: YAML aliases/,
  },
  {
    name: 'web[1:100000000] in an INI inventory',
    files: { 'h.ini': '[web]\nweb[1:100000000]\n', 'p.yml': `${PLAY}  tasks: []\n` },
    args: ['validate', 'p.yml', '-i', 'h.ini'],
    exit: 2,
    message: /h\.ini:2:1: .*over the limit of 100,000/,
  },
  {
    name: 'an INI inventory of 400,000 hosts',
    files: { 'h.ini': `[web]\n${Array.from({ length: 400_000 }, (_, i) => `h${i} a=1`).join('\n')}\n` },
    args: ['inventory', '-i', 'h.ini', '--list'],
    exit: 2,
    message: /more than 100,000 hosts/,
  },
  {
    name: '-e @/dev/zero',
    files: { 'p.yml': `${PLAY}  tasks: []\n` },
    args: ['run', 'p.yml', '-i', 'inv.yml', '-e', '@/dev/zero'],
    exit: 2,
    message: /not a regular file/,
  },
  {
    name: 'a 50 MB playbook',
    files: { 'p.yml': `${PLAY}  tasks:\n${'    - debug: msg=hi\n'.repeat(2_500_000)}` },
    args: ['run', 'p.yml', '-i', 'inv.yml'],
    exit: 2,
    message: /over the limit of 10 MiB/,
  },
  {
    name: 'a 9.8 MB playbook of 490,000 tasks',
    files: { 'p.yml': `${PLAY}  tasks:\n${'    - debug: msg=hi\n'.repeat(490_000)}` },
    args: ['validate', 'p.yml'],
    exit: 2,
    message: /more than 250,000 values or lines/,
  },
  {
    name: 'a 2 MB flow list of a million numbers',
    files: { 'p.yml': `${PLAY}  vars:\n    x: [${'1,'.repeat(1_000_000)}1]\n  tasks: []\n` },
    args: ['validate', 'p.yml'],
    exit: 2,
    message: /more than 250,000 values/,
  },
  {
    name: '{{ range(200000000) | list }}',
    files: { 'p.yml': `${PLAY}  tasks:\n    - debug: msg="{{ range(200000000) | list }}"\n` },
    args: ['run', 'p.yml', '-i', 'inv.yml'],
    exit: 3,
    message: /over the limit of 1000000/,
  },
  {
    name: 'a product() of a trillion combinations',
    files: {
      'p.yml': `${PLAY}  tasks:\n    - debug: msg="{{ [1, 2, 3, 4] | product(repeat=20) | list }}"\n`,
    },
    args: ['run', 'p.yml', '-i', 'inv.yml'],
    exit: 3,
    message: /combinations are over the limit/,
  },
  {
    name: 'nested template loops of 10^10 steps',
    files: {
      'p.yml': `${PLAY}  tasks:\n    - debug: msg="{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}"\n`,
    },
    args: ['run', 'p.yml', '-i', 'inv.yml'],
    exit: 3,
    message: /more than 2,500,000 steps/,
  },
];

describe('bounds of hostile input (built CLI, heap capped at 1 GiB)', () => {
  cases.forEach((c, i) => {
    it(c.name, async () => {
      const dir = join(root, String(i));
      mkdirSync(dir, { recursive: true });
      for (const [name, content] of Object.entries({ 'inv.yml': LOCAL_INVENTORY, ...c.files }))
        writeFileSync(join(dir, name), content);
      const m = await ewsplay(dir, c.args);
      const shown = m.output.slice(0, 2000);
      expect(m.code, shown).toBe(c.exit);
      expect(m.output).toMatch(c.message);
      expect(m.output).not.toMatch(/internal error|^\s{4}at /m);
      expect(m.ms, shown).toBeLessThan(10_000);
      if (m.maxRssKb !== undefined) expect(m.maxRssKb, shown).toBeLessThan(GIB_KB);
    });
  });

  it('a FIFO given as a playbook is refused at once, not waited on', async () => {
    const dir = join(root, 'fifo');
    mkdirSync(dir, { recursive: true });
    const made = spawnSync('mkfifo', [join(dir, 'p.yml')]);
    expect(made.status, made.stderr?.toString()).toBe(0);
    const m = await ewsplay(dir, ['validate', 'p.yml']);
    expect(m.code, m.output).toBe(2);
    expect(m.output).toMatch(/p\.yml:1:1: cannot read p\.yml: it is not a regular file/);
    expect(m.ms).toBeLessThan(10_000);
  });

  it('SIGTERM during a long loop of heavy templates ends the run within about a second', async () => {
    const dir = join(root, 'sigterm');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'inv.yml'), LOCAL_INVENTORY);
    writeFileSync(
      join(dir, 'p.yml'),
      `${PLAY}  tasks:\n    - debug: msg="{% for i in range(1000) %}{% for j in range(100) %}x{% endfor %}{% endfor %}"\n      loop: "{{ range(5000) | list }}"\n`,
    );
    const m = await ewsplay(dir, ['run', 'p.yml', '-i', 'inv.yml'], 2_500);
    expect(m.code, m.output).toBe(130);
    expect(m.output).toMatch(/interrupted/);
    // One item's render (at most the template step bound) may finish first; 2 s leaves room on a busy CI.
    expect(m.afterSignalMs, m.output.slice(-500)).toBeLessThan(2_000);
  });
});
