import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Scratch } from './harness.js';

describe('linear strategy', () => {
  it('finishes a task on every host before the next task starts', async () => {
    const s = new Scratch(['a', 'b', 'c']);
    const log = join(s.dir, 'order.log');
    const { events } = await s.run(`
- hosts: all
  vars:
    delay: { a: '1.2', b: '0', c: '0.6' }
  tasks:
    - name: first
      shell: sleep {{ delay[inventory_hostname] }}; echo "first {{ inventory_hostname }}" >> ${log}
    - name: second
      shell: echo "second {{ inventory_hostname }}" >> ${log}
`);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    // Every host ends `first` before any starts `second`, though b (no delay) could have started it 1.2 s
    // before a ended: the hosts ran `first` side by side, so b ended it first.
    expect([...lines.slice(0, 3)].sort()).toEqual(['first a', 'first b', 'first c']);
    expect(lines.indexOf('first b')).toBeLessThan(lines.indexOf('first a'));
    expect(lines.slice(3).every((l) => l.startsWith('second'))).toBe(true);
    expect(events.events.filter((e) => e.result.status === 'changed')).toHaveLength(6);
  });

  it('a failed host stops only itself; the others go on', async () => {
    const s = new Scratch(['good', 'bad']);
    const { report, events } = await s.run(`
- hosts: all
  tasks:
    - name: maybe fail
      command: /bin/false
      when: inventory_hostname == 'bad'
    - name: after
      debug: { msg: still here }
`);
    expect(events.statusOf('maybe fail', 'bad')).toBe('failed');
    expect(events.statusOf('after', 'good')).toBe('ok');
    expect(events.statusOf('after', 'bad')).toBeUndefined();
    expect(report.stats.bad?.failed).toBe(1);
    expect(report.stats.good).toMatchObject({ ok: 1, skipped: 1, failed: 0 });
  });
});

describe('variable precedence', () => {
  it('inventory < play vars < vars_files < block vars < task vars < set_fact/register < extra vars', async () => {
    const s = new Scratch(['h'], 'vars:\n');
    s.write(
      'hosts.yml',
      `all:
  vars: { v_all: all, v_group: all, v_host: all, v_play: all, v_file: all, v_task: all, v_fact: all, v_extra: all }
  children:
    parent:
      vars: { v_group: parent }
      children:
        child:
          vars: { v_group: child }
          hosts:
            h:
              ansible_connection: local
              ewsplay_local_root: ${s.hostDir('h')}
              v_host: host
              v_play: host
`,
    );
    s.write('playbooks/vars.yml', 'v_file: file\nv_task: file\n');
    const { events } = await s.run(
      `
- hosts: all
  vars: { v_play: play, v_file: play }
  vars_files: [vars.yml]
  tasks:
    - set_fact: { v_fact: fact, v_extra: fact }
    - block:
        - name: show
          vars: { v_task: task, v_fact: task }
          debug:
            msg: "{{ v_all }} {{ v_group }} {{ v_host }} {{ v_play }} {{ v_file }} {{ v_task }} {{ v_fact }} {{ v_extra }}"
      vars: { v_task: block }
`,
      { extraVars: { v_extra: 'extra' } },
    );
    expect(events.resultOf('show', 'h')?.msg).toBe('all child host play file task fact extra');
  });

  it('vars are templated lazily and may refer to each other', async () => {
    const s = new Scratch(['h']);
    const { events } = await s.run(`
- hosts: all
  vars:
    port: 9443
    url: "https://{{ inventory_hostname }}:{{ port }}/EWS/Exchange.asmx"
  tasks:
    - name: show
      debug: { msg: "{{ url }}" }
`);
    expect(events.resultOf('show', 'h')?.msg).toBe('https://h:9443/EWS/Exchange.asmx');
  });
});

describe('task keywords', () => {
  it('loop with label, register of results, when per item', async () => {
    const s = new Scratch(['h']);
    const { events } = await s.run(`
- hosts: all
  tasks:
    - name: loop
      shell: echo {{ item.n }}
      loop: [{ n: 1 }, { n: 2 }, { n: 3 }]
      loop_control: { label: "n={{ item.n }}" }
      when: item.n != 2
      register: out
    - name: check
      assert:
        that:
          - out.results | length == 3
          - out.results[0].stdout == '1'
          - out.results[1].skipped
          - out.changed
`);
    const loop = events.resultOf('loop', 'h');
    expect(loop?.items?.map((i) => `${i.label}:${i.status}`)).toEqual([
      'n=1:changed',
      'n=2:skipped',
      'n=3:changed',
    ]);
    expect(events.statusOf('check', 'h')).toBe('ok');
  });

  it('until/retries/delay retries until the condition holds', async () => {
    const s = new Scratch(['h']);
    const { events } = await s.run(`
- hosts: all
  tasks:
    - name: poll
      shell: echo x >> count; wc -l < count
      register: r
      until: r.stdout | int >= 3
      retries: 5
      delay: 0
    - name: check
      assert: { that: ["r.attempts == 3"] }
`);
    expect(events.statusOf('poll', 'h')).toBe('changed');
    expect(events.statusOf('check', 'h')).toBe('ok');
  });

  it('until gives up after retries+1 attempts and fails', async () => {
    const s = new Scratch(['h']);
    const { events } = await s.run(`
- hosts: all
  tasks:
    - name: poll
      command: /bin/true
      register: r
      until: false
      retries: 2
      delay: 0
`);
    const r = events.resultOf('poll', 'h');
    expect(r?.status).toBe('failed');
    expect(r?.msg).toContain('after 3 attempts');
  });

  it('changed_when, failed_when and ignore_errors', async () => {
    const s = new Scratch(['h']);
    const { events, report } = await s.run(`
- hosts: all
  tasks:
    - name: never changed
      command: echo hi
      changed_when: false
    - name: fails on output
      command: echo ERROR
      register: r
      failed_when: "'ERROR' in r.stdout"
      ignore_errors: true
    - name: still running
      debug: { msg: ok }
`);
    expect(events.statusOf('never changed', 'h')).toBe('ok');
    expect(events.resultOf('fails on output', 'h')).toMatchObject({ status: 'failed', ignored: true });
    expect(events.statusOf('still running', 'h')).toBe('ok');
    expect(report.stats.h).toMatchObject({ ignored: 1, failed: 0 });
  });

  it('no_log hides the output but keeps the registered value', async () => {
    const s = new Scratch(['h']);
    const { events, report } = await s.run(`
- hosts: all
  tasks:
    - name: secret
      command: echo s3cr3t-value
      no_log: true
      register: r
    - name: use
      debug: { msg: "{{ r.stdout | length }}" }
`);
    expect(events.resultOf('secret', 'h')?.msg).toMatch(/hidden/);
    expect(JSON.stringify(report)).not.toContain('s3cr3t-value');
    expect(events.resultOf('use', 'h')?.msg).toBe('12');
  });

  it('an undefined variable fails the task naming the variable, the task and file:line', async () => {
    const s = new Scratch(['h']);
    const { events } = await s.run(`
- hosts: all
  tasks:
    - name: uses missing
      debug: { msg: "{{ nope }}" }
`);
    const r = events.resultOf('uses missing', 'h');
    expect(r?.status).toBe('failed');
    expect(r?.msg).toMatch(/nope/);
    expect(r?.msg).toMatch(/uses missing/);
    expect(r?.msg).toMatch(/test\.yml:4:/);
  });
});

describe('handlers', () => {
  it('run once at the end of the play, only when notified by a change', async () => {
    const s = new Scratch(['a', 'b']);
    const { events } = await s.run(`
- hosts: all
  tasks:
    - name: change on a only
      command: echo x
      changed_when: inventory_hostname == 'a'
      notify: restart
    - name: change again
      command: echo y
      changed_when: inventory_hostname == 'a'
      notify: restart
    - name: last task
      debug: { msg: done }
  handlers:
    - name: restart
      shell: echo restarted >> restarts
    - name: unused
      command: /bin/false
`);
    const order = events.events.map((e) => `${e.task}@${e.host}`);
    expect(order.filter((o) => o.startsWith('restart'))).toEqual(['restart@a']);
    expect(order.indexOf('restart@a')).toBeGreaterThan(order.indexOf('last task@a'));
    expect(readFileSync(join(s.hostDir('a'), 'restarts'), 'utf8')).toBe('restarted\n');
    expect(order.some((o) => o.startsWith('unused'))).toBe(false);
  });

  it('do not run on a failed host unless --force-handlers', async () => {
    const playbook = `
- hosts: all
  tasks:
    - name: change
      command: echo x
      notify: h
    - name: then fail
      command: /bin/false
  handlers:
    - name: h
      debug: { msg: handled }
`;
    const plain = await new Scratch(['a']).run(playbook);
    expect(plain.events.statusOf('h', 'a')).toBeUndefined();
    const forced = await new Scratch(['a']).run(playbook, { forceHandlers: true });
    expect(forced.events.statusOf('h', 'a')).toBe('ok');
  });
});

describe('blocks', () => {
  it('rescue catches a failure, always runs, the host goes on and counts as rescued', async () => {
    const s = new Scratch(['h']);
    const { events, report } = await s.run(`
- hosts: all
  tasks:
    - block:
        - name: boom
          command: /bin/false
        - name: not reached
          debug: { msg: x }
      rescue:
        - name: recover
          debug: { msg: recovered }
      always:
        - name: cleanup
          debug: { msg: cleaned }
    - name: after
      debug: { msg: after }
`);
    expect(events.statusOf('not reached', 'h')).toBeUndefined();
    expect(events.statusOf('recover', 'h')).toBe('ok');
    expect(events.statusOf('cleanup', 'h')).toBe('ok');
    expect(events.statusOf('after', 'h')).toBe('ok');
    expect(report.stats.h).toMatchObject({ failed: 0, rescued: 1 });
  });

  it('always runs after an unrescued failure and the host stays failed', async () => {
    const s = new Scratch(['h']);
    const { events, report } = await s.run(`
- hosts: all
  tasks:
    - block:
        - name: boom
          command: /bin/false
      always:
        - name: cleanup
          debug: { msg: cleaned }
    - name: after
      debug: { msg: after }
`);
    expect(events.statusOf('cleanup', 'h')).toBe('ok');
    expect(events.statusOf('after', 'h')).toBeUndefined();
    expect(report.stats.h?.failed).toBe(1);
  });

  it('block when and tags are inherited by the tasks inside', async () => {
    const s = new Scratch(['h']);
    const playbook = `
- hosts: all
  tasks:
    - block:
        - name: inner
          debug: { msg: x }
      when: false
    - block:
        - name: tagged inner
          debug: { msg: y }
      tags: [tls]
    - name: untagged
      debug: { msg: z }
`;
    const all = await s.run(playbook);
    expect(all.events.statusOf('inner', 'h')).toBe('skipped');
    const only = await s.run(playbook, { tags: { only: ['tls'], skip: [] } });
    expect(only.events.events.map((e) => e.task)).toEqual(['tagged inner']);
    const skip = await s.run(playbook, { tags: { only: [], skip: ['tls'] } });
    expect(skip.events.events.map((e) => e.task)).toEqual(['inner', 'untagged']);
  });
});

describe('includes and selection', () => {
  it('include_tasks and import_tasks run the files under tasks/', async () => {
    const s = new Scratch(['h']);
    s.write('tasks/step.yml', '- name: from include\n  debug: { msg: "{{ greeting }}" }\n');
    const { events } = await s.run(`
- hosts: all
  vars: { greeting: hello }
  tasks:
    - import_tasks: step.yml
    - include_tasks: "{{ 'step' }}.yml"
`);
    expect(events.events.filter((e) => e.task === 'from include').map((e) => e.result.msg)).toEqual([
      'hello',
      'hello',
    ]);
  });

  it('--limit and --start-at-task', async () => {
    const s = new Scratch(['a', 'b']);
    const playbook = `
- hosts: all
  tasks:
    - name: one
      debug: { msg: 1 }
    - name: two
      debug: { msg: 2 }
`;
    const limited = await s.run(playbook, { limit: 'b' });
    expect(new Set(limited.events.events.map((e) => e.host))).toEqual(new Set(['b']));
    const started = await s.run(playbook, { startAtTask: 'two' });
    expect(new Set(started.events.events.map((e) => e.task))).toEqual(new Set(['two']));
  });

  it('any_errors_fatal stops the play for every host', async () => {
    const s = new Scratch(['a', 'b']);
    const { events } = await s.run(`
- hosts: all
  any_errors_fatal: true
  tasks:
    - name: fail on a
      command: /bin/false
      when: inventory_hostname == 'a'
    - name: next
      debug: { msg: x }
`);
    expect(events.events.some((e) => e.task === 'next')).toBe(false);
  });

  it('max_fail_percentage stops the play when exceeded', async () => {
    const s = new Scratch(['a', 'b', 'c', 'd']);
    const { events } = await s.run(`
- hosts: all
  max_fail_percentage: 30
  tasks:
    - name: fail on two
      command: /bin/false
      when: inventory_hostname in ['a', 'b']
    - name: next
      debug: { msg: x }
`);
    expect(events.events.some((e) => e.task === 'next')).toBe(false);
  });

  it('serial runs hosts in batches', async () => {
    const s = new Scratch(['a', 'b', 'c']);
    const { events } = await s.run(`
- hosts: all
  serial: 2
  tasks:
    - name: one
      debug: { msg: 1 }
    - name: two
      debug: { msg: 2 }
`);
    expect(events.events.map((e) => `${e.task}@${e.host}`)).toEqual(
      expect.arrayContaining(['one@a', 'one@b', 'two@a', 'two@b', 'one@c', 'two@c']),
    );
    const order = events.events.map((e) => `${e.task}@${e.host}`);
    expect(order.indexOf('one@c')).toBeGreaterThan(order.indexOf('two@a'));
  });
});

describe('task names', () => {
  it('are shown rendered with the variables, and as written when they cannot be rendered yet', async () => {
    const s = new Scratch(['h']);
    const { events } = await s.run(`
- hosts: all
  vars: { mailbox: Ivan.Petrov@corp.example }
  tasks:
    - name: "event in {{ mailbox }}'s calendar"
      debug: { msg: hi }
    - name: "uses {{ later }}"
      debug: { msg: hi }
`);
    expect(events.events.map((e) => e.task)).toEqual([
      "event in Ivan.Petrov@corp.example's calendar",
      'uses {{ later }}',
    ]);
  });
});

describe('check mode', () => {
  it('changes nothing, predicts, and the second real run reports 0 changed', async () => {
    const s = new Scratch(['h']);
    const playbook = `
- hosts: all
  tasks:
    - name: dir
      file: { path: d, state: directory }
    - name: file
      copy: { content: "x\\n", dest: d/f }
    - name: once
      command: touch d/once
      args: { creates: d/once }
    - name: unpredictable
      command: echo maybe
`;
    const check = await s.run(playbook, { check: true });
    expect(existsSync(join(s.hostDir('h'), 'd'))).toBe(false);
    expect(check.events.statusOf('dir', 'h')).toBe('changed');
    expect(check.events.statusOf('unpredictable', 'h')).toBe('skipped');
    const first = await s.run(playbook);
    expect(first.report.stats.h?.changed).toBe(4);
    const second = await s.run(playbook.replace(/ {4}- name: unpredictable\n.*\n/, ''));
    expect(second.report.stats.h?.changed).toBe(0);
  });
});
