// ewsplay inventory prints what ansible-inventory prints. The golden files were written by the real
// ansible-inventory (test/fixtures/inventory/make-golden.sh); when it is installed we also ask it again.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inventoryGraph, inventoryHost, inventoryList } from '../../../src/inventory/ansible-inventory.js';
import { loadInventory } from '../../../src/inventory/inventory.js';

const fixtures = join(import.meta.dirname, '../../fixtures/inventory');
const golden = (name: string) => readFileSync(join(fixtures, 'golden', name), 'utf8');
const cases: Record<string, string> = {
  basic: 'basic/hosts.yml',
  'vars-dir': 'vars-dir',
  precedence: 'precedence/hosts.yml',
  shapes: 'shapes/hosts.yml',
  ini: 'ini/hosts',
};
const hostsWithGolden = (name: string) =>
  readdirSync(join(fixtures, 'golden'))
    .filter((f) => f.startsWith(`${name}.host.`))
    .map((f) => f.slice(`${name}.host.`.length, -'.json'.length));

const json = (value: unknown) => `${JSON.stringify(value, null, 4)}\n`;
const ansibleInventory = spawnSync('ansible-inventory', ['--version'], { encoding: 'utf8' });
const haveAnsible = ansibleInventory.status === 0;

describe.each(Object.entries(cases))('ansible-inventory compatibility: %s', (name, source) => {
  it('--list matches', async () => {
    const inv = await loadInventory([join(fixtures, source)]);
    expect(json(inventoryList(inv))).toBe(golden(`${name}.list.json`));
  });

  it('--graph matches', async () => {
    const inv = await loadInventory([join(fixtures, source)]);
    expect(`${inventoryGraph(inv)}\n`).toBe(golden(`${name}.graph.txt`));
  });

  it('--host matches for every host with a golden file', async () => {
    const inv = await loadInventory([join(fixtures, source)]);
    const hosts = hostsWithGolden(name);
    expect(hosts.length).toBeGreaterThan(1);
    for (const host of hosts)
      expect(json(inventoryHost(inv, host)), host).toBe(golden(`${name}.host.${host}.json`));
  });

  it.skipIf(!haveAnsible)(
    `the golden files are what ansible-inventory prints today${haveAnsible ? '' : ' (skipped: ansible-inventory is not installed; apt-get install ansible-core)'}`,
    () => {
      const run = (...args: string[]) => {
        const r = spawnSync('ansible-inventory', ['-i', source, ...args], {
          cwd: fixtures,
          encoding: 'utf8',
          env: { ...process.env, ANSIBLE_NOCOLOR: '1' },
        });
        expect(r.status, r.stderr).toBe(0);
        return r.stdout;
      };
      expect(run('--list')).toBe(golden(`${name}.list.json`));
      expect(run('--graph')).toBe(golden(`${name}.graph.txt`));
      for (const host of hostsWithGolden(name))
        expect(run('--host', host)).toBe(golden(`${name}.host.${host}.json`));
    },
  );
});
