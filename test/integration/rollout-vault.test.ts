// A rollout over sites whose group_vars are vaults: the passphrase is obtained once for the whole rollout
// (an executable --vault-password-file counts its calls), and each site decrypts its own values.
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { encryptVault } from '../../src/vault/age.js';

const BIN = resolve(import.meta.dirname, '../../bin/ewsplay.js');
const PASS = 'rollout vault passphrase';

it('asks for the vault passphrase once per rollout, and every site reads its own vault', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ewsplay-rollout-vault-'));
  const counter = join(dir, 'asked');
  const passFile = join(dir, 'vault-pass.sh');
  writeFileSync(passFile, `#!/bin/sh\necho x >> '${counter}'\necho '${PASS}'\n`);
  chmodSync(passFile, 0o700);
  const secrets: Record<string, string> = { berlin: 'Berlin-s3cret-4711', paris: 'Paris-s3cret-0815' };
  for (const [site, secret] of Object.entries(secrets)) {
    const root = join(dir, 'hosts', site);
    mkdirSync(root, { recursive: true });
    mkdirSync(join(dir, 'inventory', site, 'group_vars', 'all'), { recursive: true });
    writeFileSync(
      join(dir, 'inventory', site, 'hosts.yml'),
      `all:\n  hosts:\n    mail:\n      ansible_connection: local\n      ewsplay_local_root: ${root}\n`,
    );
    writeFileSync(
      join(dir, 'inventory', site, 'group_vars', 'all', 'vault.yml'),
      await encryptVault(`site_token: ${secret}\n`, PASS, 10),
    );
  }
  writeFileSync(
    join(dir, 'play.yml'),
    '- hosts: all\n  tasks:\n    - name: token\n      copy: { dest: token.txt, content: "{{ site_token }}" }\n',
  );
  const r = await promisify(execFile)(
    process.execPath,
    [BIN, 'run', 'play.yml', '-i', 'inventory', '--vault-password-file', passFile],
    { cwd: dir, env: { ...process.env, EWSPLAY_VAULT_PASSWORD: '' } },
  );
  expect(readFileSync(counter, 'utf8')).toBe('x\n');
  for (const [site, secret] of Object.entries(secrets)) {
    expect(readFileSync(join(dir, 'hosts', site, 'token.txt'), 'utf8')).toBe(secret);
    expect(r.stdout).not.toContain(secret);
  }
});
