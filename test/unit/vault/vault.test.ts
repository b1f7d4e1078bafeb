// The vault: age format (armored, passphrase via scrypt) interoperable with the real `age` CLI, the
// `ewsplay vault` command, and vault files loading as variables whose values are secrets.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/core/problems.js';
import { Secrets } from '../../../src/core/secrets.js';
import { loadInventory } from '../../../src/inventory/inventory.js';
import { decryptVault, encryptVault, isVault } from '../../../src/vault/age.js';
import { passphraseSource } from '../../../src/vault/passphrase.js';
import { vaultReader } from '../../../src/vault/vars.js';

const BIN = resolve(import.meta.dirname, '../../../bin/ewsplay.js');
const FAST = 10; // scrypt work factor for files the tests write themselves (the CLI uses age's 18)

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'ewsplay-vault-'));
}

interface Run {
  rc: number;
  stdout: string;
  stderr: string;
}

function ewsplay(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Promise<Run> {
  return new Promise((done) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, EWSPLAY_VAULT_PASSWORD: '', ...env }, cwd, timeout: 150_000 },
      (err, stdout, stderr) => done({ rc: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end();
  });
}

/** Runs a command with a pseudo-terminal (util-linux `script`), typing `input`: age reads passphrases only from a TTY. */
function withTty(command: string, input: string, cwd: string): Promise<number> {
  return new Promise((done) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      cwd,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    child.stdin.end(input);
    child.on('close', (code) => done(code ?? 1));
  });
}

describe('age format', () => {
  it('is armored text, round-trips, and refuses a wrong passphrase naming the file', async () => {
    const armored = await encryptVault('token: abc-123\n', 'right horse', FAST);
    expect(armored.startsWith('-----BEGIN AGE ENCRYPTED FILE-----\n')).toBe(true);
    expect(armored.trimEnd().endsWith('-----END AGE ENCRYPTED FILE-----')).toBe(true);
    expect(armored).not.toContain('abc-123');
    expect(isVault(armored)).toBe(true);
    expect(isVault('token: abc\n')).toBe(false);
    expect(await decryptVault(Buffer.from(armored), 'right horse', 'x.yml')).toBe('token: abc-123\n');
    const wrong = decryptVault(Buffer.from(armored), 'wrong horse', 'group_vars/all/vault.yml');
    await expect(wrong).rejects.toThrow(UsageError);
    await expect(wrong).rejects.toThrow('group_vars/all/vault.yml: wrong vault passphrase');
  });

  it('age -d decrypts what ewsplay writes, and ewsplay decrypts what age -p writes (armored and binary)', async () => {
    const dir = scratch();
    writeFileSync(join(dir, 'ours.yml'), await encryptVault('made_by: ewsplay\n', 'interop pass', FAST));
    expect(await withTty('age -d -o ours.out ours.yml', 'interop pass\n', dir)).toBe(0);
    expect(readFileSync(join(dir, 'ours.out'), 'utf8')).toBe('made_by: ewsplay\n');

    writeFileSync(join(dir, 'plain.txt'), 'made_by: age\n');
    expect(await withTty('age -p -a -o armored.yml plain.txt', 'interop pass\ninterop pass\n', dir)).toBe(0);
    expect(await withTty('age -p -o binary.age plain.txt', 'interop pass\ninterop pass\n', dir)).toBe(0);
    for (const f of ['armored.yml', 'binary.age']) {
      const data = readFileSync(join(dir, f));
      expect(isVault(data)).toBe(true);
      expect(await decryptVault(data, 'interop pass', f)).toBe('made_by: age\n');
    }
  }, 120_000);
});

describe('ewsplay vault', () => {
  it('encrypt, view, rekey and decrypt in place; age reads the result', async () => {
    const dir = scratch();
    const file = join(dir, 'vault.yml');
    writeFileSync(file, 'db_password: S3cret-Db\n');
    writeFileSync(join(dir, 'pw'), 'first pass\n');
    writeFileSync(join(dir, 'pw2'), 'second pass\n');
    let r = await ewsplay(['vault', 'encrypt', file, '--vault-password-file', join(dir, 'pw')]);
    expect(r.rc, r.stderr).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(isVault(text)).toBe(true);
    expect(text).not.toContain('S3cret-Db');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await ewsplay(['vault', 'encrypt', file], { EWSPLAY_VAULT_PASSWORD: 'first pass' })).rc).toBe(2);

    r = await ewsplay(['vault', 'view', file], { EWSPLAY_VAULT_PASSWORD: 'first pass' });
    expect(r).toMatchObject({ rc: 0, stdout: 'db_password: S3cret-Db\n' });

    r = await ewsplay([
      'vault',
      'rekey',
      file,
      '--vault-password-file',
      join(dir, 'pw'),
      '--new-vault-password-file',
      join(dir, 'pw2'),
    ]);
    expect(r.rc, r.stderr).toBe(0);
    expect((await ewsplay(['vault', 'view', file], { EWSPLAY_VAULT_PASSWORD: 'first pass' })).rc).toBe(2);
    expect(await withTty(`age -d -o out.yml ${file}`, 'second pass\n', dir)).toBe(0);
    expect(readFileSync(join(dir, 'out.yml'), 'utf8')).toBe('db_password: S3cret-Db\n');

    r = await ewsplay(['vault', 'decrypt', file], { EWSPLAY_VAULT_PASSWORD: 'second pass' });
    expect(r.rc, r.stderr).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe('db_password: S3cret-Db\n');
    expect((await ewsplay(['vault', 'decrypt', file], { EWSPLAY_VAULT_PASSWORD: 'x' })).rc).toBe(2);
  }, 180_000);

  it('a wrong or missing passphrase is a usage error (exit 2) naming the file, without a stack', async () => {
    const dir = scratch();
    const file = join(dir, 'secret.yml');
    writeFileSync(file, await encryptVault('a: b\n', 'the right one', FAST));
    let r = await ewsplay(['vault', 'view', file], { EWSPLAY_VAULT_PASSWORD: 'not it at all' });
    expect(r.rc).toBe(2);
    expect(r.stderr).toContain(`${file}: wrong vault passphrase`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    r = await ewsplay(['vault', 'view', file]);
    expect(r.rc).toBe(2);
    expect(r.stderr).toContain(`a vault passphrase is needed for ${file}`);
    expect(r.stderr).toContain('--vault-password-file');
    r = await ewsplay(['vault', 'view', file, '--vault-password-file', join(dir, 'none')]);
    expect(r.rc).toBe(2);
    expect(r.stderr).toContain('cannot read the vault password file');
  });

  it('a password file may be a script printing the passphrase (as Ansible allows)', async () => {
    const dir = scratch();
    const script = join(dir, 'pass.sh');
    writeFileSync(script, "#!/bin/sh\necho 'from a script'\n");
    chmodSync(script, 0o700);
    expect(await passphraseSource({ passwordFile: script })('x')).toBe('from a script');
  });

  it('edit uses $EDITOR on a private temp file, removed afterwards; re-encrypts only when changed', async () => {
    const dir = scratch();
    const file = join(dir, 'vault.yml');
    const original = await encryptVault('a: 1\n', 'edit pass', FAST);
    writeFileSync(file, original);
    // The "editor" records where it was given the file and that directory's mode, then appends a line.
    const editor = join(dir, 'editor.sh');
    writeFileSync(
      editor,
      `#!/bin/sh\necho "$1" > ${dir}/seen\nstat -c %a "$(dirname "$1")" >> ${dir}/seen\nstat -c %a "$1" >> ${dir}/seen\n[ -n "$APPEND" ] && echo "$APPEND" >> "$1"\nexit 0\n`,
    );
    chmodSync(editor, 0o700);
    let r = await ewsplay(['vault', 'edit', file], { EWSPLAY_VAULT_PASSWORD: 'edit pass', EDITOR: editor });
    expect(r.rc, r.stderr).toBe(0);
    expect(r.stderr).toContain('no changes');
    expect(readFileSync(file, 'utf8')).toBe(original);
    const [tmpFile, dirMode, fileMode] = readFileSync(join(dir, 'seen'), 'utf8').trim().split('\n');
    expect(dirMode).toBe('700');
    expect(fileMode).toBe('600');
    expect(() => statSync(tmpFile!)).toThrow();
    expect(() => statSync(resolve(tmpFile!, '..'))).toThrow();

    r = await ewsplay(['vault', 'edit', file], {
      EWSPLAY_VAULT_PASSWORD: 'edit pass',
      EDITOR: editor,
      APPEND: 'b: 2',
    });
    expect(r.rc, r.stderr).toBe(0);
    expect(readFileSync(file, 'utf8')).not.toContain('b: 2');
    expect(await decryptVault(readFileSync(file), 'edit pass', file)).toBe('a: 1\nb: 2\n');

    // create refuses to overwrite; a new file gets what the editor wrote.
    r = await ewsplay(['vault', 'create', file], { EWSPLAY_VAULT_PASSWORD: 'edit pass', EDITOR: editor });
    expect(r.rc).toBe(2);
    expect(r.stderr).toContain('already exists');
    const created = join(dir, 'new.yml');
    r = await ewsplay(['vault', 'create', created], {
      EWSPLAY_VAULT_PASSWORD: 'edit pass',
      EDITOR: editor,
      APPEND: 'c: 3',
    });
    expect(r.rc, r.stderr).toBe(0);
    expect(await decryptVault(readFileSync(created), 'edit pass', created)).toBe('c: 3\n');
  }, 180_000);
});

describe('vault files as variables', () => {
  it('group_vars and host_vars vaults (files and directories) load, and every value is a secret', async () => {
    const dir = scratch();
    execFileSync('mkdir', ['-p', join(dir, 'group_vars/all'), join(dir, 'host_vars')]);
    writeFileSync(join(dir, 'hosts.yml'), 'all:\n  hosts:\n    web1:\n');
    writeFileSync(join(dir, 'group_vars/all/plain.yml'), 'site: north\n');
    writeFileSync(
      join(dir, 'group_vars/all/vault.yml'),
      await encryptVault('ews_password: "Gr0up-Secret"\nnested:\n  key: N3sted-Value\n', 'inv pass', FAST),
    );
    writeFileSync(join(dir, 'host_vars/web1.yml'), await encryptVault('pin: 987654\n', 'inv pass', FAST));
    const secrets = new Secrets();
    const readVarsFile = vaultReader(passphraseSource({ passwordFile: undefined, env: {} }), secrets);
    await expect(loadInventory([join(dir, 'hosts.yml')], { readVarsFile })).rejects.toThrow(
      /a vault passphrase is needed for the vault .*group_vars\/all\/vault\.yml$/,
    );
    const withKey = vaultReader(passphraseSource({ env: { EWSPLAY_VAULT_PASSWORD: 'inv pass' } }), secrets);
    const inv = await loadInventory([join(dir, 'hosts.yml')], { readVarsFile: withKey });
    expect(inv.hostVars('web1')).toMatchObject({
      site: 'north',
      ews_password: 'Gr0up-Secret',
      nested: { key: 'N3sted-Value' },
      pin: 987654,
    });
    expect(secrets.mask('Gr0up-Secret N3sted-Value 987654 north inv pass')).toBe(
      '******** ******** ******** north ********',
    );
  });

  it('ewsplay inventory accepts --vault-password-file and prints vault values masked', async () => {
    const dir = scratch();
    execFileSync('mkdir', ['-p', join(dir, 'group_vars')]);
    writeFileSync(join(dir, 'hosts.yml'), 'all:\n  hosts:\n    web1:\n');
    writeFileSync(join(dir, 'group_vars/all.yml'), await encryptVault('api_token: T0ken-42\n', 'p', FAST));
    writeFileSync(join(dir, 'pw'), 'p\n');
    const r = await ewsplay([
      'inventory',
      '-i',
      join(dir, 'hosts.yml'),
      '--host',
      'web1',
      '--vault-password-file',
      join(dir, 'pw'),
    ]);
    expect(r.rc, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ api_token: '********' });
    const v = await ewsplay(['inventory', '-i', join(dir, 'hosts.yml'), '--list']);
    expect(v.rc).toBe(2);
    expect(v.stderr).toContain('a vault passphrase is needed');
  });

  it('a broken vault is reported without quoting its content', async () => {
    const dir = scratch();
    const file = join(dir, 'bad.yml');
    writeFileSync(file, await encryptVault('ok: 1\nleak: "Unclosed-S3cret\n', 'p', FAST));
    const read = vaultReader(passphraseSource({ env: { EWSPLAY_VAULT_PASSWORD: 'p' } }), new Secrets());
    const err = await read(file).catch((e: Error) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect(String((err as Error).message)).toContain('not valid YAML');
    expect(String((err as Error).message)).not.toContain('Unclosed');
  });
});
