// The bad-input corpus: every case is a few files and a command line, with what ewsplay must answer: the
// exit code, the file:line (where a file is at fault) and a word of the message. In args and files, `{d}`
// is the case's directory. Playbook cases are run through `validate` and `run` alike (run must refuse what
// validate refuses, before any host is touched); inventory cases through `inventory` and `validate`.
import { BLOCK_KEYWORDS, PLAY_KEYWORDS, TASK_KEYWORDS } from '../../src/load/keywords.js';

export interface BadInput {
  name: string;
  files: Record<string, string | Buffer>;
  /** One or more command lines, each must give the same answer. */
  commands: string[][];
  exit: number;
  /** 'file:line' or 'file:line:col' relative to the case's directory, where a file is at fault. */
  at?: string;
  message: RegExp;
}

export const LOCAL_INVENTORY = 'all:\n  hosts:\n    localhost:\n      ansible_connection: local\n';
const PLAY = '- hosts: all\n  gather_facts: false\n';
const play = (body: string) => `${PLAY}${body}`;
const tasks = (...lines: string[]) => play(`  tasks:\n${lines.map((l) => `    ${l}`).join('\n')}\n`);

const cases: BadInput[] = [];

/** A playbook the loader must refuse: `validate` and `run` both exit 2 at the same place. */
function playbook(
  name: string,
  text: string | Buffer,
  at: string | undefined,
  message: RegExp,
  extra: Record<string, string> = {},
) {
  cases.push({
    name: `playbook: ${name}`,
    files: { 'p.yml': text, ...extra },
    commands: [
      ['validate', '{d}/p.yml', '-i', '{d}/inv.yml'],
      ['run', '{d}/p.yml', '-i', '{d}/inv.yml'],
    ],
    exit: 2,
    ...(at ? { at } : {}),
    message,
  });
}

/** A playbook that must work (exit 0) where it once failed. */
function works(name: string, text: string | Buffer, extra: Record<string, string> = {}) {
  cases.push({
    name: `works: ${name}`,
    files: { 'p.yml': text, ...extra },
    commands: [['run', '{d}/p.yml', '-i', '{d}/inv.yml']],
    exit: 0,
    message: /ok=/,
  });
}

/** A run that loads but fails on the host at run time (exit 3), the task's file:line:col in the message. */
function fails(name: string, text: string, message: RegExp, extra: Record<string, string> = {}) {
  cases.push({
    name: `run time: ${name}`,
    files: { 'p.yml': text, ...extra },
    commands: [['run', '{d}/p.yml', '-i', '{d}/inv.yml']],
    exit: 3,
    at: 'p.yml:4:7',
    message,
  });
}

/** An inventory file `inventory` and `validate` must both refuse. */
function inventory(
  name: string,
  file: string,
  text: string | Buffer,
  at: string | undefined,
  message: RegExp,
  extra: Record<string, string> = {},
) {
  cases.push({
    name: `inventory ${file.endsWith('.ini') ? 'INI' : 'YAML'}: ${name}`,
    files: { [file]: text, 'p.yml': tasks('- debug: msg=hi'), ...extra },
    commands: [
      ['inventory', '-i', `{d}/${file}`, '--list'],
      ['validate', '{d}/p.yml', '-i', `{d}/${file}`],
    ],
    exit: 2,
    ...(at ? { at } : {}),
    message,
  });
}

/** Connection settings `inventory` shows as written (as ansible-inventory does); validate and run refuse. */
function connection(name: string, file: string, text: string, at: string, message: RegExp) {
  cases.push({
    name: `inventory ${file.endsWith('.ini') ? 'INI' : 'YAML'}: ${name}`,
    files: { [file]: text, 'p.yml': tasks('- debug: msg=hi') },
    commands: [
      ['validate', '{d}/p.yml', '-i', `{d}/${file}`],
      ['run', '{d}/p.yml', '-i', `{d}/${file}`],
    ],
    exit: 2,
    at,
    message,
  });
}

function cli(
  name: string,
  args: string[],
  message: RegExp,
  files: Record<string, string | Buffer> = {},
  exit = 2,
) {
  cases.push({
    name: `command line: ${name}`,
    files: { 'p.yml': tasks('- name: first', '  debug: msg=hi'), ...files },
    commands: [args],
    exit,
    message,
  });
}

/** A damaged state file: `status` and `status --json` refuse it at the field. */
function state(name: string, json: string, at: string | undefined, message: RegExp) {
  cases.push({
    name: `state file: ${name}`,
    files: { '.ewsplay/state/site1.json': json },
    commands: [['status'], ['status', '--json']],
    exit: 2,
    ...(at ? { at } : {}),
    message,
  });
}

// --- YAML edge cases -------------------------------------------------------------------------------------
playbook('unresolved alias', tasks('- debug:', '    msg: *nope'), 'p.yml:5:14', /unknown alias '\*nope'/);
playbook(
  'alias before its anchor',
  tasks('- debug: { msg: *later }', '- debug: { msg: &later hi }'),
  'p.yml:4:21',
  /unknown alias/,
);
playbook(
  'merge key of a scalar',
  play('  vars:\n    s: &s hello\n    m:\n      <<: *s\n  tasks: []\n'),
  'p.yml:6:11',
  /merge key '<<' takes a mapping.*string 'hello'/,
);
playbook(
  'merge key of a list of scalars',
  play('  vars:\n    a: &a [1, 2]\n    m:\n      <<: *a\n  tasks: []\n'),
  'p.yml:6:11',
  /merge key '<<' takes a mapping/,
);
playbook(
  'merge key of a scalar in a list',
  play('  vars:\n    a: &a {x: 1}\n    m:\n      <<: [*a, 5]\n  tasks: []\n'),
  'p.yml:6:16',
  /merge key '<<'.*number 5/,
);
playbook(
  'merge key of nothing',
  play('  vars:\n    m:\n      <<:\n      x: 1\n  tasks: []\n'),
  'p.yml:5:10',
  /merge key '<<'.*got null/,
);
playbook(
  'alias inside its own anchor',
  play('  vars:\n    a: &a [1, *a]\n  tasks: []\n'),
  'p.yml:4:15',
  /inside the value its anchor names/,
);
const bomb = [
  '    a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...'bcdefghi'.split('').map((c, i) => `    ${c}: &${c} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`),
].join('\n');
playbook(
  'alias bomb in play vars',
  play(`  vars:\n${bomb}\n  tasks: []\n`),
  'p.yml:9',
  /aliases here expand to more than 100,000 values/,
);
playbook(
  'alias bomb in task args',
  tasks('- debug:', `    msg: {${bomb.replace(/\n\s*/g, ', ').replace(/^\s*/, '')}}`),
  'p.yml:5',
  /expand to more than 100,000/,
);
playbook(
  'alias bomb in a vars file',
  play('  vars_files: [bomb.yml]\n  tasks: []\n'),
  'bomb.yml:6',
  /expand to more than 100,000/,
  { 'bomb.yml': bomb.replace(/^ {4}/gm, '') },
);
playbook(
  'nesting 1,200 levels deep',
  play(`  vars:\n    deep: ${'['.repeat(1200)}${']'.repeat(1200)}\n  tasks: []\n`),
  'p.yml:4',
  /nested (more than 1000 levels|too deeply)/,
);
playbook('tab indentation', `${PLAY}  tasks:\n\t- debug: msg=hi\n`, 'p.yml:4:1', /tab|indent/i);
playbook(
  'unclosed double quote',
  tasks('- debug:', '    msg: "hello'),
  'p.yml:5:14',
  /quote is never closed/,
);
playbook('unclosed single quote', tasks("- debug: { msg: 'hello }"), 'p.yml:4:21', /quote is never closed/);
playbook('unclosed flow sequence', tasks('- debug: { msg: [1, 2 }'), 'p.yml:4', /YAML syntax error/);
playbook(
  'duplicate task key',
  tasks('- debug: msg=a', '  debug: msg=b'),
  'p.yml:5:7',
  /duplicate key 'debug'/,
);
playbook('duplicate play key', `${PLAY}  hosts: web\n  tasks: []\n`, 'p.yml:3:3', /duplicate key 'hosts'/);
playbook(
  'two documents',
  `${tasks('- debug: msg=a')}---\n${tasks('- debug: msg=b')}`,
  'p.yml:5',
  /more than one YAML document/,
);
playbook('unknown tag', tasks('- debug: { msg: !foo bar }'), 'p.yml:4:21', /unknown YAML tag '!foo'/);
playbook(
  '!vault in a playbook',
  tasks('- debug:', '    msg: !vault |', '      $ANSIBLE_VAULT;1.1;AES256', '      6162'),
  'p.yml:5:14',
  /!vault values are read from vars files/,
);
playbook('empty file', '', 'p.yml:1:1', /the playbook is empty/);
playbook('comments only', '# nothing here\n# at all\n', 'p.yml', /the playbook is empty/);
playbook('a scalar', 'hello\n', 'p.yml:1:1', /a playbook must be a list of plays, got/);
playbook('a mapping', 'hosts: all\ntasks: []\n', 'p.yml:1:1', /must be a list of plays/);
playbook('a list of scalars', '- 1\n- 2\n', 'p.yml:1:3', /a play must be a mapping/);
playbook(
  'binary garbage',
  Buffer.from([0, 1, 2, 255, 254, 0, 10, 0x1b, 0x5b]),
  'p.yml:1',
  /YAML syntax error|must be a list|unexpected/i,
);
playbook(
  'an unknown escape in a double-quoted string',
  tasks('- debug: { msg: "a\\qb" }'),
  'p.yml:4',
  /YAML syntax error/i,
);
playbook(
  'complex mapping key',
  tasks('- ? [debug]', '  : msg=hi'),
  'p.yml:4:9',
  /task key must be a plain name/,
);
playbook(
  'CRLF and an unclosed quote',
  tasks('- debug:', '    msg: "x').replace(/\n/g, '\r\n'),
  'p.yml:5:14',
  /quote is never closed/,
);
playbook(
  'BOM and a syntax error on line 2',
  Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${PLAY}  tasks: [\n`)]),
  'p.yml:4:1',
  /YAML syntax error/,
);
playbook(
  'a key with no value in the task list',
  tasks('- debug: msg=hi', '- '),
  'p.yml:5:7',
  /a task must be a mapping/,
);
playbook(
  'anchor on a whole task list reused as a play',
  `${tasks('- debug: msg=hi')}- *x\n`,
  'p.yml:5:3',
  /unknown alias '\*x'/,
);
cli('a playbook that is a directory', ['validate', '{d}/dir'], /it is a directory/, { 'dir/keep': '' });
playbook(
  '11 MiB playbook',
  `${PLAY}  tasks: []\n# ${'x'.repeat(11 * 1024 * 1024)}\n`,
  'p.yml:1:1',
  /over the limit of 10 MiB/,
);
playbook(
  '300,000 lines',
  `${PLAY}  tasks:\n${'    - debug: msg=hi\n'.repeat(300_000)}`,
  'p.yml:83335',
  /more than 250,000 values or lines/,
);
playbook(
  'a flow list of a million numbers',
  play(`  vars:\n    x: [${'1,'.repeat(1_000_000)}1]\n  tasks: []\n`),
  'p.yml:4',
  /more than 250,000 values/,
);

works(
  'a playbook starting with a UTF-8 byte order mark',
  Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(tasks('- debug: msg=hi'))]),
);
works(
  'merge keys in a task (as Ansible reads them)',
  tasks('- &defaults', '  name: first', '  debug: msg=hi', '- <<: *defaults', '  name: second'),
);
works(
  'merge keys in play vars, explicit keys winning',
  play(
    '  vars:\n    base: &base {a: 1, b: 2}\n    mine:\n      <<: *base\n      b: 3\n  tasks:\n    - assert: { that: ["mine.a == 1", "mine.b == 3"] }\n',
  ),
);
works(
  'a list of merge keys, the first winning',
  play(
    '  vars:\n    x: &x {a: 1}\n    y: &y {a: 2, b: 2}\n    z:\n      <<: [*x, *y]\n  tasks:\n    - assert: { that: ["z.a == 1", "z.b == 2"] }\n',
  ),
);
works(
  'an anchor reused 300 times',
  play(
    `  vars:\n    d: &d {a: 1}\n    l: [${Array(300).fill('*d').join(', ')}]\n  tasks:\n    - assert: { that: ["l | length == 300"] }\n`,
  ),
);
works(
  'a vars file with a byte order mark',
  play('  vars_files: [v.yml]\n  tasks:\n    - assert: { that: ["x == 1"] }\n'),
  { 'v.yml': '\uFEFFx: 1\n' },
);

// --- Wrong types in every keyword ------------------------------------------------------------------------
const MAPPING_KEYWORDS = new Set(['vars', 'args', 'environment', 'loop_control']);
const SECTIONS = new Set(['hosts', 'gather_facts', 'tasks', 'pre_tasks', 'post_tasks', 'handlers', 'roles']);
for (const key of Object.keys(TASK_KEYWORDS)) {
  const wrong = MAPPING_KEYWORDS.has(key) ? '[1, 2]' : '{wrong: {type: 1}}';
  playbook(
    `task keyword '${key}' of a wrong type`,
    tasks('- debug: msg=hi', `  ${key}: ${wrong}`),
    'p.yml:5',
    new RegExp(`'${key}|unknown (key|argument)`),
  );
}
for (const key of Object.keys(BLOCK_KEYWORDS).filter((k) => !(k in TASK_KEYWORDS))) {
  playbook(
    `block keyword '${key}' of a wrong type`,
    tasks('- block: [{ debug: msg=hi }]', `  ${key}: {wrong: 1}`),
    'p.yml:5',
    new RegExp(`'${key}'`),
  );
}
for (const key of Object.keys(PLAY_KEYWORDS).filter((k) => !SECTIONS.has(k))) {
  const wrong = MAPPING_KEYWORDS.has(key) ? '[1, 2]' : '{wrong: {type: 1}}';
  playbook(
    `play keyword '${key}' of a wrong type`,
    `${PLAY}  tasks: []\n  ${key}: ${wrong}\n`,
    'p.yml:4',
    new RegExp(`'${key}`),
  );
}
for (const key of ['tasks', 'pre_tasks', 'post_tasks', 'handlers', 'roles']) {
  playbook(
    `play section '${key}' of a wrong type`,
    `- hosts: all\n  gather_facts: false\n  ${key}: {wrong: 1}\n`,
    'p.yml:3',
    new RegExp(`'${key}' must be a list`),
  );
}
playbook("play keyword 'hosts' of a wrong type", '- hosts: {a: 1}\n  tasks: []\n', 'p.yml:1', /'hosts'/);
playbook(
  "play keyword 'gather_facts' of a wrong type",
  '- hosts: all\n  gather_facts: [1]\n  tasks: []\n',
  'p.yml:2',
  /'gather_facts'/,
);
playbook(
  'module arguments of a wrong type',
  tasks('- copy: { content: [1], dest: 5 }'),
  'p.yml:4',
  /content|dest/,
);
playbook('a task that is a string', tasks('- just a string'), 'p.yml:4:7', /a task must be a mapping/);
playbook(
  'a task with two modules',
  tasks('- debug: msg=a', '  command: echo'),
  'p.yml:5:7',
  /two module keys/,
);
playbook('a task with no module', tasks('- name: nothing'), 'p.yml:4:7', /names no module/);
playbook('an unknown module', tasks('- debgu: msg=hi'), 'p.yml:4:7', /unknown module 'debgu'/);
playbook(
  'loop and with_items together',
  tasks('- debug: msg=hi', '  loop: [1]', '  with_items: [2]'),
  'p.yml:6',
  /loop|with_items/,
);
playbook(
  'vars_files naming a directory',
  play('  vars_files: [/etc]\n  tasks: []\n'),
  'p.yml:3:16',
  /vars file '\/etc' cannot be read: it is a directory/,
);
playbook(
  'vars_files naming a missing file',
  play('  vars_files: [missing.yml]\n  tasks: []\n'),
  'p.yml:3:16',
  /vars file 'missing.yml' not found/,
);
playbook(
  'vars_files naming a device',
  play('  vars_files: /dev/zero\n  tasks: []\n'),
  'p.yml:3:15',
  /not a regular file/,
);
playbook(
  'a vars file that is a list',
  play('  vars_files: [v.yml]\n  tasks: []\n'),
  'v.yml:1:1',
  /a vars file must be a mapping/,
  { 'v.yml': '- 1\n- 2\n' },
);
playbook(
  'a vars file with a syntax error',
  play('  vars_files: [v.yml]\n  tasks: []\n'),
  'v.yml:2',
  /YAML syntax error/,
  { 'v.yml': 'a: "x\n' },
);
playbook(
  'a vars file with an unresolved alias',
  play('  vars_files: [v.yml]\n  tasks: []\n'),
  'v.yml:1:4',
  /unknown alias/,
  { 'v.yml': 'a: *b\n' },
);
playbook(
  'template src that does not exist',
  tasks('- template: src=nowhere.j2 dest=/tmp/x'),
  'p.yml:4:7',
  /template source 'nowhere.j2' not found/,
);
playbook('include_tasks of a missing file', tasks('- include_tasks: nowhere.yml'), 'p.yml:4', /not found/);
playbook('import_playbook of itself', '- import_playbook: p.yml\n', 'p.yml:1', /cycle/);

// --- Jinja errors (found by validate and run alike) -------------------------------------------------------
const jinja: [string, string, RegExp][] = [
  ['unclosed expression', '{{ x', /expected '}}'/],
  ['unclosed block tag', '{% if x', /expected '%}'/],
  ['if without endif', '{% if x %}y', /endif/],
  ['for without endfor', '{% for a in b %}y', /end of file/],
  ['stray endfor', '{% endfor %}', /unknown block tag: endfor/],
  ['empty expression', '{{ }}', /unexpected/],
  ['a filter and then nothing', '{{ x | }}', /expected symbol/],
  [
    'a template ending inside a filter call',
    '{{ x | default(',
    /ends before its tag or expression is complete/,
  ],
  ['a template ending after {%', '{%', /ends before its tag or expression is complete/],
  ['an unclosed mapping literal', '{{ {', /ends before its tag or expression is complete/],
  ['an unclosed parenthesis', '{{ (', /ends before its tag or expression is complete/],
  ['a dangling attribute dot', '{{ a.b.', /ends before|expected name/],
  ['an unknown filter', '{{ x | nosuchfilter }}', /no filter named 'nosuchfilter'/],
  ['an unknown test', '{{ x is nosuchtest }}', /no test named 'nosuchtest'/],
  ['an unknown lookup', "{{ lookup('nosuch', 'x') }}", /no lookup named 'nosuch'/],
  ['include of another template', "{% include 'x.j2' %}", /\{% include %\} is not supported/],
  ['import of another template', "{% import 'x.j2' as y %}", /\{% import %\} is not supported/],
  ['extends', "{% extends 'x.j2' %}", /\{% extends %\} is not supported/],
  ['a missing comma between arguments', "{{ x | default('a' 'b' 3) }}", /comma|unexpected/],
  ['else twice', '{% if x %}a{% else %}b{% else %}c{% endif %}', /else/],
  ['set with nothing', '{% set %}', /unexpected/],
  ['a for loop without in', '{% for a b %}{% endfor %}', /in/],
];
for (const [name, template, message] of jinja)
  playbook(
    `Jinja: ${name}`,
    tasks('- debug:', `    msg: ${JSON.stringify(template)}`),
    'p.yml:5:14',
    message,
  );
playbook(
  'Jinja: a bad when condition',
  tasks('- debug: msg=hi', '  when: x ==='),
  'p.yml:5:13',
  /template|unexpected/,
);
playbook(
  'Jinja: a bad loop template',
  tasks('- debug: msg=hi', '  loop: "{{ [1, 2 }}"'),
  'p.yml:5:13',
  /template syntax error/,
);

// --- Run time: failures on the host name the task's file:line:col ---------------------------------------
fails(
  'loop of a number',
  tasks('- debug: msg={{ item }}', '  loop: "{{ 5 }}"'),
  /loop must be a list, got number: 5 \(in the debug task at .*p\.yml:4:7\)/,
);
fails(
  'loop of a mapping',
  tasks('- debug: msg={{ item }}', '  loop: "{{ {\'a\': 1} }}"'),
  /loop must be a list, got mapping/,
);
fails(
  'loop over more than 100,000 items',
  tasks('- debug: msg={{ item }}', '  loop: "{{ range(200000) | list }}"'),
  /over the limit of 100,000 items per task/,
);
fails(
  'range() over its bound',
  tasks('- debug: msg="{{ range(200000000) | list }}"'),
  /over the limit of 1000000/,
);
fails(
  'nested loops over the step bound',
  tasks('- debug: msg="{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}"'),
  /more than 2,500,000 steps/,
);
fails('a string repeated past the bound', tasks('- debug: msg="{{ \'ab\' * 100000000 }}"'), /over the limit/);
fails(
  'center() wider than the bound',
  tasks('- debug: msg="{{ \'x\' | center(1000000000) }}"'),
  /center: a width of 1,000,000,000 is over the limit/,
);
fails(
  'product() with a huge repeat',
  tasks('- debug: msg="{{ [1, 2, 3, 4] | product(repeat=20) | list | length }}"'),
  /product: 1,099,511,627,776 combinations are over the limit/,
);
fails(
  'product() of large lists',
  tasks('- debug: msg="{{ range(2000) | product(range(2000)) | list | length }}"'),
  /4,000,000 combinations are over the limit/,
);
fails(
  'a template output over 16 Mi characters',
  tasks(
    '- debug: msg="{% for i in range(300) %}{{ big }}{% endfor %}"',
    '  vars: { big: "{{ \'x\' * 100000 }}" }',
  ),
  /over the limit of 16,777,216/,
);
fails(
  'literal text repeated past the output bound',
  tasks(`- debug: msg="{% for i in range(200000) %}${'y'.repeat(100)}{% endfor %}"`),
  /over the limit of 16,777,216/,
);
fails(
  'a template file ending mid-expression',
  tasks('- template: src=t.j2 dest={d}/out.txt'),
  /ends before its tag or expression is complete.*template task at .*p\.yml:4:7/,
  { 't.j2': 'hello {{ name |\n' },
);
fails(
  'a template file with an unknown filter',
  tasks('- template: src=t.j2 dest={d}/out.txt'),
  /filter not found: nosuch/,
  { 't.j2': '{{ 1 | nosuch }}\n' },
);
fails(
  'a template file with an include',
  tasks('- template: src=t.j2 dest={d}/out.txt'),
  /\{% include %\} is not supported/,
  { 't.j2': "{% include 'other.j2' %}\n" },
);

// --- Inventories: YAML ------------------------------------------------------------------------------------
inventory(
  'host range of 100 million hosts',
  'h.yml',
  'all:\n  hosts:\n    web[1:100000000]:\n',
  'h.yml:3:5',
  /names 100,000,000 hosts, over the limit of 100,000/,
);
inventory(
  'two nested ranges over the bound',
  'h.yml',
  'all:\n  hosts:\n    web[1:1000]-[1:1000]:\n',
  'h.yml:3:5',
  /names 1,000,000 hosts/,
);
inventory(
  'range with unequal widths',
  'h.yml',
  'all:\n  hosts:\n    web[01:100]:\n',
  'h.yml:3:5',
  /equal-length/,
);
inventory(
  'range with a zero step',
  'h.yml',
  'all:\n  hosts:\n    web[1:9:0]:\n',
  'h.yml:3:5',
  /bad host range step/,
);
inventory('range letters backwards', 'h.yml', 'all:\n  hosts:\n    db-[z:a]:\n', 'h.yml:3:5', /begin <= end/);
inventory(
  'range of mixed kinds',
  'h.yml',
  'all:\n  hosts:\n    db-[a:9]:\n',
  'h.yml:3:5',
  /numbers or single letters/,
);
inventory(
  'an unresolved alias',
  'h.yml',
  'all:\n  hosts:\n    web1: *nope\n',
  'h.yml:3:11',
  /unknown alias '\*nope'/,
);
inventory(
  'an alias bomb in host vars',
  'h.yml',
  `all:\n  vars:\n${bomb.replace(/^ {4}/gm, '    ')}\n  hosts:\n    web1:\n`,
  'h.yml:8',
  /expand to more than 100,000/,
);
inventory(
  'a merge key of a scalar',
  'h.yml',
  'all:\n  vars:\n    s: &s x\n  hosts:\n    web1:\n      <<: *s\n',
  'h.yml:6:11',
  /merge key '<<'/,
);
inventory(
  'hosts as a list',
  'h.yml',
  'all:\n  hosts:\n    - web1\n',
  'h.yml:3:5',
  /must be a mapping, not a list/,
);
inventory(
  'a duplicate host',
  'h.yml',
  'all:\n  hosts:\n    web1:\n    web1:\n',
  'h.yml:4:5',
  /duplicate key 'web1'/,
);
inventory(
  'a group cycle',
  'h.yml',
  'all:\n  children:\n    a:\n      children:\n        b:\n          children:\n            a:\n',
  'h.yml',
  /cycle/,
);
connection(
  'a port that is not a number',
  'h.yml',
  'all:\n  hosts:\n    web1:\n      ansible_port: twenty-two\n',
  'h.yml:4:7',
  /ansible_port must be a number from 1 to 65535, not 'twenty-two'/,
);
connection(
  'a port out of range',
  'h.yml',
  'all:\n  hosts:\n    web1:\n      ansible_port: 70000\n',
  'h.yml:4:7',
  /ansible_port must be a number/,
);
connection(
  'an empty ansible_host',
  'h.yml',
  'all:\n  hosts:\n    web1:\n      ansible_host: ""\n',
  'h.yml:4:7',
  /ansible_host of host 'web1' is empty/,
);
connection(
  'a blank ansible_ssh_host',
  'h.yml',
  'all:\n  hosts:\n    web1:\n      ansible_ssh_host: "  "\n',
  'h.yml:4:7',
  /ansible_ssh_host of host 'web1' is empty/,
);
connection(
  'an unknown connection',
  'h.yml',
  'all:\n  hosts:\n    web1:\n      ansible_connection: telnet\n',
  'h.yml:4:7',
  /unknown connection 'telnet'/,
);
connection(
  'an unknown shell type',
  'h.yml',
  'all:\n  hosts:\n    web1:\n      ansible_shell_type: zsh2\n',
  'h.yml:4:7',
  /unknown shell type/,
);
connection(
  'ansible_host of a list',
  'h.yml',
  'all:\n  hosts:\n    web1:\n      ansible_host: [a, b]\n',
  'h.yml:4:7',
  /ansible_host must be a string/,
);
inventory(
  'a priority that is not a number',
  'h.yml',
  'all:\n  children:\n    web:\n      vars: { ansible_group_priority: high }\n',
  'h.yml:4',
  /ansible_group_priority must be an integer/,
);
inventory('a syntax error', 'h.yml', 'all:\n  hosts:\n    web1: {a: 1\n', 'h.yml', /YAML syntax error/);
inventory(
  'a vars file that is a list',
  'h.yml',
  'all:\n  hosts:\n    web1:\n',
  'group_vars/all.yml:1:1',
  /vars file must be a mapping/,
  { 'group_vars/all.yml': '- 1\n' },
);
inventory(
  'a vars file with an alias bomb',
  'h.yml',
  'all:\n  hosts:\n    web1:\n',
  'host_vars/web1.yml:6',
  /expand to more than 100,000/,
  { 'host_vars/web1.yml': bomb.replace(/^ {4}/gm, '') },
);
inventory(
  'plugin configuration',
  'h.yml',
  'plugin: aws_ec2\n',
  'h.yml:1:1',
  /plugin configuration files are not supported/,
);
inventory(
  'over 100,000 hosts in all',
  'h.yml',
  'all:\n  children:\n    a:\n      hosts:\n        a[1:60000]:\n    b:\n      hosts:\n        b[1:60000]:\n',
  'h.yml:8:9',
  /more than 100,000 hosts/,
);

// --- Inventories: INI -------------------------------------------------------------------------------------
inventory(
  'host range of 100 million hosts',
  'h.ini',
  '[web]\nweb[1:100000000]\n',
  'h.ini:2:1',
  /over the limit of 100,000/,
);
inventory('an unclosed range', 'h.ini', '[web]\nweb[1:3\n', 'h.ini:2:1', /host range|host/);
inventory('a range with a zero step', 'h.ini', '[web]\nweb[1:9:0]\n', 'h.ini:2:1', /bad host range step/);
inventory(
  'a variable that is not key=value',
  'h.ini',
  '[web]\nweb1 ansible_port=22 primary\n',
  'h.ini:2',
  /expected key=value host variable/,
);
connection(
  'a port that is not a number',
  'h.ini',
  '[web]\nweb1 ansible_port=twenty-two\n',
  'h.ini:2',
  /ansible_port must be a number from 1 to 65535, not 'twenty-two'/,
);
connection(
  'an empty ansible_host',
  'h.ini',
  '[web]\nweb1 ansible_host=""\n',
  'h.ini:2',
  /ansible_host of host 'web1' is empty/,
);
inventory(
  'vars of an undeclared group',
  'h.ini',
  '[web]\nweb1\n[db:vars]\nx=1\n',
  'h.ini:3',
  /never declared/,
);
inventory(
  'children of an undeclared group',
  'h.ini',
  '[web:children]\ndb\n',
  'h.ini',
  /group|children|declared/,
);
inventory('a vars line without =', 'h.ini', '[web]\nweb1\n[web:vars]\njustaword\n', 'h.ini:4', /=/);
inventory(
  'an unresolved alias in group_vars',
  'h.ini',
  '[web]\nweb1\n',
  'group_vars/web.yml:1:4',
  /unknown alias/,
  { 'group_vars/web.yml': 'a: *nope\n' },
);
inventory(
  'over 100,000 hosts in all',
  'h.ini',
  `[a]\na[1:60000]\n[b]\nb[1:60000]\n`,
  'h.ini:4:1',
  /more than 100,000 hosts/,
);
connection(
  'an unknown connection',
  'h.ini',
  '[web]\nweb1 ansible_connection=telnet\n',
  'h.ini:2',
  /unknown connection 'telnet'/,
);

// --- Command lines ----------------------------------------------------------------------------------------
const RUN = ['run', '{d}/p.yml', '-i', '{d}/inv.yml'];
cli('--limit with a bad regex', [...RUN, '--limit', '~['], /invalid host pattern '~\['/);
cli('--limit with an invalid regex', [...RUN, '--limit', '~(unclosed'], /invalid host list pattern/);
cli('--limit matching no host', [...RUN, '--limit', 'nomatch'], /--limit 'nomatch' matches no host/);
cli('--limit of an excluded everything', [...RUN, '--limit', 'all:!localhost'], /matches no host/);
cli(
  '--limit subscript out of range',
  [...RUN, '--limit', 'all[5]'],
  /no hosts matched the subscripted pattern/,
);
cli('--limit @file that is missing', [...RUN, '--limit', '@{d}/nolimit'], /unable to find limit file/);
cli('--limit @file that is a device', [...RUN, '--limit', '@/dev/zero'], /must be a file|not a regular file/);
cli(
  '--start-at-task naming no task',
  [...RUN, '--start-at-task', 'no such task'],
  /no task is named 'no such task'/,
);
cli('--start-at-task with a typo', [...RUN, '--start-at-task', 'frist'], /did you mean 'first'/);
cli(
  '--vault-password-file that does not exist',
  [...RUN, '--vault-password-file', '{d}/nope'],
  /--vault-password-file .*no such file/,
);
cli(
  '--vault-password-file that is a directory',
  [...RUN, '--vault-password-file', '{d}'],
  /it is a directory/,
);
cli(
  'validate --vault-password-file that does not exist',
  ['validate', '{d}/p.yml', '--vault-password-file', '{d}/nope'],
  /no such file/,
);
cli(
  'inventory --vault-password-file that does not exist',
  ['inventory', '-i', '{d}/inv.yml', '--list', '--vault-password-file', '{d}/nope'],
  /no such file/,
);
cli(
  '--known-hosts that is a directory',
  [...RUN, '--known-hosts', '{d}'],
  /--known-hosts .*it is a directory/,
);
cli('-e @/dev/zero', [...RUN, '-e', '@/dev/zero'], /not a regular file/);
cli('-e @ a directory', [...RUN, '-e', '@{d}'], /it is a directory/);
cli('-e @ a missing file', [...RUN, '-e', '@{d}/none.yml'], /no such file/);
cli('-e @ a list', [...RUN, '-e', '@{d}/list.yml'], /vars file must be a mapping/, { 'list.yml': '- 1\n' });
cli('-e @ an alias bomb', [...RUN, '-e', '@{d}/bomb.yml'], /expand to more than 100,000/, {
  'bomb.yml': bomb.replace(/^ {4}/gm, ''),
});
cli('-e @ an 11 MiB file', [...RUN, '-e', '@{d}/big.yml'], /over the limit of 10 MiB/, {
  'big.yml': `a: 1\n#${'x'.repeat(11 * 1024 * 1024)}\n`,
});
cli('-e without =', [...RUN, '-e', 'novalue'], /expected key=value/);
cli('-e JSON that is a list', [...RUN, '-e', '[1, 2]'], /expected key=value|mapping/);
cli('-e broken JSON', [...RUN, '-e', '{"a": '], /not valid YAML\/JSON/);
cli('--forks of zero', [...RUN, '--forks', '0'], /--forks must be an integer >= 1/);
cli('--forks of text', [...RUN, '--forks', 'many'], /--forks must be an integer/);
cli('--timeout of text', [...RUN, '--timeout', 'soon'], /--timeout must be an integer/);
cli('--tags naming no tag', [...RUN, '--tags', 'nosuchtag'], /tag/);
cli('an unknown option', [...RUN, '--frobnicate'], /unknown option/);
cli('an unknown command', ['frobnicate'], /unknown command/);
cli('a missing playbook', ['run', '{d}/none.yml', '-i', '{d}/inv.yml'], /no such file/);
cli('a playbook that is a device', ['validate', '/dev/zero'], /not a regular file/);
cli('a missing inventory', ['run', '{d}/p.yml', '-i', '{d}/none.yml'], /inventory source not found/);
cli('inventory with two modes', ['inventory', '-i', '{d}/inv.yml', '--list', '--graph'], /exactly one of/);
cli(
  'inventory --host that is not there',
  ['inventory', '-i', '{d}/inv.yml', '--host', 'nohost'],
  /host 'nohost' is not in the inventory/,
);
cli('--canary naming no site', [...RUN, '--canary', 'nosite'], /--canary: 'nosite' is not one of the sites/);

// --- Damaged state files ----------------------------------------------------------------------------------
state('not JSON', '{"version": 1,', '.ewsplay/state/site1.json', /state file is not valid JSON/);
state('empty', '', '.ewsplay/state/site1.json:1:1', /not valid JSON/);
state('a list', '[]', '.ewsplay/state/site1.json:1:1', /expected a JSON object/);
state('a wrong version', '{"version": 2, "steps": {}}', '.ewsplay/state/site1.json:1:1', /version is 2/);
state(
  'steps a list',
  '{"version": 1, "steps": []}',
  '.ewsplay/state/site1.json:1:1',
  /steps is not an object/,
);
state(
  'a step without a name',
  '{"version": 1, "site": "site1", "steps": {"a": {"status": "done"}}}',
  '.ewsplay/state/site1.json:1',
  /steps\.a\.play is missing/,
);
state(
  'a step of an unknown status',
  '{"version": 1, "steps": {"a": {"status": "great"}}}',
  '.ewsplay/state/site1.json:1:1',
  /step 'a' has status "great"/,
);
state(
  'playbooks a number',
  '{"version": 1, "site": "site1", "steps": {}, "playbooks": 5}',
  '.ewsplay/state/site1.json:1',
  /playbooks is 5, expected an object/,
);
state(
  'a playbook step a number',
  '{"version": 1, "site": "site1", "steps": {}, "playbooks": {"p.yml": [1]}}',
  '.ewsplay/state/site1.json:1',
  /playbooks\.p\.yml\.0 is 1/,
);
state(
  'mailboxes a string',
  '{"version": 1, "site": "site1", "steps": {}, "mailboxes": "x"}',
  '.ewsplay/state/site1.json:1',
  /mailboxes is "x", expected a list/,
);
state(
  'lastRun a list',
  '{"version": 1, "site": "site1", "steps": {}, "lastRun": []}',
  '.ewsplay/state/site1.json:1',
  /lastRun is \[\], expected an object/,
);
state(
  'a step order of strings',
  '{"version": 1, "site": "site1", "steps": {"a": {"play": "p", "name": "n", "playbook": "p.yml", "order": ["x"], "status": "done", "at": "now"}}}',
  '.ewsplay/state/site1.json:1',
  /order\.0 is "x", expected a number/,
);
state('binary garbage', '\u0000\u0001\u0002', '.ewsplay/state/site1.json:1', /not valid JSON/);

export const BAD_INPUTS: readonly BadInput[] = cases;
