// The live tree as a terminal shows it (tmux holds the terminal): one line per host per task under the
// task's header, ok / changed / skipped / failed told apart, a loop's items under their host, a failure's
// output after the tree and its message once.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
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
});
