// A scratch project with a sites directory of local-connection sites (each host confined to its own
// directory), and an in-process rollout that captures the output.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProject } from '../../../src/cli/project.js';
import { ExitCode, UsageError, UserError } from '../../../src/core/problems.js';
import { Secrets } from '../../../src/core/secrets.js';
import type { RunOptions } from '../../../src/engine/context.js';
import { PlainOutput } from '../../../src/output/plain.js';
import { type RolloutInput, type RolloutResult, runRollout } from '../../../src/rollout/rollout.js';
import { inventoryLayout, selectSites } from '../../../src/rollout/sites.js';

/** Three steps; the second fails until the file `fixed` exists on the host. */
export const PLAYBOOK = `- name: Migrate
  hosts: all
  tasks:
    - name: Record greeting
      copy:
        dest: greeting.txt
        content: "{{ greeting }}\\n"
    - name: Check the fault is fixed
      command: cat fixed
    - name: Finish
      copy:
        dest: final.txt
        content: "done {{ greeting }}\\n"
`;

export class Capture {
  text = '';
  readonly stream = {
    isTTY: false,
    write: (s: string | Uint8Array) => {
      this.text += typeof s === 'string' ? s : Buffer.from(s).toString();
      return true;
    },
  } as unknown as NodeJS.WriteStream;
}

export class SitesProject {
  readonly dir = mkdtempSync(join(tmpdir(), 'ewsplay-rollout-'));
  readonly sitesDir = join(this.dir, 'inventory', 'sites');

  constructor(sites: Record<string, Record<string, string>>, playbook = PLAYBOOK) {
    for (const [name, vars] of Object.entries(sites)) this.addSite(name, vars);
    this.write('playbooks/migrate.yml', playbook);
  }

  /** Every site has a host named `mail`: the same name in each site, to show sites do not mix. */
  addSite(name: string, vars: Record<string, string>): void {
    const root = this.hostDir(name);
    mkdirSync(root, { recursive: true });
    this.write(
      `inventory/sites/${name}/hosts.yml`,
      `all:\n  hosts:\n    mail:\n      ansible_connection: local\n      ewsplay_local_root: ${root}\n`,
    );
    this.write(
      `inventory/sites/${name}/group_vars/all.yml`,
      Object.entries(vars)
        .map(([k, v]) => `${k}: ${JSON.stringify(v)}\n`)
        .join(''),
    );
  }

  hostDir(site: string): string {
    return join(this.dir, 'hosts', site);
  }

  hostFile(site: string, file: string): string | undefined {
    const path = join(this.hostDir(site), file);
    return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  }

  fix(site: string): void {
    writeFileSync(join(this.hostDir(site), 'fixed'), 'ok\n');
  }

  write(rel: string, text: string): string {
    const file = join(this.dir, rel);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, text);
    return file;
  }

  read(rel: string): string {
    return readFileSync(join(this.dir, rel), 'utf8');
  }

  async rollout(
    flags: Partial<Pick<RolloutInput, 'serial' | 'canary' | 'maxFailSites' | 'resume' | 'progress'>> & {
      sites?: string[];
      options?: Partial<RunOptions>;
      abort?: AbortController;
      inventory?: string;
    } = {},
  ): Promise<RolloutResult & { out: string; warnings: string[]; errors: string[] }> {
    const capture = new Capture();
    const warnings: string[] = [];
    const errors: string[] = [];
    const secrets = new Secrets();
    const layout = await inventoryLayout([flags.inventory ?? this.sitesDir]);
    const result = await runRollout({
      root: layout.project,
      sites: selectSites(layout, flags.sites ?? []),
      multi: layout.kind === 'sites',
      serial: flags.serial ?? 1,
      ...(flags.canary ? { canary: flags.canary } : {}),
      ...(flags.maxFailSites ? { maxFailSites: flags.maxFailSites } : {}),
      ...(flags.progress ? { progress: flags.progress } : {}),
      resume: !!flags.resume,
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
        stateDir: join(this.dir, '.ewsplay', 'state'),
        ...flags.options,
      },
      secrets,
      version: 'test',
      command: 'ewsplay run (test)',
      abort: flags.abort ?? new AbortController(),
      load: (site) =>
        loadProject(join(this.dir, 'playbooks/migrate.yml'), site.sources, secrets, (m) => warnings.push(m)),
      listener: (_site, out) => new PlainOutput({ stream: out, color: false, diff: false, verbose: 0 }),
      out: capture.stream,
      warn: (m) => warnings.push(m),
      reportError: (e) => {
        errors.push(e instanceof Error ? e.message : String(e));
        return e instanceof UserError || e instanceof UsageError ? e.exitCode : ExitCode.internal;
      },
    });
    return { ...result, out: capture.text, warnings, errors };
  }
}
