// group_vars/ and host_vars/ beside the playbook (issue 15, item 3), in Ansible's documented order
// (docs.ansible.com, "Understanding variable precedence", lowest first):
//   inventory file group vars < inventory group_vars/all < playbook group_vars/all
//   < inventory group_vars/* < playbook group_vars/* < inventory file host vars
//   < inventory host_vars/* < playbook host_vars/*
// checked here by itself, then side by side with ansible-playbook when it is installed.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProject } from '../../../src/cli/project.js';
import { Secrets } from '../../../src/core/secrets.js';
import { loadInventory } from '../../../src/inventory/inventory.js';
import { encryptVault } from '../../../src/vault/age.js';

const haveAnsible = spawnSync('ansible-playbook', ['--version'], { timeout: 60_000 }).status === 0;
const NAMES = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];

/**
 * A project whose variable a..h are each set at two neighbouring levels (see the expectations below), the
 * inventory in inventory/, the playbook in playbooks/ with group_vars/ and host_vars/ of its own.
 */
function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ewsplay-pbvars-'));
  const files: Record<string, string> = {
    'inventory/hosts.yml': [
      'all:',
      '  vars: { a: inv_inline_all }',
      '  children:',
      '    web:',
      '      vars: { b: inv_inline_web }',
      '      hosts:',
      '        h1: { ansible_connection: local, e: inv_inline_host, d: inv_inline_host }',
      '        h2: { ansible_connection: local }',
    ].join('\n'),
    'inventory/group_vars/all.yml': 'a: inv_gv_all\nb: inv_gv_all\ng: inv_gv_all\n',
    'inventory/group_vars/web.yml': 'b: inv_gv_web\nc: inv_gv_web\n',
    'inventory/host_vars/h1.yml': 'e: inv_hv\nf: inv_hv\n',
    'playbooks/group_vars/all.yml': 'a: pb_gv_all\nb: pb_gv_all\ng: pb_gv_all\n',
    'playbooks/group_vars/web/main.yml': 'c: pb_gv_web\nd: pb_gv_web\n',
    'playbooks/host_vars/h1.yml': 'f: pb_hv\nh: pb_hv\n',
    'playbooks/host_vars/nohost.yml': 'f: never\n',
    'playbooks/site.yml': [
      '- hosts: all',
      '  gather_facts: false',
      '  tasks:',
      '    - copy:',
      `        content: "${NAMES.map((n) => `{{ ${n} | default('-') }}`).join(' ')}"`,
      '        dest: "{{ out }}/{{ inventory_hostname }}.txt"',
    ].join('\n'),
  };
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), `${text}\n`);
  }
  return dir;
}

/** What Ansible's order gives h1 and h2. */
const EXPECTED = {
  // a: playbook group_vars/all over the inventory's; b: any group's group_vars over all's (either side);
  // c: playbook group_vars/web over the inventory's; d: inline host vars over group_vars; e: inventory
  // host_vars over inline host vars; f: playbook host_vars over the inventory's; g, h: only beside the
  // playbook.
  h1: 'pb_gv_all inv_gv_web pb_gv_web inv_inline_host inv_hv pb_hv pb_gv_all pb_hv',
  h2: 'pb_gv_all inv_gv_web pb_gv_web pb_gv_web - - pb_gv_all -',
};

const line = (vars: Record<string, unknown>) => NAMES.map((n) => String(vars[n] ?? '-')).join(' ');

describe('group_vars/ and host_vars/ beside the playbook', () => {
  it("count above the inventory's, in Ansible's order", async () => {
    const dir = project();
    const inventory = await loadInventory([join(dir, 'inventory/hosts.yml')], {
      playbookDir: join(dir, 'playbooks'),
    });
    expect(line(inventory.hostVars('h1'))).toBe(EXPECTED.h1);
    expect(line(inventory.hostVars('h2'))).toBe(EXPECTED.h2);
    expect(inventory.varSource('h1', 'f')?.file).toBe(join(dir, 'playbooks/host_vars/h1.yml'));
    // ansible-inventory (and `ewsplay inventory`) read none beside a playbook.
    const alone = await loadInventory([join(dir, 'inventory/hosts.yml')]);
    expect(line(alone.hostVars('h1'))).toBe(
      'inv_gv_all inv_gv_web inv_gv_web inv_inline_host inv_hv inv_hv inv_gv_all -',
    );
  });

  it('a run reads them (loadProject), and a vault there opens as in the inventory', async () => {
    const dir = project();
    const pass = 'pb vars pass';
    writeFileSync(join(dir, 'pw'), `${pass}\n`);
    mkdirSync(join(dir, 'playbooks/group_vars/web'), { recursive: true });
    writeFileSync(
      join(dir, 'playbooks/group_vars/web/vault.yml'),
      await encryptVault('h_secret: s3cret-7\n', pass, 10),
    );
    const secrets = new Secrets();
    const project_ = await loadProject(
      join(dir, 'playbooks/site.yml'),
      [join(dir, 'inventory')],
      secrets,
      () => {},
      {
        vaultPasswordFile: join(dir, 'pw'),
      },
    );
    const vars = project_.inventory.hostVars('h1');
    expect(line(vars)).toBe(EXPECTED.h1);
    expect(vars.h_secret).toBe('s3cret-7');
    // A vault value is a secret, masked in output like the inventory's.
    expect(secrets.mask('s3cret-7')).not.toContain('s3cret-7');
  });

  it("the playbook beside an inventory: its files still win over the other inventories'", async () => {
    const dir = project();
    writeFileSync(join(dir, 'other.yml'), 'web:\n  hosts:\n    h1:\n');
    mkdirSync(join(dir, 'group_vars'), { recursive: true });
    writeFileSync(join(dir, 'group_vars/all.yml'), 'a: other_gv_all\n');
    mkdirSync(join(dir, 'x/group_vars'), { recursive: true });
    writeFileSync(join(dir, 'x/hosts.yml'), 'all:\n  hosts:\n    h1:\n');
    writeFileSync(join(dir, 'x/group_vars/all.yml'), 'a: x_gv_all\n');
    // -i . (beside the playbook) then -i x/: x's group_vars/all wins among the inventories, the playbook's
    // (the same directory as the first inventory) over both.
    const inventory = await loadInventory([join(dir, 'other.yml'), join(dir, 'x/hosts.yml')], {
      playbookDir: dir,
    });
    expect(inventory.hostVars('h1').a).toBe('other_gv_all');
  });

  it.skipIf(!haveAnsible)(
    `ansible-playbook gives the same values${haveAnsible ? '' : ' (skipped: ansible-playbook is not installed; apt-get install ansible-core)'}`,
    async () => {
      const dir = project();
      const out = join(dir, 'out');
      mkdirSync(out);
      const r = spawnSync(
        'ansible-playbook',
        ['playbooks/site.yml', '-i', 'inventory/hosts.yml', '-e', `out=${out}`],
        {
          cwd: dir,
          encoding: 'utf8',
          timeout: 240_000,
          env: { ...process.env, ANSIBLE_NOCOLOR: '1', ANSIBLE_CONFIG: join(dir, 'none.cfg') },
        },
      );
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(readFileSync(join(out, 'h1.txt'), 'utf8')).toBe(EXPECTED.h1);
      expect(readFileSync(join(out, 'h2.txt'), 'utf8')).toBe(EXPECTED.h2);
    },
    300_000,
  );
});
