// Runs playbooks in-process against a temp inventory of local-connection hosts, collecting every event.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Secrets } from '../../../src/core/secrets.js';
import type { RunOptions } from '../../../src/engine/context.js';
import type { RunListener } from '../../../src/engine/events.js';
import type { HostTaskResult, RunReport, TaskInfo } from '../../../src/engine/results.js';
import { runPlaybook } from '../../../src/engine/run.js';
import { loadInventory } from '../../../src/inventory/inventory.js';
import { loadPlaybook } from '../../../src/load/playbook.js';
import { createTemplar } from '../../../src/template/templar.js';

export interface Event {
  task: string;
  host: string;
  result: HostTaskResult;
}

export class Collector implements RunListener {
  events: Event[] = [];
  warnings: string[] = [];
  plays: string[] = [];
  answers: boolean[] = [];
  questions: string[] = [];
  playStart(name: string): void {
    this.plays.push(name);
  }
  taskStart(): void {}
  hostResult(task: TaskInfo, host: string, result: HostTaskResult): void {
    this.events.push({ task: task.name, host, result });
  }
  async taskEnd(): Promise<void> {}
  warn(m: string): void {
    this.warnings.push(m);
  }
  async confirm(_t: TaskInfo, _h: string, q: string): Promise<boolean> {
    this.questions.push(q);
    return this.answers.shift() ?? false;
  }
  runEnd(): void {}
  statusOf(task: string, host: string): string | undefined {
    return this.events.find((e) => e.task === task && e.host === host)?.result.status;
  }
  resultOf(task: string, host: string): HostTaskResult | undefined {
    return this.events.find((e) => e.task === task && e.host === host)?.result;
  }
}

/** A scratch project: an inventory of local hosts (each confined to its own directory) and playbooks. */
export class Scratch {
  readonly dir = mkdtempSync(join(tmpdir(), 'ewsplay-engine-'));
  constructor(hosts: string[] = ['alpha', 'beta'], extraInventory = '') {
    const lines = ['all:', '  hosts:'];
    for (const h of hosts) {
      const root = join(this.dir, 'hosts', h);
      mkdirSync(root, { recursive: true });
      lines.push(`    ${h}:`, '      ansible_connection: local', `      ewsplay_local_root: ${root}`);
    }
    writeFileSync(join(this.dir, 'hosts.yml'), `${lines.join('\n')}\n${extraInventory}`);
  }
  hostDir(h: string): string {
    return join(this.dir, 'hosts', h);
  }
  write(rel: string, text: string): string {
    const file = join(this.dir, rel);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, text);
    return file;
  }
  async run(
    playbookText: string,
    options: Partial<RunOptions> = {},
    collector = new Collector(),
  ): Promise<{ report: RunReport; events: Collector; secrets: Secrets }> {
    const file = this.write('playbooks/test.yml', playbookText);
    const playbook = await loadPlaybook(file);
    const inventory = await loadInventory([join(this.dir, 'hosts.yml')]);
    const secrets = new Secrets();
    const report = await runPlaybook({
      playbook,
      inventory,
      inventorySources: [join(this.dir, 'hosts.yml')],
      options: {
        check: false,
        diff: false,
        forks: 20,
        tags: { only: [], skip: [] },
        extraVars: {},
        forceHandlers: false,
        interactive: false,
        taskTimeoutSec: 30,
        connectTimeoutMs: 5000,
        acceptNewHostKeys: false,
        stateDir: join(this.dir, 'state'),
        ...options,
      },
      templar: createTemplar(),
      secrets,
      listener: collector,
      version: 'test',
      abort: new AbortController(),
    });
    return { report, events: collector, secrets };
  }
}
