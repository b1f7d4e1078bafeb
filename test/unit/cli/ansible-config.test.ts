// ansible.cfg and ANSIBLE_* defaults, found and read as Ansible does.
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ansibleDefaults, parseConfig } from '../../../src/cli/ansible-config.js';

function project(cfg?: string): { dir: string; home: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ewsplay-cfg-'));
  const home = join(dir, 'home');
  mkdirSync(home);
  if (cfg !== undefined) writeFileSync(join(dir, 'ansible.cfg'), cfg);
  return { dir, home };
}

describe('ansibleDefaults', () => {
  it('reads ./ansible.cfg: paths relative to the file, ; inline comments, booleans', async () => {
    const { dir, home } = project(
      '[defaults]\ninventory = inventory/prod, ~/extra.yml ; two sources\nremote_user: deploy\nforks=7\n# a comment\nhost_key_checking = False\n[privilege_escalation]\nbecome = yes\nbecome_user = app\n',
    );
    const cfg = await ansibleDefaults({}, dir, home);
    expect(cfg).toMatchObject({
      file: join(dir, 'ansible.cfg'),
      inventory: [join(dir, 'inventory/prod'), join(home, 'extra.yml')],
      remoteUser: 'deploy',
      forks: '7',
      become: true,
      becomeUser: 'app',
      hostKeyCheckingOff: true,
    });
  });

  it('lets ANSIBLE_* variables win over the file, and ANSIBLE_CONFIG name the file', async () => {
    const { dir, home } = project('[defaults]\nremote_user = fromfile\n');
    const other = join(dir, 'other.cfg');
    writeFileSync(other, '[defaults]\nforks = 3\nremote_user = other\n');
    const cfg = await ansibleDefaults({ ANSIBLE_CONFIG: other, ANSIBLE_REMOTE_USER: 'fromenv' }, dir, home);
    expect(cfg).toMatchObject({ file: other, forks: '3', remoteUser: 'fromenv' });
  });

  it('falls back to ~/.ansible.cfg, and finds nothing without any file', async () => {
    const { dir, home } = project();
    expect((await ansibleDefaults({}, dir, home)).file).toBeUndefined();
    writeFileSync(join(home, '.ansible.cfg'), '[defaults]\ntimeout = 30\n');
    expect(await ansibleDefaults({}, dir, home)).toMatchObject({
      file: join(home, '.ansible.cfg'),
      timeout: '30',
    });
  });

  it('ignores ./ansible.cfg in a world-writable directory, saying so', async () => {
    const { dir, home } = project('[defaults]\nremote_user = intruder\n');
    chmodSync(dir, 0o777);
    const cfg = await ansibleDefaults({}, dir, home);
    expect(cfg.remoteUser).toBeUndefined();
    expect(cfg.warnings.join()).toMatch(/world-writable/);
  });

  it('refuses a value of the wrong type, naming the file and key', async () => {
    const { dir, home } = project('[defaults]\nforks = many\n');
    await expect(ansibleDefaults({}, dir, home)).rejects.toThrow(
      /ansible.cfg: \[defaults\] forks must be a whole number/,
    );
  });
});

describe('parseConfig', () => {
  it('keeps continuation lines and refuses a line outside a section', () => {
    expect(parseConfig('a.cfg', '[s]\nk = one\n  two\n').get('s')?.get('k')).toBe('one\ntwo');
    expect(() => parseConfig('a.cfg', 'k = v\n')).toThrow(/a.cfg:1/);
  });
});
