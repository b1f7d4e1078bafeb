// ansible-playbook's flags that ewsplay takes (issue 15): usage errors on one line with the fix, --limit's
// suggestions, --vault-id, --step's answers, -c and --ssh-*-args below the inventory, inventory -y.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { yamlInventory } from '../../../src/cli/inventory-command.js';
import { oneLineError } from '../../../src/cli/main.js';
import { limitProblem } from '../../../src/cli/preflight.js';
import { stepAnswer, stepPrompter } from '../../../src/cli/step.js';
import { parseVaultId, vaultIdOf } from '../../../src/cli/vault-flags.js';
import { UsageError } from '../../../src/core/problems.js';
import { connectionSpec, sshArgsNotes } from '../../../src/inventory/connection-spec.js';
import { loadInventory } from '../../../src/inventory/inventory.js';
import { niceYaml } from '../../../src/template/nice-yaml.js';

const dir = mkdtempSync(join(tmpdir(), 'ewsplay-flags-'));
const INVENTORY = join(dir, 'hosts.yml');
writeFileSync(
  INVENTORY,
  `all:
  vars:
    top: 1
  children:
    web:
      vars:
        port: 80
      hosts:
        web1:
          x: hello
        web2:
    db:
      hosts:
        db1:
          m: {a: 1}
        web1:
`,
);
const haveAnsibleInventory = spawnSync('ansible-inventory', ['--version'], { timeout: 30_000 }).status === 0;

describe('usage errors from the command line parser', () => {
  it('are one line, with the suggestion or where to look', () => {
    expect(oneLineError("error: unknown option '--chek'\n(Did you mean --check?)\n")).toBe(
      "error: unknown option '--chek' (did you mean --check?)\n",
    );
    expect(oneLineError("error: unknown option '--zzz'\n")).toBe(
      "error: unknown option '--zzz' (see 'ewsplay help' or 'ewsplay COMMAND --help')\n",
    );
    expect(oneLineError("error: missing required argument 'playbook'\n")).toBe(
      "error: missing required argument 'playbook'\n",
    );
  });
});

describe('--limit that matches no host', () => {
  it('names the pattern and the closest host or group for each name that matches nothing', async () => {
    const inv = await loadInventory([INVENTORY]);
    const e = limitProblem('webz', inv);
    expect(e).toBeInstanceOf(UsageError);
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe(
      "--limit 'webz' matches no host of the inventory: the run would have no hosts to target",
    );
    expect(e.hint).toContain("'webz' is no host or group: did you mean 'web'?");
    expect(e.hint).toContain('hosts: web1, web2, db1');
    expect(limitProblem('web:&dbz', inv).hint).toContain("did you mean 'db'?");
    expect(limitProblem('~^nothing', inv).hint).not.toContain('did you mean');
  });
});

describe('--vault-id and --ask-vault-pass', () => {
  it('reads label@source, a bare source, and refuses a second passphrase source', () => {
    expect(parseVaultId('prod@prompt')).toEqual({ label: 'prod', source: 'prompt' });
    expect(parseVaultId('./pass.sh')).toEqual({ label: 'default', source: './pass.sh' });
    expect(() => parseVaultId('prod@')).toThrow(/expected label@source/);
    expect(vaultIdOf({ vaultId: ['dev@file.txt'] })).toEqual({ label: 'dev', source: 'file.txt' });
    expect(() => vaultIdOf({ vaultPasswordFile: 'a', askVaultPass: true })).toThrow(/one passphrase/);
    expect(() => vaultIdOf({ vaultId: ['a@x', 'b@y'] })).toThrow(UsageError);
  });
});

describe('--step', () => {
  it("takes Ansible's answers: y, c, anything else is no", () => {
    expect(['y', 'YES', 'c', 'continue', '', 'n', 'x'].map(stepAnswer)).toEqual([
      'yes',
      'yes',
      'continue',
      'continue',
      'no',
      'no',
      'no',
    ]);
  });

  it('reads several answers from one chunk of a pipe, and no at the end of input', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let shown = '';
    output.on('data', (c: Buffer) => {
      shown += c.toString();
    });
    const p = stepPrompter(input, output);
    input.end('y\nn\n');
    expect(await p.ask('first')).toBe('yes');
    expect(await p.ask('second')).toBe('no');
    expect(await p.ask('third')).toBe('no');
    p.close();
    expect(shown).toContain('Perform task: TASK: first (N)o/(y)es/(c)ontinue: ');
    expect(shown).toContain('(end of input: no)');
  });
});

describe('-c, --ssh-common-args, --ssh-extra-args', () => {
  const defaults = {
    connectTimeoutMs: 1000,
    connectionType: 'local',
    sshCommonArgs: '-J admin@bastion:2222 -o ControlMaster=auto',
  };
  it('apply where the inventory says nothing, and the inventory wins', () => {
    const spec = connectionSpec('h', {}, defaults);
    expect(spec.connection).toBe('local');
    expect(spec.jump).toEqual([expect.objectContaining({ address: 'bastion', port: 2222, user: 'admin' })]);
    const own = connectionSpec(
      'h',
      { ansible_connection: 'ssh', ansible_ssh_common_args: '-o ProxyJump=other' },
      defaults,
    );
    expect(own.connection).toBe('ssh');
    expect(own.jump).toEqual([expect.objectContaining({ address: 'other' })]);
  });

  it('are checked once: a bad ProxyJump is a usage error, what is ignored is told', () => {
    expect(sshArgsNotes('--ssh-common-args', '-J admin@bastion -o ControlMaster=auto')).toEqual([
      expect.stringMatching(/^--ssh-common-args: -o ControlMaster=auto ignored/),
    ]);
    expect(() => sshArgsNotes('--ssh-extra-args', '-J a@b@c')).toThrow(UsageError);
  });
});

describe('inventory -y', () => {
  it('nests groups under all, a host with its variables where it first appears', async () => {
    const inv = await loadInventory([INVENTORY]);
    const tree = yamlInventory(inv) as {
      all: { children: Record<string, { hosts?: Record<string, unknown> }> };
    };
    expect(tree.all.children.web!.hosts!.web1).toEqual({ port: 80, top: 1, x: 'hello' });
    expect(tree.all.children.db!.hosts!.web1).toEqual({});
  });

  it.skipIf(!haveAnsibleInventory)('is what ansible-inventory --list -y prints', async () => {
    const inv = await loadInventory([INVENTORY]);
    const ours = niceYaml(yamlInventory(inv), 2);
    const theirs = spawnSync('ansible-inventory', ['-i', INVENTORY, '--list', '-y'], { encoding: 'utf8' });
    expect(theirs.status, theirs.stderr).toBe(0);
    // PyYAML writes anchors (&id001) for values it meets twice; the data read back is what compares.
    expect(parse(ours)).toEqual(parse(theirs.stdout));
    expect(ours.replace(/ &id\d+/g, '')).toBe(theirs.stdout.replace(/ &id\d+/g, ''));
  });
});
