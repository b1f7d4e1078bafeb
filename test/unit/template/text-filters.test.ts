// Ansible's string, path and hash filters. Expected values: the examples of Ansible's filter documentation
// (regex_escape, splitext, path_join, comment, human_readable), Python's documented os.path and uuid
// behaviour (uuid5(NAMESPACE_DNS, 'python.org')), and the published digests of '' and 'test'.
import { userInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { createTemplar } from '../../../src/template/templar.js';

const t = createTemplar();
const ev = (expr: string, vars: Record<string, unknown> = {}) => t.evaluate(expr, vars);

describe('Ansible text, path and hash filters', () => {
  const cases: [string, unknown][] = [
    ["'^f.*o(.*)$' | regex_escape", '\\^f\\.\\*o\\(\\.\\*\\)\\$'],
    ["'^f.*o(.*)$' | regex_escape('posix_basic')", '\\^f\\.\\*o(\\.\\*)\\$'],
    ["'a_b-c d' | regex_escape", 'a_b\\-c\\ d'],
    ["['/etc', 'subdir', 'file'] | path_join", '/etc/subdir/file'],
    ["['/etc', '/subdir', 'file'] | path_join", '/subdir/file'],
    ["['etc/', 'x', ''] | path_join", 'etc/x/'],
    ["'/etc/hosts' | path_join", '/etc/hosts'],
    ["'nginx.conf' | splitext", ['nginx', '.conf']],
    ["'/etc/my.cnf' | splitext", ['/etc/my', '.cnf']],
    ["'/home/u/.bashrc' | splitext", ['/home/u/.bashrc', '']],
    ["'archive.tar.gz' | splitext", ['archive.tar', '.gz']],
    ["'' | hash('md5')", 'd41d8cd98f00b204e9800998ecf8427e'],
    ["'' | hash", 'da39a3ee5e6b4b0d3255bfef95601890afd80709'],
    ["'test' | hash('sha256')", '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'],
    ["'test' | md5", '098f6bcd4621d373cade4e832627b4f6'],
    ["'test' | sha1", 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3'],
    ["'test' | checksum", 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3'],
    [
      "'python.org' | to_uuid(namespace='6ba7b810-9dad-11d1-80b4-00c04fd430c8')",
      '886313e1-3b8a-5372-9b90-0c9aee199e5d',
    ],
    ["'Plain style (default)' | comment", '#\n# Plain style (default)\n#'],
    ["'C style' | comment('c')", '//\n// C style\n//'],
    ["'C block style' | comment('cblock')", '/*\n *\n * C block style\n *\n */'],
    ["'Erlang style' | comment('erlang')", '%\n% Erlang style\n%'],
    ["'XML style' | comment('xml')", '<!--\n -\n - XML style\n -\n-->'],
    ["'two\\nlines' | comment", '#\n# two\n# lines\n#'],
    ["'x' | comment(decoration='; ')", ';\n; x\n;'],
    ['1232345345 | human_readable', '1.15 GB'],
    ['1232345345 | human_readable(true)', '1.15 Gb'],
    ["1232345345 | human_readable(unit='M')", '1175.26 MB'],
    ['512 | human_readable', '512.00 Bytes'],
  ];
  it.each(cases)('%s', (expr, want) => {
    expect(ev(expr)).toEqual(want);
  });

  it("to_uuid's default namespace is Ansible's, so the same name gives the same UUID on every run", () => {
    const u = ev("'host1' | to_uuid") as string;
    expect(u).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(u).toBe(ev("'host1' | to_uuid(namespace='361E6D51-FAEC-444A-9079-341386DA8E2E')"));
  });

  it("expanduser uses the control node's HOME (filters run on the controller, as in Ansible)", () => {
    const saved = process.env.HOME;
    process.env.HOME = '/home/ctl/';
    try {
      expect(ev("'~/.ssh/id_ed25519' | expanduser")).toBe('/home/ctl/.ssh/id_ed25519');
      expect(ev("'~' | expanduser")).toBe('/home/ctl');
      expect(ev("'/etc/~x' | expanduser")).toBe('/etc/~x');
      expect(ev("'~no-such-user-here/x' | expanduser")).toBe('~no-such-user-here/x');
      const me = userInfo();
      expect(ev(`'~${me.username}/x' | expanduser`)).toBe(`${me.homedir.replace(/\/+$/, '')}/x`);
    } finally {
      process.env.HOME = saved;
    }
  });

  it('errors name the filter and say what it expected', () => {
    expect(() => ev("'x' | hash('sha999')")).toThrow(
      "hash: unsupported hash type 'sha999' (use one of md5, sha1,",
    );
    expect(() => ev("'x' | regex_escape('posix_weird')")).toThrow(
      "regex_escape: invalid regex type 'posix_weird'",
    );
    expect(() => ev('5 | path_join')).toThrow('path_join: expected a list of path parts or a string, got 5');
    expect(() => ev("['/a', 5] | path_join")).toThrow('path_join (item 1): expected a string, got 5');
    expect(() => ev('5 | splitext')).toThrow('splitext: expected a string, got 5');
    expect(() => ev("'x' | comment('lisp')")).toThrow(
      "comment: invalid style 'lisp'; available styles: plain, erlang, c",
    );
    expect(() => ev("'1K' | human_readable")).toThrow(
      "human_readable: expected a number of bytes (or bits), got '1K'",
    );
    expect(() => ev("1 | human_readable(unit='Q')")).toThrow("human_readable: unknown unit 'Q'");
    expect(() => ev("'x' | to_uuid(namespace='nope')")).toThrow(
      "to_uuid: invalid value 'nope' for 'namespace'",
    );
  });
});
