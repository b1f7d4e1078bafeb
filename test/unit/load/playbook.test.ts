// The loader's model: normalizations, defaults, includes and imports, positions.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

import type { BlockNode, IncludeNode, TaskNode } from '../../../src/core/model.js';
import { UserError } from '../../../src/core/problems.js';
import { loadPlaybook, loadTaskFile } from '../../../src/load/playbook.js';

const site = resolve(import.meta.dirname, '../../fixtures/load/playbooks/site.yml');

describe('loadPlaybook', () => {
  it('builds the model of a valid playbook', async () => {
    const { plays } = await loadPlaybook(site);
    expect(plays).toHaveLength(1);
    const play = plays[0]!;
    expect(play).toMatchObject({
      name: 'Configure the forwarder',
      hosts: 'web,db',
      become: true,
      serial: '30%',
      vars: { port: 9443 },
      varsFiles: ['vars.yml'],
      tags: ['forwarder', 'tls'],
      anyErrorsFatal: false,
    });
    expect(play.hostsPos).toMatchObject({ line: 3, col: 10 });
    const [copy, command, files, block, templated, fixed] = play.tasks as [
      TaskNode,
      TaskNode,
      TaskNode,
      BlockNode,
      IncludeNode,
      IncludeNode,
    ];
    expect(copy).toMatchObject({
      kind: 'task',
      module: 'copy',
      args: { content: 'port={{ port }}\n', dest: '/etc/fwd.conf', mode: '0644' },
      when: ['port is defined'],
      notify: ['restart forwarder'],
      loopVar: 'item',
      retries: 0,
      delay: 5,
      pos: { line: 12, col: 7 },
      argsPos: { line: 13, col: 7 },
    });
    expect(command).toMatchObject({
      module: 'command',
      args: { cmd: 'touch /var/lib/fwd/init', creates: '/var/lib/fwd/init' },
      register: 'init',
      until: 'init is success',
      retries: 3,
      changedWhen: ['init.rc == 0', 'true'],
    });
    expect(files).toMatchObject({
      loop: ['a', 'b'],
      loopVar: 'entry',
      loopLabel: '{{ entry }}',
      retries: 2,
      delay: 1,
    });
    expect(files.tags).toEqual(['files']);
    expect(block).toMatchObject({ kind: 'block', when: ['true'], becomeUser: 'app' });
    // import_tasks is inlined as a block of the imported tasks.
    const imported = block.block[0] as BlockNode;
    expect(imported.kind).toBe('block');
    expect(imported.block[0]).toMatchObject({
      module: 'shell',
      args: { cmd: 'echo common' },
      checkMode: false,
    });
    expect((imported.block[0] as TaskNode).pos.file).toMatch(/fixtures\/load\/tasks\/common\.yml$/);
    expect(block.always[0]).toMatchObject({ module: 'debug', args: {} });
    expect(templated).toMatchObject({
      kind: 'include',
      file: '{{ step }}.yml',
      loop: ['one', 'two'],
      loopVar: 'item',
    });
    expect(templated.tasks).toBeUndefined();
    expect(fixed.tasks?.[0]).toMatchObject({ module: 'shell' });
    expect(play.handlers[0]).toMatchObject({ name: 'restart forwarder', listen: ['forwarder changed'] });
  });

  it('throws one UserError with every problem, sorted by line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ewsplay-load-'));
    const file = join(dir, 'bad.yml');
    writeFileSync(
      file,
      [
        '- hosts: all',
        '  tasks:',
        '    - cpy: { dest: /a }',
        '    - debug: { msg: a }',
        '      notify: x',
        '',
      ].join('\n'),
    );
    const error = await loadPlaybook(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).problems.map((p) => `${p.line}:${p.col} ${p.message}`)).toEqual([
      "3:7 unknown module 'cpy'",
      "5:15 notify names no handler: 'x'",
    ]);
  });

  it('names what to use instead of Ansible modules and keywords ewsplay does not have', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ewsplay-load-'));
    const file = join(dir, 'ansible.yml');
    writeFileSync(
      file,
      [
        '- hosts: all',
        '  tasks:',
        '    - apt: name=nginx',
        '    - ansible.builtin.cron: name=x',
        '    - community.general.ufw: rule=allow',
        '    - ansible.windows.win_service: name=x',
        '    - ping:',
        '      ignore_unreachable: true',
        '    - shel: echo typo',
        '',
      ].join('\n'),
    );
    const error = await loadPlaybook(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    const shown = (error as UserError).problems.map((p) => `${p.line} ${p.message} | ${p.hint}`);
    expect(shown).toHaveLength(6);
    expect(shown[0]).toMatch(
      /^3 unknown module 'apt' \| ewsplay's package module installs a \.deb or \.rpm file/,
    );
    expect(shown[1]).toMatch(
      /^4 unknown module 'ansible\.builtin\.cron' \| ewsplay has no 'cron' module: run the tool with command or shell/,
    );
    expect(shown[2]).toMatch(/^5 unknown module 'community\.general\.ufw' \| ewsplay has no 'ufw' module/);
    expect(shown[3]).toMatch(/^6 unknown module 'ansible\.windows\.win_service' \| .*the powershell module/);
    expect(shown[4]).toMatch(/^8 unknown task keyword 'ignore_unreachable' \| not supported: /);
    expect(shown[5]).toBe("9 unknown module 'shel' | did you mean 'shell'?");
  });
});

describe('task lists inside module args', () => {
  it("loads manual's verify: as tasks and checks them like any tasks", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ewsplay-load-'));
    const ok = join(dir, 'ok.yml');
    writeFileSync(
      ok,
      ['- manual:', '    instructions: Do it', '    verify:', '      - stat: { path: /x }', ''].join('\n'),
    );
    const [task] = await loadTaskFile(ok);
    expect((task as TaskNode).args.verify).toMatchObject([
      { kind: 'task', module: 'stat', args: { path: '/x' } },
    ]);
    const bad = join(dir, 'bad.yml');
    writeFileSync(
      bad,
      ['- manual:', '    instructions: Do it', '    verify:', '      - stat: { pth: /x }', ''].join('\n'),
    );
    const error = (await loadTaskFile(bad).catch((e: unknown) => e)) as UserError;
    expect(error.problems.map((p) => `${p.line}:${p.col} ${p.message}`)).toEqual([
      "4:17 unknown argument 'pth' for module 'stat'",
    ]);
  });
});

describe('loadTaskFile', () => {
  it('loads a task file on its own, resolving includes beside it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ewsplay-load-'));
    writeFileSync(join(dir, 'inner.yml'), '- debug: { msg: inner }\n');
    writeFileSync(join(dir, 'outer.yml'), '- import_tasks: inner.yml\n  tags: t\n');
    const [node] = await loadTaskFile(join(dir, 'outer.yml'));
    expect(node).toMatchObject({
      kind: 'block',
      tags: ['t'],
      block: [{ module: 'debug', args: { msg: 'inner' } }],
    });
  });

  it('takes an empty task file as no tasks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ewsplay-load-'));
    writeFileSync(join(dir, 'empty.yml'), '# nothing yet\n');
    expect(await loadTaskFile(join(dir, 'empty.yml'))).toEqual([]);
  });
});

describe("Ansible's short form of arguments", () => {
  it('takes only the command options out of a command line; other free-form modules take every key=value', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ewsplay-load-'));
    writeFileSync(
      join(dir, 'short.yml'),
      [
        '- shell: FOO=bar ./configure --prefix=/opt creates=Makefile chdir=/src',
        '- raw: FOO=bar ./run executable=/bin/sh',
        '- include_vars: vars/app.yml name=app',
        '- file: path=/opt/app state=directory mode=0755',
        '- debug: msg="hello {{ who }}" verbosity=1',
        '',
      ].join('\n'),
    );
    const tasks = (await loadTaskFile(join(dir, 'short.yml'))) as TaskNode[];
    expect(tasks.map((t) => t.args)).toEqual([
      { cmd: 'FOO=bar ./configure --prefix=/opt', creates: 'Makefile', chdir: '/src' },
      { free_form: 'FOO=bar ./run', executable: '/bin/sh' },
      { file: 'vars/app.yml', name: 'app' },
      { path: '/opt/app', state: 'directory', mode: '0755' },
      { msg: 'hello {{ who }}', verbosity: 1 },
    ]);
  });
});
