// ci/gitlab-ci.yml run for real by gitlab-ci-local and its shell executor, each job in its own copy of the
// checkout as on GitLab (--shell-isolation): the generator job writes one job per site of a sites directory
// (local-connection sites, like the rollout tests'), the child pipeline runs the canary alone and then the
// others, and each site job keeps its state, JSON report and JUnit file as artifacts. Then a failing canary
// keeps the other sites from starting and still leaves its records.
import { execFile, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = resolve(import.meta.dirname, '../..');
const GITLAB_CI_LOCAL = join(ROOT, 'node_modules/gitlab-ci-local/dist/index.js');
const SITES = ['berlin', 'lyon', 'paris'];
const CANARY = 'lyon';

const MIGRATE = `- name: Migrate
  hosts: all
  tasks:
    - name: Record the site
      copy:
        dest: "{{ work_dir }}/site.txt"
        content: "{{ ewsplay_site }}\\n"
`;

const CANARY_FAILS = `- name: Migrate
  hosts: all
  tasks:
    - name: Break the canary
      fail:
        msg: canary {{ ewsplay_site }} is broken
      when: ewsplay_site == '${CANARY}'
`;

// The project's own CI file includes ci/gitlab-ci.yml and sets its variables, as the README says. The set-up
// only checks the copied build runs: the real one (npm ci) must never run beside linked node_modules.
const projectCiFile = (playbook: string) => `include:
  - local: ci/gitlab-ci.yml
variables:
  EWSPLAY_PLAYBOOK: ${playbook}
  EWSPLAY_CANARY: ${CANARY}
  EWSPLAY_SETUP: node bin/ewsplay.js --version
`;

const missingTools = ['git', 'rsync'].filter(
  (tool) => spawnSync(tool, ['--version'], { timeout: 10_000 }).status !== 0,
);
const skipReason = missingTools.length
  ? ` (skipped: gitlab-ci-local needs ${missingTools.join(' and ')}; apt-get install ${missingTools.join(' ')})`
  : '';

interface Result {
  code: number;
  output: string;
}

function run(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Result> {
  return new Promise((done) => {
    execFile(file, args, { cwd, env, timeout: 50_000, maxBuffer: 16 << 20 }, (e, stdout, stderr) =>
      done({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, output: stdout + stderr }),
    );
  });
}

describe.skipIf(missingTools.length > 0)(`ci/gitlab-ci.yml under gitlab-ci-local${skipReason}`, () => {
  let dir: string;
  let repo: string;
  let env: NodeJS.ProcessEnv;
  const work = (site: string) => join(dir, 'work', site);
  const artifacts = (job: string) => join(repo, '.gitlab-ci-local', 'artifacts', job);

  const git = async (...args: string[]) => {
    const r = await run('git', args, repo, env);
    expect(r.code, r.output).toBe(0);
  };
  const pipeline = async (playbook: string): Promise<Result> => {
    writeFileSync(join(repo, '.gitlab-ci.yml'), projectCiFile(playbook));
    await git('add', '-A');
    await git('commit', '-q', '--allow-empty', '-m', playbook);
    // Nothing left from an earlier pipeline: its artifacts, copied back into the checkout, or its records.
    rmSync(join(repo, '.gitlab-ci-local'), { recursive: true, force: true });
    rmSync(join(repo, '.ewsplay'), { recursive: true, force: true });
    return run(process.execPath, [GITLAB_CI_LOCAL, '--shell-isolation'], repo, env);
  };

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist/cli/main.js'))) throw new Error('ewsplay is not built: npm run build');
    dir = mkdtempSync(join(tmpdir(), 'ewsplay-gitlab-ci-'));
    repo = join(dir, 'repo');
    // gitlab-ci-local reads its home's variables file: give it an empty home.
    mkdirSync(join(dir, 'home'));
    env = { ...process.env, HOME: join(dir, 'home') };
    const write = (rel: string, text: string) => {
      mkdirSync(join(repo, rel, '..'), { recursive: true });
      writeFileSync(join(repo, rel), text);
    };
    // A checkout of the project with ewsplay built: the CI file, the generator, the CLI and its build.
    for (const rel of ['ci/gitlab-ci.yml', 'scripts/gitlab-site-jobs.mjs', 'bin/ewsplay.js', 'dist'])
      cpSync(join(ROOT, rel), join(repo, rel), { recursive: true });
    const { name, version, type } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    write('package.json', `${JSON.stringify({ name, version, type, private: true })}\n`);
    // node_modules as links to the project's packages, tracked so that every job's copy has them.
    mkdirSync(join(repo, 'node_modules'));
    for (const entry of readdirSync(join(ROOT, 'node_modules')).filter((e) => !e.startsWith('.')))
      symlinkSync(join(ROOT, 'node_modules', entry), join(repo, 'node_modules', entry));
    for (const site of SITES) {
      mkdirSync(work(site), { recursive: true });
      write(
        `inventory/sites/${site}/hosts.yml`,
        'all:\n  hosts:\n    mail:\n      ansible_connection: local\n',
      );
      write(`inventory/sites/${site}/group_vars/all.yml`, `work_dir: ${work(site)}\n`);
    }
    write('playbooks/migrate.yml', MIGRATE);
    write('playbooks/canary-fails.yml', CANARY_FAILS);
    write('.gitignore', '/.gitlab-ci-local/\n/.ewsplay/\n/ewsplay-site-jobs.yml\n');
    await git('init', '-q', '-b', 'main');
    await git('config', 'user.name', 'ewsplay test');
    await git('config', 'user.email', 'test@ewsplay.invalid');
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs one job per site, the canary first, and keeps each site state, JSON report and JUnit file', {
    timeout: 90_000,
  }, async () => {
    const { code, output } = await pipeline('playbooks/migrate.yml');
    expect(code, output).toBe(0);
    expect(output).not.toMatch(/\bFAIL\b/);
    expect(output).toMatch(/PASS +generate-site-jobs/);
    for (const site of SITES) expect(output).toMatch(new RegExp(`PASS +\\[rollout\\] -> site-${site}\\b`));
    // The canary's job ended before any other site's job started.
    const canaryDone = output.search(new RegExp(`site-${CANARY} +finished`));
    expect(canaryDone).toBeGreaterThan(0);
    for (const site of SITES.filter((s) => s !== CANARY))
      expect(output.search(new RegExp(`site-${site} +starting`))).toBeGreaterThan(canaryDone);

    // The child pipeline as gitlab-ci-local ran it: the canary alone in its stage, a resource group per site.
    const child = parse(readFileSync(join(repo, '.gitlab-ci-local/includes/triggers/rollout.yml'), 'utf8'));
    expect(child.stages).toEqual(['canary', 'sites']);
    for (const site of SITES) {
      expect(child[`site-${site}`].stage).toBe(site === CANARY ? 'canary' : 'sites');
      expect(child[`site-${site}`].resource_group).toBe(`ewsplay-site-${site}`);
      expect(child[`site-${site}`].artifacts.reports.junit).toBe(`.ewsplay/junit/${site}.xml`);
    }

    for (const site of SITES) {
      // The run really happened on the site's host...
      expect(readFileSync(join(work(site), 'site.txt'), 'utf8')).toBe(`${site}\n`);
      // ...and its job's artifacts hold that site's records, and only its.
      const kept = join(artifacts(`site-${site}`), '.ewsplay');
      expect(readdirSync(join(kept, 'state'))).toEqual([`${site}.json`]);
      const state = JSON.parse(readFileSync(join(kept, 'state', `${site}.json`), 'utf8'));
      expect(state.site).toBe(site);
      expect(state.lastRun).toMatchObject({ result: 'ok', exitCode: 0 });
      expect(state.steps['Migrate > Record the site'].status).toBe('done');
      const reports = readdirSync(join(kept, 'runs', site));
      expect(reports).toHaveLength(1);
      const report = JSON.parse(readFileSync(join(kept, 'runs', site, reports[0]!), 'utf8'));
      expect(report.site).toBe(site);
      expect(report.tasks[0].hosts.mail.status).toBe('changed');
      expect(readFileSync(join(kept, 'junit', `${site}.xml`), 'utf8')).toMatch(
        /<testsuites name="ewsplay" tests="1" failures="0"/,
      );
    }
  });

  it('a failing canary keeps the other sites from starting and keeps its own records', {
    timeout: 90_000,
  }, async () => {
    const { output } = await pipeline('playbooks/canary-fails.yml');
    // gitlab-ci-local 4.73 does not pass a child pipeline's failure up to the trigger job (GitLab does, with
    // strategy: depend), so its exit code says nothing here: the jobs' own results do.
    // Exit code 3: a task failed.
    expect(output).toMatch(new RegExp(`site-${CANARY} +finished in [\\d.]+ m?s +FAIL 3`));
    expect(output).toMatch(/canary lyon is broken/);
    for (const site of SITES.filter((s) => s !== CANARY))
      expect(output).not.toMatch(new RegExp(`site-${site} +starting`));
    const kept = join(artifacts(`site-${CANARY}`), '.ewsplay');
    const state = JSON.parse(readFileSync(join(kept, 'state', `${CANARY}.json`), 'utf8'));
    expect(state.lastRun.result).not.toBe('ok');
    expect(state.steps['Migrate > Break the canary'].status).toBe('failed');
    expect(readFileSync(join(kept, 'junit', `${CANARY}.xml`), 'utf8')).toMatch(/failures="1"/);
  });
});
