// The live tree as a terminal shows it (tmux holds the terminal): one line per host per task under the
// task's header, ok / changed / skipped / failed told apart, a loop's items under their host, a failure's
// output after the tree and its message once.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';

const BIN = resolve(import.meta.dirname, '../../bin/ewsplay.js');

function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!hasTmux())('live tree in a terminal', () => {
  it('reads one line per host per task', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ewsplay-tree-'));
    writeFileSync(
      join(dir, 'hosts.yml'),
      'all:\n  hosts:\n    a: { ansible_connection: local }\n    b: { ansible_connection: local }\n',
    );
    writeFileSync(
      join(dir, 'site.yml'),
      `- hosts: all
  gather_facts: false
  tasks:
    - name: probe
      command: "true"
      changed_when: inventory_hostname == 'b'
    - name: only a
      debug: { msg: hello }
      when: inventory_hostname == 'a'
    - name: items
      debug: { msg: "{{ item }}" }
      loop: [x, y]
    - name: breaks on b
      command: sh -c "echo oops >&2; exit 3"
      when: inventory_hostname == 'b'
`,
    );
    const session = `ewsplay-tree-${process.pid}`;
    const done = join(dir, 'done');
    const cmd = `${process.execPath} ${BIN} run site.yml -i hosts.yml -o tree; touch ${done}; sleep 60`;
    execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', '120', '-y', '60', '-c', dir, cmd]);
    try {
      for (let i = 0; i < 150 && !existsSync(done); i++) await sleep(100);
      const screen = execFileSync('tmux', ['capture-pane', '-p', '-t', session]).toString();
      const lines = screen.split('\n').map((l) => l.trimEnd());
      const section = (task: string) => {
        const start = lines.findIndex((l) => l.startsWith(`TASK [${task}]`));
        const end = lines.findIndex((l, i) => i > start && /^(TASK|PLAY)/.test(l));
        return lines.slice(start + 1, end < 0 ? undefined : end).filter((l) => l !== '');
      };
      expect(section('probe')).toEqual([
        expect.stringMatching(/^✔ a ok \d+ ms$/),
        expect.stringMatching(/^✔ b changed \d+ ms$/),
      ]);
      expect(section('only a')).toEqual([
        expect.stringMatching(/^✔ a ok \d+ ms$/),
        '  › hello',
        expect.stringMatching(/^↓ b skipped \d+ ms$/),
      ]);
      expect(section('items')).toEqual([
        expect.stringMatching(/^✔ a ok/),
        '  › ok: (item=x): x',
        '    ok: (item=y): y',
        expect.stringMatching(/^✔ b ok/),
        '  › ok: (item=x): x',
        '    ok: (item=y): y',
      ]);
      const breaks = section('breaks on b');
      expect(breaks[0]).toMatch(/^↓ a skipped/);
      expect(breaks[1]).toMatch(/^✖ b failed: non-zero return code \d+ ms$/);
      expect(breaks.slice(2, 6)).toEqual([
        '  b:',
        '    cmd: sh -c echo oops >&2; exit 3',
        '    rc: 3',
        '    stderr:',
      ]);
      expect(breaks.filter((l) => l.includes('non-zero return code'))).toHaveLength(1);
    } finally {
      execFileSync('tmux', ['kill-session', '-t', session]);
    }
  });

  /** Runs `cmd` in a tmux terminal; samples the screen every 100 ms until `done` exists; the samples. */
  async function screens(dir: string, cmd: string, done: string, name: string): Promise<string[][]> {
    const session = `ewsplay-${name}-${process.pid}`;
    execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', '120', '-y', '60', '-c', dir, cmd]);
    const seen: string[][] = [];
    try {
      for (let i = 0; i < 400 && !existsSync(done); i++) {
        const screen = execFileSync('tmux', ['capture-pane', '-p', '-t', session]).toString();
        seen.push(screen.split('\n').map((l) => l.trimEnd()));
        await sleep(100);
      }
      seen.push(execFileSync('tmux', ['capture-pane', '-p', '-t', session]).toString().split('\n'));
    } finally {
      execFileSync('tmux', ['kill-session', '-t', session]);
    }
    return seen;
  }

  it("shows calendar_sync's progress on its host line as it goes, then the result", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ewsplay-tree-sync-'));
    const scripts = join(dir, 'deployer');
    mkdirSync(scripts);
    // The vendor's script, as slow as a real sync: each batch takes a second.
    writeFileSync(join(scripts, 'sync_all.sh'), '#!/bin/sh\nsleep 1\n');
    writeFileSync(join(dir, 'hosts.yml'), 'all:\n  hosts:\n    hv: { ansible_connection: local }\n');
    writeFileSync(
      join(dir, 'site.yml'),
      `- hosts: all
  gather_facts: false
  tasks:
    - name: sync
      calendar_sync:
        operation: sync
        mailboxes: [a@x.example, b@x.example, c@x.example, d@x.example]
        batch_size: 1
        script_dir: ${scripts}
`,
    );
    const done = join(dir, 'done');
    const seen = await screens(
      dir,
      `${process.execPath} ${BIN} run site.yml -i hosts.yml -o tree; touch ${done}; sleep 60`,
      done,
      'sync',
    );
    const progress = seen
      .flat()
      .map((l) => /hv (\d) of 4 mailboxes · batch (\d) of 4 · 0 failed(?: · about \d+s left)?$/.exec(l))
      .filter((m) => m !== null)
      .map((m) => `${m[1]}/${m[2]}`);
    // Seen while it ran (the screen is sampled: some counts may fall between two samples).
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.some((p) => p === '1/2' || p === '2/3' || p === '3/4')).toBe(true);
    const last = seen.at(-1)!.map((l) => l.trimEnd());
    expect(last.find((l) => l.includes(' hv '))).toMatch(/^✔ hv changed \d+ ms$/);
  });

  it("shows a rollout of several sites: sites done of total on a line under the sites' lines", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ewsplay-tree-rollout-'));
    for (const site of ['berlin', 'lyon', 'paris']) {
      mkdirSync(join(dir, 'inventory', 'sites', site), { recursive: true });
      writeFileSync(
        join(dir, 'inventory', 'sites', site, 'hosts.yml'),
        'all:\n  hosts:\n    mail: { ansible_connection: local }\n',
      );
    }
    writeFileSync(
      join(dir, 'site.yml'),
      '- hosts: all\n  gather_facts: false\n  tasks:\n    - name: work\n      command: sleep 1\n',
    );
    const done = join(dir, 'done');
    const seen = await screens(
      dir,
      `${process.execPath} ${BIN} run site.yml -i inventory/sites; touch ${done}; sleep 60`,
      done,
      'rollout',
    );
    const status =
      /^ROLLOUT (\d) of 3 sites done · 0 failed · running: (berlin|lyon|paris)(?: · about \d+s left)?$/;
    // The status line is the last line written, under the sites' own lines.
    const bottoms = seen.map((screen) => screen.filter((l) => l !== '').at(-1) ?? '');
    expect(bottoms.some((l) => status.test(l) && !l.startsWith('ROLLOUT 0'))).toBe(true);
    const last = seen.at(-1)!.map((l) => l.trimEnd());
    expect(last.some((l) => l.startsWith('ROLLOUT SUMMARY'))).toBe(true);
    expect(last.some((l) => l.startsWith('ROLLOUT ') && status.test(l))).toBe(false);
    expect(last.some((l) => l.startsWith('[paris] TASK [work] ***'))).toBe(true);
  });
});
