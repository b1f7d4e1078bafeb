// ssh_config as ssh reads it: Host patterns (* ? !, lists), first value wins, IdentityFile adds up, Include
// with globs, Match blocks skipped, tokens; and what the inventory gives wins over it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UnreachableError } from '../../../src/connection/connection.js';
import {
  hostMatches,
  readSshConfig,
  resolveSshRoute,
  settingsFor,
} from '../../../src/connection/ssh-config.js';

/** A directory holding the files; a file's text may name the directory (for absolute Includes). */
function configDir(files: Record<string, string | ((dir: string) => string)>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ewsplay-ssh-config-'));
  for (const [name, text] of Object.entries(files))
    writeFileSync(join(dir, name), typeof text === 'string' ? text : text(dir));
  return dir;
}

describe('hostMatches', () => {
  it('matches ssh patterns: globs, lists, negation, any case', () => {
    expect(hostMatches(['*.paris.corp'], 'MAIL.paris.corp')).toBe(true);
    expect(hostMatches(['web?'], 'web1')).toBe(true);
    expect(hostMatches(['web?'], 'web12')).toBe(false);
    expect(hostMatches(['a,b', 'c'], 'c')).toBe(true);
    expect(hostMatches(['*', '!bastion'], 'bastion')).toBe(false);
    expect(hostMatches(['!bastion'], 'other')).toBe(false);
  });
});

describe('ssh_config', () => {
  it('gives each host the first value of each setting, IdentityFile adding up, Match skipped', async () => {
    const dir = configDir({
      config: (d) =>
        [
          '# comment',
          `Include ${join(d, 'top-*.conf')}`,
          'Host paris-*  !paris-bastion',
          '  HostName %h.paris.corp',
          '  User deploy',
          '  IdentityFile ~/.ssh/paris_ed25519',
          '  ProxyJump admin@paris-bastion:2222',
          'Match user nobody',
          '  User matched-user',
          'Host paris-mail',
          '  User second-user',
          '  Port=2200',
          '  IdentityFile "/keys/with space"',
          // Inside a Host block: applies only to paris-mail. (Relative Includes resolve from ~/.ssh.)
          `Include ${join(d, 'extra-*.conf')}`,
          'Host *',
          '  User fallback',
          '  UserKnownHostsFile ~/known_%n',
          '  ServerAliveInterval 30',
          '',
        ].join('\n'),
      'top-1.conf': 'Host paris-bastion\n  Port 2022\n',
      'extra-1.conf': 'Host paris-mail\n  Port 9999\nHost paris-bastion\n  User not-applied\n',
      'top.txt': 'Host *\n  Port 1\n',
    });
    const lines = await readSshConfig([{ file: join(dir, 'config'), required: true }]);
    expect(settingsFor(lines, 'paris-mail')).toEqual({
      hostName: 'paris-mail.paris.corp',
      user: 'deploy',
      port: 2200,
      identityFiles: [join(homedir(), '.ssh/paris_ed25519'), '/keys/with space'],
      proxyJump: [{ address: 'paris-bastion', port: 2222, user: 'admin' }],
      userKnownHostsFile: join(homedir(), 'known_paris-mail'),
    });
    expect(settingsFor(lines, 'paris-bastion')).toEqual({
      user: 'fallback',
      port: 2022,
      identityFiles: [],
      userKnownHostsFile: join(homedir(), 'known_paris-bastion'),
    });
  });

  it('reports a bad Port or ProxyJump at its file and line, and a missing -F file', async () => {
    const dir = configDir({ bad: 'Host x\n  Port twenty\nHost y\n  ProxyJump a:0\n' });
    const lines = await readSshConfig([{ file: join(dir, 'bad'), required: true }]);
    expect(() => settingsFor(lines, 'x')).toThrow(`${join(dir, 'bad')}:2: Port must be a number`);
    expect(() => settingsFor(lines, 'y')).toThrow(`${join(dir, 'bad')}:4: ProxyJump: port 0`);
    await expect(readSshConfig([{ file: join(dir, 'missing'), required: true }])).rejects.toBeInstanceOf(
      UnreachableError,
    );
    expect(await readSshConfig([{ file: join(dir, 'missing'), required: false }])).toEqual([]);
  });

  it('the inventory wins: ansible_user, ansible_port and its own ProxyJump over the file', async () => {
    const dir = configDir({
      cfg: 'Host mail\n  HostName 192.0.2.7\n  User cfg-user\n  Port 2200\n  ProxyJump gw\nHost gw\n  HostName 192.0.2.1\n  Port 2022\n  User gw-user\n',
    });
    const base = { host: 'mail', connection: 'ssh' as const, address: 'mail', connectTimeoutMs: 1000 };
    const sshConfigFile = join(dir, 'cfg');
    const fromFile = await resolveSshRoute({ ...base, port: 22, defaultPort: true, sshConfigFile });
    expect(fromFile.target).toEqual({
      address: '192.0.2.7',
      port: 2200,
      user: 'cfg-user',
      identityFiles: [],
    });
    expect(fromFile.hops).toEqual([{ address: '192.0.2.1', port: 2022, user: 'gw-user', identityFiles: [] }]);

    const given = await resolveSshRoute({ ...base, port: 22, user: 'inv-user', jump: [], sshConfigFile });
    expect(given.target).toEqual({ address: '192.0.2.7', port: 22, user: 'inv-user', identityFiles: [] });
    expect(given.hops).toEqual([]);

    const none = await resolveSshRoute({
      ...base,
      port: 22,
      defaultPort: true,
      sshConfigFile: join(dir, 'cfg'),
    });
    expect(none.target.user).toBe('cfg-user');
    const elsewhere = await resolveSshRoute({
      ...base,
      address: 'other',
      port: 22,
      defaultPort: true,
      sshConfigFile,
    });
    expect(elsewhere).toEqual({
      hops: [],
      target: { address: 'other', port: 22, user: userInfo().username, identityFiles: [] },
    });
  });
});
