// ping over SSH, as `ansible all -m ping` is used: every answering host is ok (in check mode too), a host
// whose sshd is gone is unreachable, and the others still answer.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SshdLab, startSshdLab } from '../../src/lab/sshd.js';
import { runOnLab } from './cli.js';

const PLAYBOOK = `- hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.ping:
      register: answer
    - debug:
        msg: "{{ inventory_hostname }} says {{ answer.ping }}"
`;

let lab: SshdLab;
let dir: string;

beforeAll(async () => {
  lab = await startSshdLab(3);
  dir = await mkdtemp(join(tmpdir(), 'ewsplay-ping-'));
  await writeFile(join(dir, 'ping.yml'), PLAYBOOK);
});

afterAll(async () => {
  await lab?.stop();
});

describe('ping over SSH', () => {
  it('answers pong from every host, in check mode too; a dead host is unreachable and the rest answer', async () => {
    const names = lab.hosts.map((h) => h.name);
    for (const extra of [[], ['--check']]) {
      const r = await runOnLab(dir, lab, 'ping.yml', '-o', 'plain', ...extra);
      expect(r.rc, r.stderr).toBe(0);
      for (const n of names) {
        expect(r.stdout).toContain(`${n} says pong`);
        expect(r.stdout).toMatch(
          new RegExp(`^${n}\\s+: ok=2\\s+changed=0\\s+unreachable=0\\s+failed=0`, 'm'),
        );
      }
    }

    const [dead, ...alive] = lab.hosts;
    dead!.kill();
    const r = await runOnLab(dir, lab, 'ping.yml', '-o', 'plain', '-T', '3');
    expect(r.rc).toBe(4);
    expect(r.stdout).toMatch(new RegExp(`^${dead!.name}\\s+: ok=0\\s+changed=0\\s+unreachable=1`, 'm'));
    for (const h of alive) expect(r.stdout).toContain(`${h.name} says pong`);
  });
});
