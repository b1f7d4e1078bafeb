// ansible-playbook's connection flags on real sshd hosts: -u and --private-key fill in what the inventory
// leaves out (its variables win), -b/--become-user/-K become with a password asked on the terminal.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSudoUser, type SshdLab, startSshdLab } from '../../src/lab/sshd.js';

const BIN = resolve(import.meta.dirname, '../../bin/ewsplay.js');
const PLAYBOOK = `- hosts: all
  gather_facts: false
  tasks:
    - name: who
      command: id -un
      register: who
    - name: show
      debug:
        msg: "I am {{ who.stdout }}"
`;

let lab: SshdLab;
let dir: string;
let sudoUser: { user: string; password: string };

beforeAll(async () => {
  lab = await startSshdLab(2);
  dir = await mkdtemp(join(tmpdir(), 'ewsplay-cli-flags-'));
  sudoUser = ensureSudoUser();
  await writeFile(join(dir, 'who.yml'), PLAYBOOK);
  const [a, b] = lab.hosts;
  // host1 names no user and no key; host2 names a user that does not exist, which must win over -u.
  await writeFile(
    join(dir, 'hosts.yml'),
    [
      'all:',
      '  hosts:',
      '    host1:',
      `      ansible_host: 127.0.0.1`,
      `      ansible_port: ${a!.port}`,
      '    host2:',
      `      ansible_host: 127.0.0.1`,
      `      ansible_port: ${b!.port}`,
      '      ansible_user: no-such-user-here',
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  await lab?.stop();
});

function ewsplay(args: string[]): Promise<{ rc: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { cwd: dir, timeout: 60_000 }, (err, stdout, stderr) =>
      done({ rc: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Runs ewsplay on a pseudo-terminal (util-linux `script`), typing `input`; returns what the terminal showed. */
function onTerminal(args: string[], input: string): Promise<{ rc: number; screen: string }> {
  const command = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((done) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      cwd: dir,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    child.stdout.on('data', (d: Buffer) => {
      screen += d.toString();
    });
    // Type only once the prompt is there: a pty in raw mode drops nothing, but the prompt must come first.
    const typed = setInterval(() => {
      if (screen.includes('password')) {
        clearInterval(typed);
        child.stdin.end(input);
      }
    }, 50);
    child.on('close', (code) => {
      clearInterval(typed);
      done({ rc: code ?? 1, screen });
    });
  });
}

const base = () => [
  'run',
  'who.yml',
  '-i',
  'hosts.yml',
  '--known-hosts',
  lab.knownHostsFile,
  '-o',
  'plain',
  '-v',
];

describe('connection flags', () => {
  it('-u and --private-key fill in what the inventory leaves out; its ansible_user wins', async () => {
    const r = await ewsplay([...base(), '-u', lab.user, '--private-key', lab.clientKeyFile]);
    expect(r.stdout).toMatch(/TASK \[show\][\s\S]*ok: \[host1\]\n\s+I am /);
    expect(r.stdout).toContain(`I am ${lab.user}`);
    // host2's own ansible_user is tried (and fails): -u did not override it.
    expect(r.stdout).toMatch(/host2.*no-such-user-here@127\.0\.0\.1/);
    expect(r.rc).toBe(4);
  });

  it('-b -K: asks for the sudo password on the terminal once, becomes root with it, never shows it', async () => {
    const report = join(dir, 'k-report.json');
    const r = await onTerminal(
      [
        ...base(),
        '--limit',
        'host1',
        '-u',
        sudoUser.user,
        '--private-key',
        lab.clientKeyFile,
        '-b',
        '-K',
        '--report',
        report,
      ],
      `${sudoUser.password}\r`,
    );
    expect(r.screen).toContain('BECOME password: ');
    expect(r.screen.match(/BECOME password/g)).toHaveLength(1);
    expect(r.screen).toContain('I am root');
    expect(r.screen).not.toContain(sudoUser.password);
    expect(await readFile(report, 'utf8')).not.toContain(sudoUser.password);
    expect(r.rc).toBe(0);
  });

  it('-K with a wrong password: the host fails with sudo named as the reason', async () => {
    const r = await onTerminal(
      [...base(), '--limit', 'host1', '-u', sudoUser.user, '--private-key', lab.clientKeyFile, '-b', '-K'],
      'not-the-password\r',
    );
    expect(r.screen).toContain(`sudo: incorrect password for user ${sudoUser.user} on host host1`);
    expect(r.rc).not.toBe(0);
  });

  it('-k: asks for the SSH password on the terminal and logs in with it (no key given)', async () => {
    const report = join(dir, 'k-pass-report.json');
    const r = await onTerminal(
      [...base(), '--limit', 'host1', '-u', sudoUser.user, '-k', '--report', report],
      `${sudoUser.password}\r`,
    );
    expect(r.screen).toContain('SSH password: ');
    expect(r.screen).toContain(`I am ${sudoUser.user}`);
    expect(await readFile(report, 'utf8')).not.toContain(sudoUser.password);
    expect(r.rc).toBe(0);
  });

  it('Ctrl-D at the -K prompt ends the run with a usage error, not a hang', async () => {
    const r = await onTerminal([...base(), '-K'], '\u0004');
    expect(r.screen).toContain("nothing entered at 'BECOME password:'");
    expect(r.rc).toBe(2);
  });

  it('-K without a terminal is a usage error that says what to do instead', async () => {
    const r = await ewsplay([...base(), '-K']);
    expect(r.rc).toBe(2);
    expect(r.stderr).toContain('-K/--ask-become-pass needs a terminal to ask on');
    expect(r.stderr).toContain('ansible_become_password');
  });
});
