// The rollout workflow end to end through the command line: three sites (one behind a real sshd), a failing
// canary, the fix, --resume, `ewsplay status`, a concurrent run refused by the lock, a killed run's stale
// lock taken over, and a corrupt state file reported.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SshdLab, startSshdLab } from '../../src/lab/sshd.js';

const BIN = resolve(import.meta.dirname, '../../bin/ewsplay.js');

const PLAYBOOK = `- name: Migrate
  hosts: all
  tasks:
    - name: Record greeting
      copy:
        dest: "{{ work_dir }}/greeting.txt"
        content: "{{ greeting }}\\n"
    - name: Check the fault is fixed
      command: cat {{ work_dir }}/fixed
    - name: Finish
      copy:
        dest: "{{ work_dir }}/final.txt"
        content: "done {{ greeting }}\\n"
`;

const SLOW = `- name: Slow
  hosts: all
  tasks:
    - name: Take a while
      command: sleep 4
`;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function ewsplay(cwd: string, ...args: string[]): Promise<Result> {
  return new Promise((done) => {
    execFile('node', [BIN, ...args], { cwd, timeout: 60_000 }, (e, stdout, stderr) =>
      done({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout, stderr }),
    );
  });
}

function started(cwd: string, ...args: string[]): ChildProcess {
  return spawn('node', [BIN, ...args], { cwd, stdio: 'ignore' });
}

async function until(cond: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('rollout through the CLI', () => {
  let lab: SshdLab;
  let dir: string;
  const work = (site: string) => join(dir, 'work', site);

  beforeAll(async () => {
    lab = await startSshdLab(1, { names: ['mail'] });
    dir = mkdtempSync(join(tmpdir(), 'ewsplay-rollout-cli-'));
    const write = (rel: string, text: string) => {
      mkdirSync(join(dir, rel, '..'), { recursive: true });
      writeFileSync(join(dir, rel), text);
    };
    // berlin is the sshd host (its work directory is the lab host's); lyon and paris are local hosts.
    write('inventory/sites/berlin/hosts.yml', readFileSync(lab.inventoryFile, 'utf8'));
    write(
      'inventory/sites/berlin/group_vars/all.yml',
      `greeting: hallo\nwork_dir: ${lab.hosts[0]!.workDir}\n`,
    );
    for (const [site, greeting] of [
      ['lyon', 'bonjour'],
      ['paris', 'salut'],
    ] as const) {
      mkdirSync(work(site), { recursive: true });
      write(
        `inventory/sites/${site}/hosts.yml`,
        'all:\n  hosts:\n    mail:\n      ansible_connection: local\n',
      );
      write(`inventory/sites/${site}/group_vars/all.yml`, `greeting: ${greeting}\nwork_dir: ${work(site)}\n`);
    }
    writeFileSync(join(lab.hosts[0]!.workDir, 'fixed'), 'ok\n');
    writeFileSync(join(work('paris'), 'fixed'), 'ok\n');
    write('playbooks/migrate.yml', PLAYBOOK);
    write('playbooks/slow.yml', SLOW);
  });

  afterAll(async () => {
    await lab?.stop();
  });

  it('canary fails and stops the rollout; status shows it; --resume finishes every site after the fix', async () => {
    const valid = await ewsplay(dir, 'validate', 'playbooks/migrate.yml', '-i', 'inventory/sites');
    expect(valid.stdout).toBe('playbooks/migrate.yml: ok (1 play(s), 3 task(s), 3 site(s))\n');
    const first = await ewsplay(
      dir,
      'run',
      'playbooks/migrate.yml',
      '-i',
      'inventory/sites',
      '--canary',
      'lyon',
    );
    expect(first.code).toBe(3);
    expect(first.stdout).toMatch(/^\[lyon\] fatal: \[mail\]: FAILED!/m);
    expect(first.stdout).toMatch(/^berlin +not run +0 +0 +canary lyon did not succeed$/m);
    expect(existsSync(join(lab.hosts[0]!.workDir, 'greeting.txt'))).toBe(false);

    const status = await ewsplay(dir, 'status', '-i', 'inventory/sites');
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^STEP +berlin +lyon +paris$/m);
    expect(status.stdout).toMatch(/^ {2}Record greeting +not run +done \d\d-\d\d \d\d:\d\d +not run$/m);
    expect(status.stdout).toMatch(
      /^ {2}Check the fault is fixed +not run +failed \d\d-\d\d \d\d:\d\d +not run$/m,
    );
    expect(status.stdout).toMatch(/^ {2}Finish +not run +not run +not run$/m);

    const unknown = await ewsplay(
      dir,
      'run',
      'playbooks/migrate.yml',
      '-i',
      'inventory/sites',
      '--sites',
      'lyn',
    );
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("hint: did you mean 'lyon'?");

    writeFileSync(join(work('lyon'), 'fixed'), 'ok\n');
    const second = await ewsplay(dir, 'run', 'playbooks/migrate.yml', '-i', 'inventory/sites', '--resume');
    expect(second.code).toBe(0);
    expect(second.stdout).toContain("[lyon] --resume: resuming at 'Migrate > Check the fault is fixed'");
    expect(second.stdout).not.toMatch(/^\[lyon\] TASK \[Record greeting\]/m);
    expect(readFileSync(join(lab.hosts[0]!.workDir, 'final.txt'), 'utf8')).toBe('done hallo\n');
    expect(readFileSync(join(work('lyon'), 'final.txt'), 'utf8')).toBe('done bonjour\n');
    expect(readFileSync(join(work('paris'), 'final.txt'), 'utf8')).toBe('done salut\n');

    const json = JSON.parse((await ewsplay(dir, 'status', '--json')).stdout) as {
      sites: { site: string; state: { steps: Record<string, { status: string }> } }[];
    };
    expect(json.sites.map((s) => s.site)).toEqual(['berlin', 'lyon', 'paris']);
    for (const s of json.sites)
      expect(Object.values(s.state.steps).map((x) => x.status)).toEqual(['done', 'done', 'done']);
  });

  it('a second run of a site is refused while the first holds its lock (exit 5), and allowed after', async () => {
    const lock = join(dir, '.ewsplay/locks/paris.lock');
    const slow = started(dir, 'run', 'playbooks/slow.yml', '-i', 'inventory/sites', '--sites', 'paris');
    const exited = new Promise<number | null>((r) => slow.on('exit', (code) => r(code)));
    await until(() => existsSync(lock));
    const second = await ewsplay(dir, 'run', 'playbooks/slow.yml', '-i', 'inventory/sites/paris');
    expect(second.code).toBe(5);
    expect(second.stderr).toMatch(
      new RegExp(
        `error: site 'paris' is locked by another run: .+@.+ \\(pid ${slow.pid}\\) since \\d{4}-\\d\\d-\\d\\dT.+: ewsplay run playbooks/slow.yml -i inventory/sites --sites paris`,
      ),
    );
    // Other sites are free meanwhile.
    expect(
      (await ewsplay(dir, 'run', 'playbooks/migrate.yml', '-i', 'inventory/sites', '--sites', 'lyon')).code,
    ).toBe(0);
    expect(await exited).toBe(0);
    expect(existsSync(lock)).toBe(false);
  });

  it('the lock of a killed run is taken over with a warning', async () => {
    const lock = join(dir, '.ewsplay/locks/paris.lock');
    const slow = started(dir, 'run', 'playbooks/slow.yml', '-i', 'inventory/sites', '--sites', 'paris');
    await until(() => existsSync(lock));
    const exited = new Promise((r) => slow.on('exit', r));
    slow.kill('SIGKILL');
    await exited;
    expect(existsSync(lock)).toBe(true);
    const next = await ewsplay(
      dir,
      'run',
      'playbooks/migrate.yml',
      '-i',
      'inventory/sites',
      '--sites',
      'paris',
    );
    expect(next.code).toBe(0);
    expect(next.stderr).toContain(`[WARNING]: site 'paris': took over the stale lock of a run that is gone:`);
    expect(next.stderr).toContain(`(pid ${slow.pid})`);
    expect(existsSync(lock)).toBe(false);
  });

  it('a corrupt state file stops the run with the file, what is wrong and how to fix it', async () => {
    const file = join(dir, '.ewsplay/state/lyon.json');
    writeFileSync(file, '{"version": 1, "steps": {');
    const r = await ewsplay(dir, 'run', 'playbooks/migrate.yml', '-i', 'inventory/sites');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:1:`);
    expect(r.stderr).toContain('state file is not valid JSON');
    expect(r.stderr).toContain(`hint: the file is damaged: move it aside (mv ${file} ${file}.broken)`);
    expect(readFileSync(file, 'utf8')).toBe('{"version": 1, "steps": {');
    expect((await ewsplay(dir, 'status')).code).toBe(2);
  });
});
