// The sshd lab harness itself: real sshd processes answer, the written files match, stop() leaves nothing.
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { descendants, isAlive, startSshdLab } from '../../src/lab/sshd.js';

describe('sshd lab harness', () => {
  it('starts N sshd processes that accept the test key, and stop() kills every one of them', async () => {
    const lab = await startSshdLab(3);
    const pids = lab.hosts.map((h) => h.pid);
    try {
      expect(new Set(lab.hosts.map((h) => h.port)).size).toBe(3);
      const known = await readFile(lab.knownHostsFile, 'utf8');
      const inventory = await readFile(lab.inventoryFile, 'utf8');
      for (const h of lab.hosts) {
        expect(known).toContain(`[127.0.0.1]:${h.port} ${h.hostPublicKey}`);
        expect(inventory).toContain(`ansible_port: ${h.port}`);
        // The OpenSSH client itself, with strict host key checking against the written known_hosts.
        const out = execFileSync('ssh', [
          ...['-p', String(h.port), '-i', lab.clientKeyFile, '-o', 'BatchMode=yes'],
          ...['-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${lab.knownHostsFile}`],
          `${lab.user}@127.0.0.1`,
          'echo hello-from-sshd',
        ]).toString();
        expect(out).toContain('hello-from-sshd');
      }
    } finally {
      await lab.stop();
    }
    for (const pid of pids) {
      expect(isAlive(pid)).toBe(false);
      expect(descendants(pid)).toEqual([]);
    }
  });
});
