// Ansible's connection variables become our ConnectionSpec; bad values are reported where they were written.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError, UserError } from '../../../src/core/problems.js';
import {
  connectionSpec,
  ignoredConnectionSettings,
  isSecretVarName,
} from '../../../src/inventory/connection-spec.js';
import { loadInventory } from '../../../src/inventory/inventory.js';

const defaults = { connectTimeoutMs: 7000 };

describe('connectionSpec', () => {
  it('defaults: ssh to the inventory name on port 22', () => {
    expect(connectionSpec('mail.example.com', {}, defaults)).toEqual({
      host: 'mail.example.com',
      connection: 'ssh',
      address: 'mail.example.com',
      port: 22,
      defaultPort: true,
      connectTimeoutMs: 7000,
    });
  });

  it("reads Ansible's names", () => {
    const spec = connectionSpec(
      'mail',
      {
        ansible_host: '192.0.2.7',
        ansible_port: '2222',
        ansible_user: 'deploy',
        ansible_connection: 'ansible.builtin.ssh',
        ansible_ssh_private_key_file: '~/.ssh/id_ed25519',
        ansible_password: 'ssh-secret',
        ansible_become_password: 'sudo-secret',
        ansible_ssh_known_hosts_file: '/etc/ewsplay/known_hosts',
        ansible_ssh_timeout: 3,
      },
      { ...defaults, knownHostsFile: '/default/known_hosts', acceptNewHostKeys: false },
    );
    expect(spec).toEqual({
      host: 'mail',
      connection: 'ssh',
      address: '192.0.2.7',
      port: 2222,
      user: 'deploy',
      privateKeyFile: join(homedir(), '.ssh/id_ed25519'),
      password: 'ssh-secret',
      becomePassword: 'sudo-secret',
      knownHostsFile: '/etc/ewsplay/known_hosts',
      acceptNewHostKeys: false,
      connectTimeoutMs: 3000,
    });
  });

  it('reads the older aliases', () => {
    const spec = connectionSpec(
      'h',
      {
        ansible_ssh_host: 'a',
        ansible_ssh_port: 2200,
        ansible_ssh_user: 'u',
        ansible_ssh_pass: 'p',
        ansible_become_pass: 'b',
      },
      defaults,
    );
    expect(spec).toMatchObject({ address: 'a', port: 2200, user: 'u', password: 'p', becomePassword: 'b' });
  });

  it('local connection confined to ewsplay_local_root', () => {
    expect(
      connectionSpec('lab1', { ansible_connection: 'local', ewsplay_local_root: 'lab/hosts/lab1' }, defaults),
    ).toMatchObject({ connection: 'local', root: resolve('lab/hosts/lab1') });
  });

  it('honours UserKnownHostsFile, StrictHostKeyChecking=accept-new and ProxyJump in ansible_ssh_common_args, reports the rest', () => {
    const vars = {
      ansible_ssh_common_args:
        '-o UserKnownHostsFile=/lab/known_hosts -o StrictHostKeyChecking=accept-new -o ProxyJump=bastion -o ProxyCommand="nc %h %p"',
    };
    expect(connectionSpec('h', vars, defaults)).toMatchObject({
      knownHostsFile: '/lab/known_hosts',
      acceptNewHostKeys: true,
      jump: [{ address: 'bastion' }],
    });
    expect(ignoredConnectionSettings(vars)).toEqual([
      expect.stringMatching(/^ansible_ssh_common_args: -o ProxyCommand="nc %h %p" ignored/),
    ]);
    expect(ignoredConnectionSettings({ ansible_ssh_common_args: '-o "UserKnownHostsFile /x"' })).toEqual([]);
  });

  it('reads ProxyJump as ssh does: -J or -o, user@host:port chains, IPv6, ssh:// and none; the first one wins', () => {
    const jump = (args: string, name = 'ansible_ssh_common_args') =>
      connectionSpec('h', { [name]: args }, defaults).jump;
    expect(jump('-J admin@bastion.example.com:2222')).toEqual([
      { address: 'bastion.example.com', port: 2222, user: 'admin' },
    ]);
    expect(jump('-Jgw1,ops@[2001:db8::7]:2200', 'ansible_ssh_extra_args')).toEqual([
      { address: 'gw1' },
      { address: '2001:db8::7', port: 2200, user: 'ops' },
    ]);
    expect(jump('-o ProxyJump=ssh://jump@10.0.0.1 -J other')).toEqual([
      { address: '10.0.0.1', user: 'jump' },
    ]);
    expect(jump('-o "ProxyJump none"')).toEqual([]);
    expect(jump('-o UserKnownHostsFile=/x')).toBeUndefined();
  });

  it('a ProxyJump ssh could not read is reported at the variable, with the form to write', () => {
    const pos = { file: 'inventory/hosts.yml', line: 4, col: 7 };
    for (const bad of ['-J bastion:99999', '-J user@', '-o ProxyJump=bastion,']) {
      try {
        connectionSpec('h', { ansible_ssh_common_args: bad }, defaults, (n) =>
          n === 'ansible_ssh_common_args' ? pos : undefined,
        );
        expect.unreachable(bad);
      } catch (e) {
        expect(e).toBeInstanceOf(UserError);
        const [problem] = (e as UserError).problems;
        expect(problem).toMatchObject({ file: pos.file, line: 4, col: 7 });
        expect(problem!.message).toMatch(/^ProxyJump: /);
        expect(problem!.hint).toContain('[user@]host[:port]');
      }
    }
  });

  it('a bad value is reported at the position of the variable', () => {
    const pos = { file: 'inventory/hosts.yml', line: 7, col: 9 };
    const where = (name: string) => (name === 'ansible_port' ? pos : undefined);
    try {
      connectionSpec('h', { ansible_port: 'twenty-two' }, defaults, where);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(UserError);
      expect((e as UserError).problems).toEqual([
        { ...pos, message: expect.stringMatching(/ansible_port must be a number from 1 to 65535/) },
      ]);
    }
  });

  it.each([
    [{ ansible_connection: 'winrm' }, /unknown connection 'winrm'/],
    [{ ansible_port: 70000 }, /ansible_port must be a number/],
    [{ ansible_user: ['a'] }, /ansible_user must be a string, not a list/],
    [{ ewsplay_local_root: '/x' }, /ewsplay_local_root applies only to ansible_connection: local/],
  ])('%o is refused, naming the host when the position is unknown', (vars, message) => {
    expect(() => connectionSpec('web1', vars, defaults)).toThrow(UsageError);
    expect(() => connectionSpec('web1', vars, defaults)).toThrow(message);
    expect(() => connectionSpec('web1', vars, defaults)).toThrow(/host 'web1'/);
  });

  it('from a loaded inventory, with positions from Inventory.varSource', async () => {
    const file = join(import.meta.dirname, '../../fixtures/inventory/basic/hosts.yml');
    const inv = await loadInventory([file]);
    expect(connectionSpec('www.example.com', inv.hostVars('www.example.com'), defaults)).toMatchObject({
      address: '192.0.2.10',
      port: 8022,
    });
    expect(connectionSpec('localhost', inv.hostVars('localhost'), defaults).connection).toBe('local');
  });

  it('with positions from Inventory.varSource, a bad value points into the inventory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ewsplay-conn-'));
    writeFileSync(join(dir, 'hosts.yml'), 'all:\n  hosts:\n    web1:\n      ansible_port: twenty-two\n');
    const inv = await loadInventory([join(dir, 'hosts.yml')]);
    expect(() =>
      connectionSpec('web1', inv.hostVars('web1'), defaults, (name) => inv.varSource('web1', name)),
    ).toThrow(/hosts\.yml:4:7: ansible_port must be a number from 1 to 65535, not 'twenty-two'/);
  });
});

describe('secret variables', () => {
  it.each([
    ['ansible_password', true],
    ['ansible_ssh_pass', true],
    ['ansible_become_password', true],
    ['ansible_become_pass', true],
    ['exchange_admin_password', true],
    ['api_token', true],
    ['client_secret', true],
    ['ansible_user', false],
    ['password_policy', false],
    ['tokens_issued', false],
  ])('%s: %s', (name, secret) => {
    expect(isSecretVarName(name)).toBe(secret);
  });
});
