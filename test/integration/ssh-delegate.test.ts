// delegate_to over SSH on real sshd hosts: every host writes through the first host's connection, with its
// own variables; check mode changes nothing, the second run changes nothing, the output names the delegate.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SshdLab, startSshdLab } from '../../src/lab/sshd.js';
import { snapshotTree } from '../unit/modules/context.js';
import { runOnLab } from './cli.js';

let lab: SshdLab;
let dir: string;

beforeAll(async () => {
  lab = await startSshdLab(3);
  dir = await mkdtemp(join(tmpdir(), 'ewsplay-delegate-'));
  const first = lab.hosts[0]!.name;
  await writeFile(
    join(dir, 'delegate.yml'),
    `- hosts: all
  tasks:
    - name: report to the first host
      copy:
        content: "{{ inventory_hostname }} reports\\n"
        dest: "{{ hostvars['${first}'].lab_dir }}/from-{{ inventory_hostname }}.txt"
      delegate_to: ${first}
`,
  );
});

afterAll(async () => {
  await lab?.stop();
});

describe('delegate_to over SSH', () => {
  it("writes through the delegate's connection; check and second runs change nothing", async () => {
    const run = (...extra: string[]) => runOnLab(dir, lab, 'delegate.yml', '-o', 'plain', ...extra);
    const [first, ...others] = lab.hosts;
    const before = await Promise.all(lab.hosts.map((h) => snapshotTree(h.workDir)));

    const check = await run('--check');
    expect(check.rc, check.stdout + check.stderr).toBe(0);
    expect(await Promise.all(lab.hosts.map((h) => snapshotTree(h.workDir)))).toEqual(before);

    const real = await run();
    expect(real.rc, real.stdout + real.stderr).toBe(0);
    for (const h of lab.hosts)
      expect(await readFile(join(first!.workDir, `from-${h.name}.txt`), 'utf8')).toBe(`${h.name} reports\n`);
    for (const h of others) expect(real.stdout).toContain(`changed: [${h.name} -> ${first!.name}]`);
    // The first host delegates to itself: an ordinary task, shown without an arrow.
    expect(real.stdout).toContain(`changed: [${first!.name}]`);

    const again = await run();
    expect(again.rc, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toMatch(/changed=0/);
    expect(again.stdout).not.toMatch(/changed=[1-9]/);
  });
});
