// Ansible Vault files and `!vault` values written by the real ansible-vault (test/fixtures/ansible-vault,
// password test-vault-pass) open with the same password, become secrets, and keep every line where it was.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/core/problems.js';
import { MASK, Secrets } from '../../../src/core/secrets.js';
import { loadInventory } from '../../../src/inventory/inventory.js';
import { decryptAnsibleVault, isAnsibleVault, openInlineVaults } from '../../../src/vault/ansible-vault.js';
import { vaultReader } from '../../../src/vault/vars.js';

const dir = join(import.meta.dirname, '../../fixtures/ansible-vault/inv');
const PASSWORD = 'test-vault-pass';

describe('Ansible Vault', () => {
  it('decrypts a vault file ansible-vault encrypted', () => {
    const text = readFileSync(join(dir, 'group_vars/all/vault.yml'), 'utf8');
    expect(isAnsibleVault(text)).toBe(true);
    expect(decryptAnsibleVault(text, PASSWORD, 'vault.yml')).toBe(
      'db_password: "S3cret pass"\napi_token: tok-123\n',
    );
  });

  it('refuses a wrong password without quoting anything, naming where', () => {
    const text = readFileSync(join(dir, 'group_vars/all/vault.yml'), 'utf8');
    expect(() => decryptAnsibleVault(text, 'wrong', 'vault.yml')).toThrow(UsageError);
    expect(() => decryptAnsibleVault(text, 'wrong', 'vault.yml')).toThrow(
      /vault.yml: the vault password does not open/,
    );
  });

  it('opens !vault values in place, on the same lines (1.1 and 1.2 with a vault id, nested)', () => {
    const file = join(dir, 'group_vars/all/main.yml');
    const text = readFileSync(file, 'utf8');
    const opened = openInlineVaults(text, (vault, line) =>
      decryptAnsibleVault(vault, PASSWORD, `main.yml:${line}`),
    );
    expect(opened.split('\n')).toHaveLength(text.split('\n').length);
    expect(opened.split('\n').indexOf('after: still-here')).toBe(
      text.split('\n').indexOf('after: still-here'),
    );
  });

  it('an inventory with a vault file and !vault values loads with the password; the values are secrets', async () => {
    const secrets = new Secrets();
    const inventory = await loadInventory([join(dir, 'hosts.yml')], {
      readVarsFile: vaultReader(async () => PASSWORD, secrets),
    });
    const vars = inventory.hostVars('db1');
    expect(vars).toMatchObject({
      plain: 'visible',
      inline_secret: 'inline-Secret!',
      settings: { port: 5432, nested_secret: 'labelled secret' },
      db_password: 'S3cret pass',
      api_token: 'tok-123',
      after: 'still-here',
    });
    // Positions still point at the written lines (problems and `ewsplay inventory` rely on them).
    expect(inventory.varSource('db1', 'after')?.line).toBe(19);
    expect(secrets.mask('inline-Secret! labelled secret S3cret pass visible')).toBe(
      `${MASK} ${MASK} ${MASK} visible`,
    );
  });

  it('a wrong password for a !vault value names the file and line', async () => {
    const read = vaultReader(async () => 'nope', new Secrets());
    await expect(read(join(dir, 'group_vars/all/main.yml'))).rejects.toThrow(
      /main.yml:3: the vault password/,
    );
  });
});
