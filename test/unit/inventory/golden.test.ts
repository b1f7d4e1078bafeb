// ewsplay inventory prints what ansible-inventory prints. The golden files were written by the real
// ansible-inventory (test/fixtures/inventory/make-golden.sh); where it is installed (the test set-up installs
// Debian's ansible-core) its live --list, --graph and --host output is compared with ewsplay's, both the
// library's and the command line's, and with the golden files.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inventoryGraph, inventoryHost, inventoryList } from '../../../src/inventory/ansible-inventory.js';
import { loadInventory } from '../../../src/inventory/inventory.js';
import { pythonJson } from '../../../src/inventory/python-json.js';

const BIN = resolve(import.meta.dirname, '../../../bin/ewsplay.js');

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

const json = (value: unknown) => `${pythonJson(value)}\n`;
const ansibleInventory = spawnSync('ansible-inventory', ['--version'], { encoding: 'utf8', timeout: 30_000 });
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
    `ewsplay and the golden files print what ansible-inventory prints today${haveAnsible ? '' : ' (skipped: ansible-inventory is not installed; apt-get install ansible-core)'}`,
    { timeout: 120_000 },
    async () => {
      const run = (command: string[], ...args: string[]) => {
        const r = spawnSync(command[0]!, [...command.slice(1), '-i', source, ...args], {
          cwd: fixtures,
          encoding: 'utf8',
          timeout: 30_000,
          env: { ...process.env, ANSIBLE_NOCOLOR: '1' },
        });
        expect(r.status, r.stderr).toBe(0);
        return r.stdout;
      };
      const ansible = (...args: string[]) => run(['ansible-inventory'], ...args);
      const ewsplay = (...args: string[]) => run([process.execPath, BIN, 'inventory'], ...args);
      const inv = await loadInventory([join(fixtures, source)]);

      const list = ansible('--list');
      expect(list).toBe(golden(`${name}.list.json`));
      expect(json(inventoryList(inv))).toBe(list);
      expect(ewsplay('--list')).toBe(list);
      const graph = ansible('--graph');
      expect(graph).toBe(golden(`${name}.graph.txt`));
      expect(`${inventoryGraph(inv)}\n`).toBe(graph);
      expect(ewsplay('--graph')).toBe(graph);
      // Every host of the inventory, not only those with a golden file.
      for (const host of inv.hosts()) {
        const vars = ansible('--host', host);
        expect(json(inventoryHost(inv, host)), host).toBe(vars);
        if (hostsWithGolden(name).includes(host)) expect(vars).toBe(golden(`${name}.host.${host}.json`));
      }
      expect(ewsplay('--host', inv.hosts()[0]!)).toBe(ansible('--host', inv.hosts()[0]!));
    },
  );
});
