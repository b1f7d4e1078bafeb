// Issue 15, "Done when": three realistic playbooks of our own (test/parity/) give the same files, the same
// recaps and a second run with 0 changed under ansible-playbook and under ewsplay, on the same real sshd
// hosts (the product's sshd lab). Each tool writes under `{{ lab_dir }}/{{ tool }}` on fresh directories.
// - web-deploy.yml: templates, copy, lineinfile, command creates; handlers with `listen` (several handlers on
//   one topic, one handler on two topics), a handler notified twice, one never notified;
// - users.yml: include_tasks with a loop and `when` on the loop variable, a loop inside the included file
//   (one of them over no items), `omit` for mode and owner, a loop with selectattr;
// - cluster.yml, run with `--limit web1`: a template reading every inventory host's hostvars (hosts outside
//   the limit), to_nice_yaml in a template and in copy content, block/rescue/always with
//   ansible_failed_task / ansible_failed_result, an ignored failure and a skipped task.
// Ansible is configured as bench/vs-ansible/run.mjs does: pipelining, ControlPersist, a fixed
// interpreter_python, gathering explicit. Skipped only where ansible-playbook is not installed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SshdLab, startSshdLab } from '../../src/lab/sshd.js';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin', 'ewsplay.js');
const PARITY = join(ROOT, 'test', 'parity');
const haveAnsible = spawnSync('ansible-playbook', ['--version'], { timeout: 60_000 }).status === 0;
const TOOLS = ['ansible', 'ewsplay'] as const;
type Tool = (typeof TOOLS)[number];

/** The playbooks, each with the --limit it runs under (cluster.yml is about hosts outside it). */
const PLAYBOOKS: { file: string; limit?: string; hosts: string[] }[] = [
  { file: 'web-deploy.yml', hosts: ['web1', 'web2'] },
  { file: 'users.yml', hosts: ['web1', 'web2', 'db1'] },
  { file: 'cluster.yml', limit: 'web1', hosts: ['web1'] },
];

interface Recap {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
  rescued: number;
  ignored: number;
}
interface Run {
  rc: number;
  stdout: string;
  stderr: string;
  recap: Record<string, Recap>;
  ms: number;
}

let lab: SshdLab;
let work: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  if (!haveAnsible) return;
  lab = await startSshdLab(3, { names: ['web1', 'web2', 'db1'] });
  work = lab.dir;
  const host = (i: number, extra: string[] = []) => {
    const h = lab.hosts[i]!;
    return [
      `        ${h.name}:`,
      '          ansible_host: 127.0.0.1',
      `          ansible_port: ${h.port}`,
      `          lab_dir: ${JSON.stringify(h.workDir)}`,
      `          node_id: ${i + 1}`,
      ...extra,
    ];
  };
  writeFileSync(
    join(work, 'inventory.yml'),
    [
      'all:',
      '  vars:',
      '    ansible_connection: ssh',
      `    ansible_user: ${JSON.stringify(lab.user)}`,
      `    ansible_ssh_private_key_file: ${JSON.stringify(lab.clientKeyFile)}`,
      `    ansible_ssh_common_args: ${JSON.stringify(`-F /dev/null -o UserKnownHostsFile=${lab.knownHostsFile}`)}`,
      '  children:',
      '    web:',
      '      hosts:',
      ...host(0, ['          zone: a']),
      ...host(1),
      '    db:',
      '      hosts:',
      ...host(2, ['          zone: b']),
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(work, 'ansible.cfg'),
    [
      '[defaults]',
      'gathering = explicit',
      'interpreter_python = /usr/bin/python3',
      'retry_files_enabled = False',
      'nocolor = True',
      'host_key_checking = True',
      // A loaded machine answers slowly: both tools get 30 s to connect (-T 30 for ewsplay).
      'timeout = 30',
      `local_tmp = ${join(work, 'ansible-tmp')}`,
      '',
      '[ssh_connection]',
      'pipelining = True',
      // The hosts' keys come from the inventory's UserKnownHostsFile; the masters die with the lab's sshd.
      'ssh_args = -o ControlMaster=auto -o ControlPersist=120s -o StrictHostKeyChecking=yes',
      `control_path_dir = ${join(work, 'cp')}`,
      '',
    ].join('\n'),
  );
  env = { ...process.env, NO_COLOR: '1', ANSIBLE_CONFIG: join(work, 'ansible.cfg') };
}, 120_000);

afterAll(async () => {
  await lab?.stop();
});

/** One run of one tool on one playbook (each tool in its own directory on the hosts: `-e tool=...`). */
function run(tool: Tool, pb: (typeof PLAYBOOKS)[number], pass: number): Promise<Run> {
  const args = [
    join(PARITY, pb.file),
    '-i',
    join(work, 'inventory.yml'),
    '-e',
    `tool=${tool}`,
    ...(pb.limit ? ['-l', pb.limit] : []),
  ];
  const [cmd, argv] =
    tool === 'ansible'
      ? ['ansible-playbook', args]
      : [
          process.execPath,
          [BIN, 'run', ...args, '-T', '30', '-o', 'plain', '--report', join(work, `${pb.file}-${pass}.json`)],
        ];
  const started = Date.now();
  return new Promise((done) => {
    const child = spawn(cmd, argv, { cwd: work, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ rc: code ?? -1, stdout, stderr, recap: parseRecap(stdout), ms: Date.now() - started });
    });
  });
}

/**
 * The PLAY RECAP of either tool, per host. Ansible pads the host column to 26 and ends lines with spaces;
 * ewsplay pads to the longest name: the same `name : ok=N changed=N ...` fields.
 */
function parseRecap(out: string): Record<string, Recap> {
  const at = out.lastIndexOf('PLAY RECAP');
  const recap: Record<string, Recap> = {};
  if (at < 0) return recap;
  const line =
    /^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)\s+rescued=(\d+)\s+ignored=(\d+)\s*$/gm;
  for (const m of out.slice(at).matchAll(line)) {
    const [ok, changed, unreachable, failed, skipped, rescued, ignored] = m
      .slice(2, 9)
      .map(Number) as number[];
    recap[m[1]!] = { ok, changed, unreachable, failed, skipped, rescued, ignored } as Recap;
  }
  return recap;
}

/** Every file and directory a tool left on the hosts: mode, and content with the tool's own path neutral. */
function snapshot(tool: Tool): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of lab.hosts) {
    const base = join(h.workDir, tool);
    if (!existsSync(base)) continue;
    const walk = (rel: string) => {
      const abs = join(base, rel);
      const st = lstatSync(abs);
      const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
      if (st.isDirectory()) {
        out[`${h.name}:${rel || '.'}`] = `dir ${mode}`;
        for (const e of readdirSync(abs).sort()) walk(rel ? `${rel}/${e}` : e);
      } else {
        const text = readFileSync(abs, 'utf8').replaceAll(base, '<ROOT>');
        out[`${h.name}:${rel}`] = `file ${mode}\n${text}`;
      }
    };
    walk('');
  }
  return out;
}

/**
 * One pass: every playbook under both tools. The Ansible runs go at once (they write to separate
 * directories); ewsplay's one after the other beside them (a run locks its inventory's site, as it should).
 */
async function pass(n: number): Promise<{ ansible: Run; ewsplay: Run }[]> {
  const ewsplayRuns = (async () => {
    const out: Run[] = [];
    for (const pb of PLAYBOOKS) out.push(await run('ewsplay', pb, n));
    return out;
  })();
  const ansibleRuns = Promise.all(PLAYBOOKS.map((pb) => run('ansible', pb, n)));
  const [a, e] = await Promise.all([ansibleRuns, ewsplayRuns]);
  return PLAYBOOKS.map((_, i) => ({ ansible: a[i]!, ewsplay: e[i]! }));
}

describe.skipIf(!haveAnsible)(
  `ewsplay and ansible-playbook on the same sshd hosts${haveAnsible ? '' : ' (skipped: ansible-playbook is not installed; apt-get install ansible-core)'}`,
  () => {
    it('three playbooks: the same files, the same recaps, and second runs with 0 changed', async () => {
      const first = await pass(1);
      const filesAfterFirst = { ansible: snapshot('ansible'), ewsplay: snapshot('ewsplay') };
      const second = await pass(2);
      console.log(
        [first, second]
          .flatMap((runs, n) =>
            runs.map(
              (r, i) =>
                `${PLAYBOOKS[i]!.file} run ${n + 1}: ansible-playbook ${r.ansible.ms} ms, ewsplay ${r.ewsplay.ms} ms`,
            ),
          )
          .join('\n'),
      );

      for (const [i, pb] of PLAYBOOKS.entries()) {
        for (const [n, runs] of [first, second].entries()) {
          const { ansible, ewsplay } = runs[i]!;
          const what = `${pb.file} run ${n + 1}`;
          expect(ansible.rc, `${what} ansible:\n${ansible.stdout}\n${ansible.stderr}`).toBe(0);
          expect(ewsplay.rc, `${what} ewsplay:\n${ewsplay.stdout}\n${ewsplay.stderr}`).toBe(0);
          expect(Object.keys(ansible.recap).sort(), what).toEqual([...pb.hosts].sort());
          // The same counts per host, ok/changed/failed/skipped/rescued/ignored.
          expect(
            ewsplay.recap,
            `${what}\n--- ansible:\n${ansible.stdout}\n--- ewsplay:\n${ewsplay.stdout}`,
          ).toEqual(ansible.recap);
          for (const h of pb.hosts) {
            if (n === 0) expect(ansible.recap[h]!.changed, `${what} ${h}`).toBeGreaterThan(0);
            else expect(ansible.recap[h]!.changed, `${what} ${h}`).toBe(0);
          }
        }
      }

      // The same files, modes and contents, after each run (the second changes none of them).
      expect(filesAfterFirst.ewsplay).toEqual(filesAfterFirst.ansible);
      const filesAfterSecond = { ansible: snapshot('ansible'), ewsplay: snapshot('ewsplay') };
      expect(filesAfterSecond.ansible).toEqual(filesAfterFirst.ansible);
      expect(filesAfterSecond.ewsplay).toEqual(filesAfterFirst.ewsplay);

      // What the playbooks are about, so an empty snapshot on both sides cannot pass.
      const files = filesAfterSecond.ewsplay;
      // Every handler listening on `reload web` ran, once, in the order of the handlers section.
      expect(files['web1:web/log/handlers.log']).toBe('file 0644\ncheck shop\nrestart app\nreload\n');
      expect(files['web2:web/log/last-reload']).toBe('file 0644\nreloaded by web2\n');
      expect(files['web1:web/log/never']).toBeUndefined();
      // include_tasks loop: dave only on db1, bob nowhere; omit leaves the mode to the default.
      expect(files['web1:users/home/alice']).toBe('dir 0700');
      expect(files['db1:users/home/dave']).toBe('dir 0755');
      expect(files['db1:users/home/dave/groups']).toBe('file 0644\nops\n');
      expect(files['web1:users/home/dave']).toBeUndefined();
      expect(files['web1:users/home/bob']).toBeUndefined();
      // --limit web1: the members file still has every inventory host's variables.
      const members = files['web1:cluster/members.yml'];
      expect(members).toContain('- id: 3\n  name: db1\n');
      expect(members).toContain('zone: b');
      expect(files['web1:cluster/db-hosts']).toMatch(/^file 0600\ndb1 127\.0\.0\.1:\d+ id=3\n$/);
      expect(files['web1:cluster/settings.yml']).toContain('peers:\n- db1\n- web2\n');
      expect(files['web1:cluster/fallback']).toBe(
        'file 0644\nfailed: Read the upgrade file that is not there rc=1\n',
      );
      expect(files['db1:cluster']).toBeUndefined();
    }, 480_000);
  },
);
