// gather_facts: true gathers, false never, not set only when the play uses a fact; facts reused by later plays.
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { mentionsFact, playUsesFacts } from '../../../src/engine/facts.js';
import { loadPlaybook } from '../../../src/load/playbook.js';
import { Scratch } from './harness.js';

const GATHER = 'Gathering Facts';
const short = hostname().split('.')[0]!;

describe('gather_facts', () => {
  it('not set and a task uses a fact: gathered before the first task, on every host', async () => {
    const s = new Scratch();
    const { events } = await s.run(`- hosts: all
  tasks:
    - name: show
      debug: { msg: "{{ ansible_hostname }} runs {{ ansible_facts.distribution }} ({{ ansible_facts['os_family'] }})" }
`);
    expect(events.events.map((e) => e.task)).toEqual([GATHER, GATHER, 'show', 'show']);
    for (const h of ['alpha', 'beta']) {
      expect(events.statusOf(GATHER, h)).toBe('ok');
      expect(events.resultOf('show', h)?.msg).toMatch(new RegExp(`^${short} runs \\S`));
    }
  });

  it('not set and no fact used: no round trip', async () => {
    const s = new Scratch();
    const { events } = await s.run(`- hosts: all
  tasks:
    - debug: { msg: "{{ inventory_hostname }} {{ ansible_host | default('x') }} {{ ansible_user | default('y') }}" }
`);
    expect(events.events.map((e) => e.task)).not.toContain(GATHER);
  });

  it('false: never gathered, so a fact is undefined', async () => {
    const s = new Scratch(['alpha']);
    const { events } = await s.run(`- hosts: all
  gather_facts: false
  tasks:
    - name: show
      debug: { msg: "{{ ansible_hostname }}" }
`);
    expect(events.events.map((e) => e.task)).toEqual(['show']);
    expect(events.statusOf('show', 'alpha')).toBe('failed');
    expect(events.resultOf('show', 'alpha')?.msg).toContain('ansible_hostname');
  });

  it('true: gathered though nothing mentions a fact, and again in a later play', async () => {
    const s = new Scratch(['alpha']);
    const { events } = await s.run(`- hosts: all
  gather_facts: true
  tasks:
    - debug: { msg: hi }
- hosts: all
  gather_facts: true
  tasks:
    - debug: { msg: again }
`);
    expect(events.events.filter((e) => e.task === GATHER)).toHaveLength(2);
  });

  it('facts gathered once are reused by a later play that does not ask again', async () => {
    const s = new Scratch(['alpha']);
    const { events } = await s.run(`- hosts: all
  tasks:
    - debug: { msg: "{{ ansible_os_family }}" }
- hosts: all
  tasks:
    - name: later
      debug: { msg: "{{ ansible_facts.hostname }}" }
`);
    expect(events.events.filter((e) => e.task === GATHER)).toHaveLength(1);
    expect(events.resultOf('later', 'alpha')?.msg).toBe(short);
  });

  it('a fact in when:, registered results with ansible_ names, check mode and --tags', async () => {
    const s = new Scratch(['alpha']);
    const { events } = await s.run(
      `- hosts: all
  tasks:
    - name: linux only
      debug: { msg: yes }
      when: ansible_system == 'Linux'
      tags: [t]
    - name: again
      setup: { filter: ansible_hostname }
      register: r
      tags: [t]
    - name: registered
      debug: { msg: "{{ r.ansible_facts.ansible_hostname }} {{ r.changed }}" }
      tags: [t]
`,
      { check: true, tags: { only: ['t'], skip: [] } },
    );
    expect(events.statusOf(GATHER, 'alpha')).toBe('ok');
    expect(events.resultOf(GATHER, 'alpha')?.checkMode).toBe(true);
    expect(events.statusOf('linux only', 'alpha')).toBe('ok');
    expect(events.statusOf('again', 'alpha')).toBe('ok');
    expect(events.resultOf('registered', 'alpha')?.msg).toBe(`${short} False`);
  });

  it('--skip-tags always leaves gathering out, as in Ansible', async () => {
    const s = new Scratch(['alpha']);
    const { events } = await s.run(
      `- hosts: all
  gather_facts: true
  tasks:
    - debug: { msg: hi }
`,
      { tags: { only: [], skip: ['always'] } },
    );
    expect(events.events.map((e) => e.task)).not.toContain(GATHER);
  });

  it('--start-at-task: the play holding that task gathers; a play before it does not', async () => {
    const s = new Scratch(['alpha']);
    const { events } = await s.run(
      `- hosts: all
  gather_facts: true
  tasks:
    - name: skipped
      debug: { msg: a }
- hosts: all
  gather_facts: true
  tasks:
    - name: before
      debug: { msg: b }
    - name: here
      debug: { msg: "{{ ansible_hostname }}" }
`,
      { startAtTask: 'here' },
    );
    expect(events.events.map((e) => e.task)).toEqual([GATHER, 'here']);
    expect(events.resultOf('here', 'alpha')?.msg).toBe(short);
  });

  it('secret-named variables of the login environment are masked in output', async () => {
    const s = new Scratch(['alpha']);
    const { events } = await s.run(`- hosts: all
  environment: { SERVICE_API_TOKEN: tok-123456789 }
  tasks:
    - name: show
      debug: { msg: "token {{ ansible_env.SERVICE_API_TOKEN }}" }
`);
    expect(events.statusOf(GATHER, 'alpha')).toBe('ok');
    expect(events.resultOf('show', 'alpha')?.msg).toBe('token ********');
  });
});

describe('the reference scan', () => {
  it('finds ansible_facts and fact names, not connection variables nor look-alikes', () => {
    expect(mentionsFact({ msg: '{{ ansible_facts.os_family }}' })).toBe(true);
    expect(mentionsFact(['ansible_distribution_major_version | int >= 12'])).toBe(true);
    expect(mentionsFact({ a: "{{ hostvars['db'].ansible_default_ipv4.address }}" })).toBe(true);
    expect(
      mentionsFact({
        a: '{{ ansible_host }} {{ ansible_user }} {{ ansible_port }} {{ ansible_check_mode }}',
      }),
    ).toBe(false);
    expect(mentionsFact({ a: '{{ ansible_hostnames }} {{ my_ansible_env }}' })).toBe(false);
    // A position (file name) is no reference.
    expect(mentionsFact({ pos: { file: '/x/ansible_hostname.yml' } })).toBe(false);
  });

  it('looks into handlers, vars and blocks; a templated include cannot be read: gather', async () => {
    const s = new Scratch(['alpha']);
    const load = async (text: string) => (await loadPlaybook(s.write('playbooks/scan.yml', text))).plays[0]!;
    expect(
      playUsesFacts(
        await load(`- hosts: all
  tasks:
    - debug: { msg: hi }
      notify: h
  handlers:
    - name: h
      debug: { msg: "{{ ansible_fqdn }}" }
`),
      ),
    ).toBe(true);
    expect(
      playUsesFacts(
        await load(`- hosts: all
  vars: { addr: "{{ ansible_default_ipv4.address }}" }
  tasks:
    - block:
        - debug: { msg: "{{ addr }}" }
`),
      ),
    ).toBe(true);
    s.write('playbooks/tasks/other.yml', '- debug: { msg: hi }\n');
    expect(
      playUsesFacts(
        await load(`- hosts: all
  vars: { which: other }
  tasks:
    - include_tasks: "{{ which }}.yml"
`),
      ),
    ).toBe(true);
    expect(
      playUsesFacts(
        await load(`- hosts: all
  tasks:
    - include_tasks: other.yml
`),
      ),
    ).toBe(false);
  });
});
