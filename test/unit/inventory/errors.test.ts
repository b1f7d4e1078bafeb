// Every mistake in an inventory is reported at its file:line:col with a message (and a hint where one helps),
// all problems of a file at once.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Problem, UsageError, UserError } from '../../../src/core/problems.js';
import { loadInventory } from '../../../src/inventory/inventory.js';

const dir = join(import.meta.dirname, '../../fixtures/inventory/errors');

async function problemsOf(source: string): Promise<Problem[]> {
  try {
    await loadInventory([join(dir, source)]);
  } catch (e) {
    if (e instanceof UserError) return e.problems;
    throw e;
  }
  throw new Error(`${source} loaded without a problem`);
}

const cases: [string, string, number, number, RegExp, RegExp?][] = [
  [
    'yaml-syntax.yml',
    'yaml-syntax.yml',
    5,
    5,
    /YAML syntax error: Flow sequence .* must be sufficiently indented/,
  ],
  ['duplicate-host.yml', 'duplicate-host.yml', 5, 5, /duplicate key 'web1'/],
  ['host-and-group.yml', 'host-and-group.yml', 3, 5, /'web' is both a host and a group/, /defined at .*:5/],
  ['hosts-list.yml', 'hosts-list.yml', 5, 9, /'hosts' of group 'web' must be a mapping, not a list/, /web1:/],
  ['vars-list.yml', 'vars-list.yml', 3, 5, /'vars' of group 'all' must be a mapping/],
  ['cycle.yml', 'cycle.yml', 5, 9, /groups form a cycle: b -> a -> b/],
  ['unknown-key.yml', 'unknown-key.yml', 4, 7, /unknown key 'hots' in group 'web'/, /did you mean 'hosts'/],
  [
    'host-without-hosts.yml',
    'host-without-hosts.yml',
    4,
    7,
    /unknown key 'web1.example.com' in group 'web'/,
    /under `hosts:`/,
  ],
  ['bad-range.yml', 'bad-range.yml', 3, 5, /bad host range .*equal-length/],
  ['host-vars-scalar.yml', 'host-vars-scalar.yml', 3, 11, /variables of host 'web1' must be a mapping/],
  ['top-level-vars.yml', 'top-level-vars.yml', 4, 1, /top-level key 'vars'/, /under a group/],
  ['group-scalar.yml', 'group-scalar.yml', 3, 10, /group 'web' must be a mapping/, /hosts: \{ web1: \}/],
  ['not-a-mapping.yml', 'not-a-mapping.yml', 1, 1, /must be a mapping of group names/],
  ['bad-priority.yml', 'bad-priority.yml', 5, 33, /ansible_group_priority must be an integer/],
  ['plugin-config.yml', 'plugin-config.yml', 1, 1, /plugin configuration files are not supported/],
  ['numeric-host.yml', 'numeric-host.yml', 3, 5, /host name must be a string/, /quotes/],
  ['hosts.ini', 'hosts.ini', 2, 28, /expected key=value host variable, got 'primary'/, /key="a b"/],
  [
    'legacy-hosts',
    'legacy-hosts',
    6,
    1,
    /section \[webservers:vars\] is for a group that is never declared/,
    /\[webservers\]/,
  ],
  ['bad-vars-file', 'bad-vars-file/group_vars/web.yml', 1, 1, /vars file must be a mapping/],
];

describe('inventory errors', () => {
  it.each(cases)('%s', async (source, file, line, col, message, hint) => {
    const problems = await problemsOf(source);
    expect(problems).toHaveLength(1);
    const [p] = problems;
    expect({ file: p!.file, line: p!.line, col: p!.col }).toEqual({ file: join(dir, file), line, col });
    expect(p!.message).toMatch(message);
    if (hint) expect(p!.hint).toMatch(hint);
  });

  it('reports all problems of a file at once', async () => {
    const problems = await problemsOf('two-problems.yml');
    expect(problems.map((p) => `${p.line}:${p.col} ${p.message}`)).toEqual([
      "4:5 duplicate key 'web1'",
      "7:7 unknown key 'hots' in group 'web'",
    ]);
  });

  it('a missing source is a usage error naming it', async () => {
    await expect(loadInventory([join(dir, 'no-such-inventory.yml')])).rejects.toThrow(UsageError);
    await expect(loadInventory([join(dir, 'no-such-inventory.yml')])).rejects.toThrow(
      /no-such-inventory\.yml/,
    );
  });
});
