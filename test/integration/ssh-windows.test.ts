// A host marked `ansible_shell_type: powershell` (Windows with OpenSSH, as an Exchange server is) gets its
// commands exactly as written, one channel each, with no /bin/sh framing. No Windows here: a real sshd
// stands in, which is enough to prove what goes over the wire and how results, stdin and timeouts behave.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSsh, type SshConnection } from '../../src/connection/ssh.js';
import { connectionSpec } from '../../src/inventory/connection-spec.js';
import { type SshdLab, startSshdLab } from '../../src/lab/sshd.js';

let lab: SshdLab;
let conn: SshConnection;

beforeAll(async () => {
  process.env.HOME = await mkdtemp(join(tmpdir(), 'ewsplay-home-'));
  lab = await startSshdLab(1);
  const h = lab.hosts[0]!;
  const spec = connectionSpec(
    'exchange',
    {
      ansible_host: '127.0.0.1',
      ansible_port: h.port,
      ansible_user: lab.user,
      ansible_ssh_private_key_file: lab.clientKeyFile,
      ansible_shell_type: 'powershell',
    },
    { connectTimeoutMs: 5000, knownHostsFile: lab.knownHostsFile },
  );
  expect(spec.shellType).toBe('powershell');
  conn = await connectSsh(spec);
});

afterAll(async () => {
  await conn?.close();
  await lab?.stop();
});

describe('a Windows host (ansible_shell_type: powershell)', () => {
  it('runs the command as given and returns rc, stdout and stderr', async () => {
    // `$$` reaches the login shell unexpanded by ewsplay: nothing wraps the command.
    const r = await conn.exec('echo out; echo err >&2; exit 7');
    expect(r).toEqual({ rc: 7, stdout: 'out\n', stderr: 'err\n' });
  });

  it('feeds stdin, the way PowerShell scripts (-Command -) and their secrets travel', async () => {
    const r = await conn.exec('cat', { stdin: 'Get-ManagementRoleAssignment\nsecret: p@ss' });
    expect(r.stdout).toBe('Get-ManagementRoleAssignment\nsecret: p@ss');
  });

  it('gives up a command at its timeout with rc 124', async () => {
    const started = Date.now();
    const r = await conn.exec('sleep 31.25', { timeoutMs: 500 });
    expect(r.timedOut).toBe(true);
    expect(r.rc).toBe(124);
    expect(Date.now() - started).toBeLessThan(5000);
    // The connection stays usable: the stuck channel was given up, not waited for.
    expect((await conn.exec('echo still here')).stdout).toBe('still here\n');
  });

  it('refuses what would need /bin/sh or put values on the command line', async () => {
    await expect(conn.exec('whoami', { env: { A: 'b' } })).rejects.toThrow(/Windows host.*env not supported/);
    await expect(conn.exec('whoami', { become: {} })).rejects.toThrow(/become not supported/);
    await expect(conn.put('C:/x.txt', 'x')).rejects.toThrow(/file transfer is not supported/);
  });

  it('rejects an unknown shell type at inventory time', () => {
    expect(() => connectionSpec('x', { ansible_shell_type: 'zsh-ish' }, { connectTimeoutMs: 1000 })).toThrow(
      /unknown shell type 'zsh-ish'/,
    );
  });
});
