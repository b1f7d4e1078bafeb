// Secret scan: a full playbook whose tasks use vault values and env-lookup secrets (module args, loops with the
// secret as item and label, a template with --diff, a failing command echoing the secret, become, register +
// debug) runs against real sshd hosts with plain and tree output, JSON and JUnit reports. Then stdout, stderr,
// every file under .ewsplay/ and every process argv seen on the machine during the run are scanned for every
// secret value and its encodings: 0 hits. The template's target file on the host is the host's business.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SshdLab, startSshdLab } from '../../src/lab/sshd.js';
import { encryptVault } from '../../src/vault/age.js';

const BIN = resolve(import.meta.dirname, '../../bin/ewsplay.js');
const rand = () => randomBytes(6).toString('hex');

// Each secret is unique to this run, so a hit can only be a leak. One has characters that JSON and XML escape.
const SECRETS = {
  vaultToken: `vtok-${rand()}`,
  vaultDbPassword: `db"p&ss<${rand()}>'q`,
  vaultItem: `vitem-${rand()}`,
  becomePassword: `bpw-${rand()}`,
  envPassword: `envpw-${rand()}`,
  envToken: `envtok-${rand()}`,
  passphrase: `vault pass ${rand()}`,
};

const PLAYBOOK = `
- name: secrets everywhere
  hosts: lab
  vars_files:
    - vault-vars.yml
  vars:
    ews_password: "{{ lookup('env', 'SCAN_EWS_PASSWORD') }}"
    from_env: "{{ lookup('env', 'SCAN_API_TOKEN') }}"
  tasks:
    - name: debug msg
      debug:
        msg: "token {{ vault_token }} password {{ ews_password }} env {{ from_env }} b64 {{ vault_token | b64encode }}"
    - name: debug var
      debug:
        var: vault_db_password
    - name: loop with secret items
      debug:
        msg: "item {{ item }}"
      loop:
        - "{{ vault_token }}"
        - "{{ ews_password }}"
        - public-item
        - "{{ vault_list }}"
    - name: loop with a label holding the secret, secret on stdin
      command: cat
      args:
        stdin: "{{ item }}"
      loop:
        - "{{ vault_db_password }}"
        - "{{ from_env }}"
      loop_control:
        label: "label {{ item }}"
    - name: template a file holding the secret
      template:
        src: app.conf.j2
        dest: "{{ dest_dir }}/{{ inventory_hostname }}.conf"
    - name: slow command that gets the secret on stdin and echoes it back
      shell: "sleep 2; cat; echo; cat /dev/null"
      args:
        stdin: "{{ vault_token }}"
      register: echoed
    - name: debug the registered output
      debug:
        var: echoed
    - name: become with the secret inside the script
      shell: "sleep 1.5; printf '%s' {{ vault_db_password | quote }} | wc -c"
      become: true
      register: counted
    - name: secret in the environment of a slow command
      shell: 'sleep 1.1; printf "%s" "$API_TOKEN" | wc -c'
      environment:
        API_TOKEN: "{{ vault_token }}"
      register: env_count
    - name: the command saw the secret
      assert:
        that: env_count.stdout | int == vault_token | length
    - name: failing command whose stderr echoes the secret
      shell: "echo denied for {{ ews_password | quote }} and {{ vault_item | quote }} >&2; exit 3"
      ignore_errors: true
    - name: set a fact from secrets
      set_fact:
        combined: "{{ vault_token }}:{{ from_env }}"
    - name: fail message holding the secret
      fail:
        msg: "giving up on {{ combined }} and {{ vault_db_password }}"
      ignore_errors: true
    - name: a secret among a program's arguments is refused
      command: "sleep 1 {{ vault_token }}"
      ignore_errors: true
      register: refused
    - name: line with a secret (diff)
      lineinfile:
        path: "{{ dest_dir }}/{{ inventory_hostname }}.env"
        line: "EWS_PASSWORD={{ ews_password }}"
        create: true
    - name: a real failure holding the secret (JUnit failure message)
      fail:
        msg: "final failure for {{ vault_token }} / {{ vault_db_password }}"

- name: the control node (local connection)
  hosts: localhost
  gather_facts: false
  vars_files:
    - vault-vars.yml
  tasks:
    - name: local shell line holding a secret
      shell: "sleep 1.2; echo {{ vault_token }} local > /dev/null"
`;

let lab: SshdLab;
let project: string;

beforeAll(async () => {
  lab = await startSshdLab(2, { prefix: 'scan' });
  project = mkdtempSync(join(tmpdir(), 'ewsplay-secret-scan-'));
  mkdirSync(join(project, 'inventory/group_vars/all'), { recursive: true });
  mkdirSync(join(project, 'templates'));
  mkdirSync(join(project, 'hostfiles'));
  writeFileSync(join(project, 'inventory/hosts.yml'), readFileSync(lab.inventoryFile, 'utf8'));
  const vault = (text: string) => encryptVault(text, SECRETS.passphrase, 10);
  writeFileSync(
    join(project, 'inventory/group_vars/all/vault.yml'),
    await vault(
      `vault_db_password: ${JSON.stringify(SECRETS.vaultDbPassword)}\nansible_become_password: ${SECRETS.becomePassword}\n`,
    ),
  );
  writeFileSync(join(project, 'inventory/group_vars/all/plain.yml'), 'dest_dir: ""\n');
  writeFileSync(
    join(project, 'vault-vars.yml'),
    await vault(
      `vault_token: ${SECRETS.vaultToken}\nvault_item: ${SECRETS.vaultItem}\nvault_list: [${SECRETS.vaultItem}]\n`,
    ),
  );
  writeFileSync(join(project, 'site.yml'), PLAYBOOK);
  writeFileSync(
    join(project, 'templates/app.conf.j2'),
    'token = {{ vault_token }}\npassword = {{ vault_db_password }}\nrun = {{ ansible_date_time | default("x") }}\n',
  );
}, 60_000);

afterAll(async () => {
  await lab?.stop();
});

interface Outcome {
  rc: number;
  stdout: string;
  stderr: string;
  argvSeen: string[];
}

/** Runs ewsplay while sampling every process's argv on the machine every 50 ms. */
async function runWatched(args: string[]): Promise<Outcome> {
  const argvSeen = new Set<string>();
  let running = true;
  const sampler = (async () => {
    while (running) {
      const out = await new Promise<string>((done) =>
        execFile('ps', ['-eo', 'args', '--no-headers', '-ww'], (_e, so) => done(so ?? '')),
      );
      for (const line of out.split('\n')) argvSeen.add(line);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const result = await new Promise<Omit<Outcome, 'argvSeen'>>((done) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: project,
      env: {
        ...process.env,
        EWSPLAY_VAULT_PASSWORD: SECRETS.passphrase,
        SCAN_EWS_PASSWORD: SECRETS.envPassword,
        SCAN_API_TOKEN: SECRETS.envToken,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => done({ rc: code ?? 1, stdout, stderr }));
  });
  running = false;
  await sampler;
  return { ...result, argvSeen: [...argvSeen] };
}

/** Every form a secret could take in output: as is, base64, JSON-escaped, XML-escaped, URL-encoded, quoted. */
function forms(secret: string): string[] {
  const xml = secret
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
  return [
    ...new Set([
      secret,
      Buffer.from(secret).toString('base64'),
      JSON.stringify(secret).slice(1, -1),
      xml,
      encodeURIComponent(secret),
      // The random part alone: a secret quoted for a shell (`'"'"'`) must not slip through either.
      ...(secret.match(/[0-9a-f]{12}/g) ?? []),
    ]),
  ];
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...filesUnder(full));
    else out.push(full);
  }
  return out;
}

function hits(where: string, text: string): string[] {
  const found: string[] = [];
  for (const [name, secret] of Object.entries(SECRETS))
    for (const f of forms(secret)) if (text.includes(f)) found.push(`${where}: ${name} (${f})`);
  return found;
}

describe('secret scan', () => {
  for (const output of ['plain', 'tree'] as const) {
    it(`finds no secret in ${output} output, reports, state files or process arguments`, async () => {
      const dest = join(project, 'hostfiles', output);
      mkdirSync(dest);
      const junit = join(project, '.ewsplay', `junit-${output}.xml`);
      const r = await runWatched([
        'run',
        'site.yml',
        '-i',
        'inventory',
        '--diff',
        '-o',
        output,
        '--junit',
        junit,
        '-e',
        `dest_dir=${dest}`,
        '-v',
      ]);
      // The run did what the playbook says: the host's files hold the secret (legitimately), tasks ran.
      expect(r.rc, r.stderr + r.stdout).toBe(3);
      expect(readFileSync(join(dest, 'scan1.conf'), 'utf8')).toContain(`token = ${SECRETS.vaultToken}`);
      expect(readFileSync(join(dest, 'scan2.env'), 'utf8')).toContain(`EWS_PASSWORD=${SECRETS.envPassword}`);
      expect(r.stdout).toContain('********');
      if (output === 'plain') expect(r.stdout).toContain('item=public-item');
      // An ignored failure, as each output says it (plain follows Ansible's wording).
      expect(r.stdout).toContain(output === 'plain' ? '...ignoring' : 'failed (ignored)');
      // The sampler saw the slow commands, the become one among them, while they ran.
      expect(r.argvSeen).toContain('sleep 2');
      expect(r.argvSeen).toContain('sleep 1.2');
      expect(r.argvSeen).toContain('sleep 1.1');
      expect(r.stdout).not.toMatch(/FAILED! => Assertion failed/);
      expect(r.argvSeen.some((a) => a.startsWith('sudo -n -u root /bin/sh -c'))).toBe(true);
      expect(r.stdout).toContain('refusing to run: a secret value is among the program');
      const xml = readFileSync(junit, 'utf8');
      expect(xml).toContain('<failure message="final failure for ******** / ********"');

      const found = [...hits('stdout', r.stdout), ...hits('stderr', r.stderr)];
      const files = filesUnder(join(project, '.ewsplay'));
      expect(files.some((f) => f.endsWith('.json'))).toBe(true);
      expect(files).toContain(junit);
      for (const f of files) found.push(...hits(f, readFileSync(f, 'utf8')));
      for (const a of r.argvSeen) found.push(...hits(`argv '${a}'`, a));
      expect(found).toEqual([]);
    }, 120_000);
  }
});
