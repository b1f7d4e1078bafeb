// add_host changes the run's in-memory inventory: later plays target the new hosts and their groups.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Scratch } from './harness.js';

describe('add_host', () => {
  it('adds hosts (one per loop item) that a later play targets by group, reached with their variables', async () => {
    const s = new Scratch(['ctl']);
    s.write('hosts/new1/.keep', '');
    s.write('hosts/new2/.keep', '');
    const { events, report } = await s.run(`
- hosts: ctl
  gather_facts: false
  tasks:
    - name: add
      add_host:
        name: "{{ item }}"
        groups: [fresh, "extra"]
        ansible_connection: local
        ewsplay_local_root: "${s.dir}/hosts/{{ item }}"
        colour: blue
      loop: [new1, new2]
    - name: again
      add_host: name=new1 groups=fresh ansible_connection=local ewsplay_local_root=${s.hostDir('new1')} colour=blue
- hosts: fresh
  gather_facts: false
  tasks:
    - name: touch
      shell: echo "{{ colour }} {{ group_names | join(',') }}" > here.txt
    - name: groups seen
      debug: { msg: "{{ groups['fresh'] | join(',') }}" }
`);
    const add = events.resultOf('add', 'ctl');
    expect(add?.status).toBe('changed');
    expect(add?.items?.map((i) => i.status)).toEqual(['changed', 'changed']);
    // Nothing new the second time: ok, as in Ansible.
    expect(events.statusOf('again', 'ctl')).toBe('ok');
    expect(events.statusOf('touch', 'new1')).toBe('changed');
    expect(events.statusOf('touch', 'new2')).toBe('changed');
    expect(events.resultOf('groups seen', 'new1')?.msg).toBe('new1,new2');
    expect(readFileSync(`${s.hostDir('new1')}/here.txt`, 'utf8')).toBe('blue extra,fresh\n');
    expect(report.stats.new2).toMatchObject({ changed: 1, failed: 0 });
    expect(report.stats.ctl).toMatchObject({ changed: 1, ok: 2 });
  });

  it('runs once for the batch, not once per host, and name:port sets ansible_port', async () => {
    const s = new Scratch(['a', 'b']);
    const { events } = await s.run(`
- hosts: all
  gather_facts: false
  tasks:
    - name: add
      ansible.builtin.add_host: { hostname: "web.example:2222", group: "web, db" }
    - name: port
      debug: { msg: "{{ hostvars['web.example'].ansible_port }} {{ groups['db'] }}" }
`);
    expect(events.events.filter((e) => e.task === 'add').map((e) => e.host)).toEqual(['a']);
    expect(events.resultOf('port', 'b')?.msg).toBe("2222 ['web.example']");
  });

  it('changes the in-memory inventory in check mode too (it touches no host)', async () => {
    const s = new Scratch(['ctl']);
    const { events } = await s.run(
      `
- hosts: ctl
  gather_facts: false
  tasks:
    - add_host: { name: other, groups: later, ansible_connection: local, ewsplay_local_root: "${s.dir}" }
- hosts: later
  gather_facts: false
  tasks:
    - name: there
      debug: { msg: "{{ inventory_hostname }}" }
`,
      { check: true },
    );
    expect(events.resultOf('there', 'other')?.msg).toBe('other');
  });
});
