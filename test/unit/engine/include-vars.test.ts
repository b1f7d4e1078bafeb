// include_vars through the engine: the loaded variables reach later tasks, and a vault file read through the
// run's vars loader stays masked in every result.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MASK, Secrets } from '../../../src/core/secrets.js';
import { loadYamlVars, runPlaybook } from '../../../src/engine/run.js';
import { loadInventory } from '../../../src/inventory/inventory.js';
import { loadPlaybook } from '../../../src/load/playbook.js';
import { createTemplar } from '../../../src/template/templar.js';
import { encryptVault } from '../../../src/vault/age.js';
import { vaultReader } from '../../../src/vault/vars.js';
import { Collector, Scratch } from './harness.js';

describe('include_vars in a play', () => {
  it('later tasks see the variables; a vault file is decrypted and its values masked', async () => {
    const s = new Scratch(['alpha']);
    s.write('playbooks/vars/plain.yml', 'greeting: hello\n');
    s.write('playbooks/vars/vault.yml', await encryptVault('api_token: tok-9f8e7d6c\n', 'the pass', 10));
    const file = s.write(
      'playbooks/site.yml',
      `- hosts: all
  gather_facts: false
  tasks:
    - include_vars: plain.yml
    - name: loaded
      include_vars: { file: vault.yml, name: creds }
      register: loaded
    - name: show
      debug: { msg: "{{ greeting }} {{ creds.api_token }}" }
`,
    );
    const secrets = new Secrets();
    const read = vaultReader(async () => 'the pass', secrets);
    const events = new Collector();
    const report = await runPlaybook({
      playbook: await loadPlaybook(file),
      inventory: await loadInventory([join(s.dir, 'hosts.yml')]),
      inventorySources: [],
      options: {
        check: false,
        diff: false,
        forks: 5,
        tags: { only: [], skip: [] },
        extraVars: {},
        forceHandlers: false,
        interactive: false,
        taskTimeoutSec: 30,
        connectTimeoutMs: 5000,
        acceptNewHostKeys: false,
        stateDir: join(s.dir, 'state'),
      },
      templar: createTemplar({ secrets }),
      secrets,
      listener: events,
      version: 'test',
      abort: new AbortController(),
      loadVarsFile: (f) => loadYamlVars(f, read),
    });
    expect(report.stats.alpha).toMatchObject({ failed: 0, changed: 0 });
    expect(events.resultOf('show', 'alpha')?.msg).toBe(`hello ${MASK}`);
    expect(JSON.stringify(events.events)).not.toContain('tok-9f8e7d6c');
    expect(JSON.stringify(report)).not.toContain('tok-9f8e7d6c');
  });
});
