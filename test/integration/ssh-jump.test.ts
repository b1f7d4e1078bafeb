// ProxyJump (-J) and ssh_config over real sshd processes: the target is reached through a jump host whose
// host key is checked like any host's; a jump host that refuses TCP forwarding, or that is not in
// known_hosts, stops that host with a message naming the jump host; the target's password is never offered
// to a jump host; an ssh_config given with -F names hosts, users, ports, keys and jump hosts.
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnreachableError } from '../../src/connection/connection.js';
import { connectSsh } from '../../src/connection/ssh.js';
import { type SshdHost, type SshdLab, startSshdLab } from '../../src/lab/sshd.js';
import { changedPerHost, ewsplayIn } from './cli.js';

const PLAYBOOK = `- hosts: all
  gather_facts: false
  tasks:
    - copy:
        content: "reached through {{ via }}\\n"
        dest: "{{ lab_dir }}/through-jump.txt"
`;

let lab: SshdLab;
let dir: string;
const host = (name: string): SshdHost => lab.hosts.find((h) => h.name === name)!;

/** An inventory with one host, `target`, reached through `jump` (a ProxyJump value). */
function inventory(jump: string, knownHosts: string, extra: string[] = []): string {
  const target = host('target');
  return [
    'all:',
    '  hosts:',
    '    target:',
    '      ansible_host: 127.0.0.1',
    `      ansible_port: ${target.port}`,
    `      ansible_user: ${JSON.stringify(lab.user)}`,
    `      ansible_ssh_private_key_file: ${JSON.stringify(lab.clientKeyFile)}`,
    `      ansible_ssh_common_args: ${JSON.stringify(`-o UserKnownHostsFile=${knownHosts} ${jump}`)}`,
    `      lab_dir: ${JSON.stringify(target.workDir)}`,
    `      via: ${JSON.stringify(jump)}`,
    ...extra.map((l) => `      ${l}`),
    '',
  ].join('\n');
}

const accepted = async (h: SshdHost) =>
  ((await readFile(h.logFile, 'utf8')).match(/Accepted publickey/g) ?? []).length;

beforeAll(async () => {
  lab = await startSshdLab(4, {
    names: ['bastion', 'blocked', 'keysoff', 'target'],
    hostConfig: (name) =>
      name === 'blocked' ? ['AllowTcpForwarding no'] : name === 'keysoff' ? ['PubkeyAuthentication no'] : [],
  });
  dir = await mkdtemp(join(tmpdir(), 'ewsplay-jump-'));
  await writeFile(join(dir, 'site.yml'), PLAYBOOK);
});

afterAll(async () => {
  await lab?.stop();
});

describe('ProxyJump and ssh_config over SSH', () => {
  it('reaches the target through the jump host: first run changes, second and check runs do not', async () => {
    const bastion = host('bastion');
    const jump = `-o ProxyJump=${lab.user}@127.0.0.1:${bastion.port}`;
    await writeFile(join(dir, 'via-bastion.yml'), inventory(jump, lab.knownHostsFile));
    const before = await accepted(bastion);
    const run = (...extra: string[]) =>
      ewsplayIn(dir, ['run', 'site.yml', '-i', 'via-bastion.yml', ...extra]);

    const first = await run();
    expect(first.rc, first.stdout + first.stderr).toBe(0);
    expect(changedPerHost(first.stdout)).toEqual({ target: 1 });
    expect(await readFile(join(host('target').workDir, 'through-jump.txt'), 'utf8')).toBe(
      `reached through ${jump}\n`,
    );
    // The run logged in to the jump host (once, for the whole run).
    expect(await accepted(bastion)).toBe(before + 1);

    for (const extra of [[], ['--check']]) {
      const again = await run(...extra);
      expect(again.rc, again.stdout + again.stderr).toBe(0);
      expect(changedPerHost(again.stdout)).toEqual({ target: 0 });
    }

    // -J is the same option.
    const short = `-J ${lab.user}@127.0.0.1:${bastion.port}`;
    await writeFile(join(dir, 'dash-j.yml'), inventory(short, lab.knownHostsFile));
    const viaJ = await ewsplayIn(dir, ['run', 'site.yml', '-i', 'dash-j.yml']);
    expect(viaJ.rc, viaJ.stdout + viaJ.stderr).toBe(0);
    expect(changedPerHost(viaJ.stdout)).toEqual({ target: 1 });
  });

  it('hosts behind the same jump host share one login on it for the run', async () => {
    const bastion = host('bastion');
    const target = host('target');
    const names = ['mail1', 'mail2', 'mail3', 'mail4'];
    await writeFile(
      join(dir, 'shared.yml'),
      [
        'all:',
        '  hosts:',
        ...names.flatMap((n) => [`    ${n}:`, `      via: ${n}`]),
        '  vars:',
        '    ansible_host: 127.0.0.1',
        `    ansible_port: ${target.port}`,
        `    ansible_user: ${JSON.stringify(lab.user)}`,
        `    ansible_ssh_private_key_file: ${JSON.stringify(lab.clientKeyFile)}`,
        `    ansible_ssh_common_args: ${JSON.stringify(`-o UserKnownHostsFile=${lab.knownHostsFile} -J 127.0.0.1:${bastion.port}`)}`,
        // Each host writes its own file: the play copies to a per-host name.
        `    lab_dir: ${JSON.stringify(target.workDir)}`,
        '',
      ].join('\n'),
    );
    await writeFile(
      join(dir, 'shared-site.yml'),
      PLAYBOOK.replace('through-jump.txt', 'shared-{{ inventory_hostname }}.txt'),
    );
    const before = await accepted(bastion);
    const targetBefore = await accepted(target);
    const r = await ewsplayIn(dir, ['run', 'shared-site.yml', '-i', 'shared.yml']);
    expect(r.rc, r.stdout + r.stderr).toBe(0);
    expect(changedPerHost(r.stdout)).toEqual(Object.fromEntries(names.map((n) => [n, 1])));
    expect(await accepted(bastion)).toBe(before + 1);
    expect(await accepted(target)).toBe(targetBefore + names.length);

    // A shared jump host that cannot be reached fails every host behind it, each under its own name.
    const closed = (await readFile(join(dir, 'shared.yml'), 'utf8')).replace(
      `-J 127.0.0.1:${bastion.port}`,
      '-J 127.0.0.1:1',
    );
    await writeFile(join(dir, 'shared-closed.yml'), closed);
    const down = await ewsplayIn(dir, ['run', 'shared-site.yml', '-i', 'shared-closed.yml']);
    expect(down.rc).toBe(4);
    for (const n of names)
      expect(down.stdout + down.stderr).toContain(
        `${n}: cannot connect to jump host ${lab.user}@127.0.0.1:1: connection refused`,
      );
  });

  it('follows an ssh_config given with -F (HostName, User, Port, IdentityFile, ProxyJump); the inventory wins', async () => {
    const bastion = host('bastion');
    const target = host('target');
    const config = join(dir, 'ssh_config');
    await writeFile(
      config,
      [
        'Host paris-*',
        '  HostName 127.0.0.1',
        `  User ${lab.user}`,
        `  IdentityFile ${lab.clientKeyFile}`,
        'Host paris-mail',
        `  Port ${target.port}`,
        '  ProxyJump paris-bastion',
        'Host paris-bastion',
        `  Port ${bastion.port}`,
        '# ansible_port wins over this closed port',
        'Host paris-direct',
        '  Port 1',
        '',
      ].join('\n'),
    );
    await writeFile(
      join(dir, 'aliases.yml'),
      [
        'all:',
        '  hosts:',
        '    paris-mail:',
        `      lab_dir: ${JSON.stringify(target.workDir)}`,
        '      via: ssh_config',
        '    paris-direct:',
        `      ansible_port: ${target.port}`,
        `      lab_dir: ${JSON.stringify(bastion.workDir)}`,
        '      via: the inventory port',
        '  vars:',
        `    ansible_ssh_common_args: ${JSON.stringify(`-F ${config} -o UserKnownHostsFile=${lab.knownHostsFile}`)}`,
        '',
      ].join('\n'),
    );
    const before = await accepted(bastion);
    const r = await ewsplayIn(dir, ['run', 'site.yml', '-i', 'aliases.yml']);
    expect(r.rc, r.stdout + r.stderr).toBe(0);
    expect(changedPerHost(r.stdout)).toEqual({ 'paris-mail': 1, 'paris-direct': 1 });
    expect(await readFile(join(target.workDir, 'through-jump.txt'), 'utf8')).toBe(
      'reached through ssh_config\n',
    );
    expect(await readFile(join(bastion.workDir, 'through-jump.txt'), 'utf8')).toBe(
      'reached through the inventory port\n',
    );
    // paris-mail went through the jump host; paris-direct did not.
    expect(await accepted(bastion)).toBe(before + 1);
  });

  it("reads the user's ~/.ssh/config by default; -F /dev/null, as the lab's inventories say, reads none", async () => {
    const home = await mkdtemp(join(tmpdir(), 'ewsplay-home-'));
    await mkdir(join(home, '.ssh'));
    // A config that would send every host through a closed port.
    await writeFile(join(home, '.ssh', 'config'), 'Host *\n  ProxyJump 127.0.0.1:1\n');
    const saved = process.env.HOME;
    process.env.HOME = home;
    try {
      await writeFile(
        join(dir, 'pinged.yml'),
        '- hosts: all\n  gather_facts: false\n  tasks:\n    - ping:\n',
      );
      const isolated = await ewsplayIn(dir, [
        'run',
        'pinged.yml',
        '-i',
        lab.inventoryFile,
        '--limit',
        'target',
      ]);
      expect(isolated.rc, isolated.stdout + isolated.stderr).toBe(0);
      expect(await readFile(lab.inventoryFile, 'utf8')).toContain('-F /dev/null');
      const plain = (await readFile(lab.inventoryFile, 'utf8')).replace('-F /dev/null ', '');
      await writeFile(join(dir, 'follows-config.yml'), plain);
      const followed = await ewsplayIn(dir, [
        'run',
        'pinged.yml',
        '-i',
        'follows-config.yml',
        '--limit',
        'target',
      ]);
      expect(followed.rc).toBe(4);
      expect(followed.stdout + followed.stderr).toContain('cannot connect to jump host');
    } finally {
      process.env.HOME = saved;
    }
  });

  it('a jump host that refuses forwarding makes the target unreachable, naming the jump host', async () => {
    const blocked = host('blocked');
    // No user@: the jump host is logged in to as the local user, as ssh -J does (the lab's user).
    await writeFile(
      join(dir, 'via-blocked.yml'),
      inventory(`-o ProxyJump=127.0.0.1:${blocked.port}`, lab.knownHostsFile),
    );
    const r = await ewsplayIn(dir, ['run', 'site.yml', '-i', 'via-blocked.yml']);
    expect(r.rc).toBe(4);
    expect(r.stdout + r.stderr).toContain(
      `jump host 127.0.0.1:${blocked.port} cannot reach 127.0.0.1:${host('target').port}`,
    );
  });

  it("refuses a jump host whose key is not known, and never offers it the target's password", async () => {
    const bastion = host('bastion');
    const partial = join(dir, 'known_hosts_without_bastion');
    const lines = (await readFile(lab.knownHostsFile, 'utf8')).split('\n');
    await writeFile(partial, lines.filter((l) => !l.startsWith(`[127.0.0.1]:${bastion.port} `)).join('\n'));
    await writeFile(
      join(dir, 'unknown-bastion.yml'),
      inventory(`-o ProxyJump=${lab.user}@127.0.0.1:${bastion.port}`, partial),
    );
    const unknown = await ewsplayIn(dir, ['run', 'site.yml', '-i', 'unknown-bastion.yml']);
    expect(unknown.rc).toBe(4);
    const said = unknown.stdout + unknown.stderr;
    expect(said).toContain(`host key for [127.0.0.1]:${bastion.port} (jump host) is not known`);
    expect(said).toContain('--accept-new-host-keys');

    const keysoff = host('keysoff');
    const password = 'target-only-password-1234';
    await writeFile(
      join(dir, 'keysoff.yml'),
      inventory(`-o ProxyJump=${lab.user}@127.0.0.1:${keysoff.port}`, lab.knownHostsFile, [
        `ansible_password: ${password}`,
      ]),
    );
    const refused = await ewsplayIn(dir, ['run', 'site.yml', '-i', 'keysoff.yml']);
    expect(refused.rc).toBe(4);
    const out = refused.stdout + refused.stderr;
    expect(out).toMatch(/cannot connect to jump host .*authentication failed \(tried: [^)]*\)/);
    expect(out.match(/tried: ([^)]*)\)/)![1]).not.toContain('password');
    expect(out).not.toContain(password);
    expect(await readFile(keysoff.logFile, 'utf8')).not.toMatch(/Failed password/);
  });
});

describe('a shared jump host dying mid-command', () => {
  it('makes every host behind it unreachable at once, spares a direct host, and is not reused dead', async () => {
    const own = await startSshdLab(2, { names: ['gw', 'inner'] });
    const [gw, inner] = own.hosts as [SshdHost, SshdHost];
    const spec = (host: string, jump: boolean) => ({
      host,
      connection: 'ssh' as const,
      address: '127.0.0.1',
      port: inner.port,
      user: own.user,
      privateKeyFile: own.clientKeyFile,
      knownHostsFile: own.knownHostsFile,
      connectTimeoutMs: 3000,
      ...(jump ? { jump: [{ address: '127.0.0.1', port: gw.port }] } : {}),
    });
    const behind = [await connectSsh(spec('b1', true)), await connectSsh(spec('b2', true))];
    const direct = await connectSsh(spec('d1', false));
    try {
      expect(((await readFile(gw.logFile, 'utf8')).match(/Accepted publickey/g) ?? []).length).toBe(1);
      const dying = behind.map((c) => c.exec('sleep 5; echo done'));
      const living = direct.exec('sleep 1; echo done');
      setTimeout(() => gw.kill(), 300);
      const started = Date.now();
      for (const d of dying) await expect(d).rejects.toThrow(UnreachableError);
      expect(Date.now() - started).toBeLessThan(2500);
      expect(await living).toEqual({ rc: 0, stdout: 'done\n', stderr: '' });
      // The dead jump connection is not handed to the next host: it tries anew, and fails.
      await expect(connectSsh(spec('b3', true))).rejects.toThrow(
        /b3: cannot connect to jump host .*connection refused/,
      );
    } finally {
      for (const c of [...behind, direct]) await c.close();
      await own.stop();
    }
  });
});
