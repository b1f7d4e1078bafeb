// Ansible's INI inventory format (the `ini` inventory plugin): `[group]` sections of host lines
// (`web[1:3] ansible_port=2222`), `[group:vars]` of `key=value` lines, `[group:children]` of group names;
// lines before any section are ungrouped hosts. Values are read as Ansible reads them: a Python literal when
// the text is one (`42`, `True`, `'a'`, `[1, 2]`), else the text as it is (`yes`, `0644`, `a # b`).
// Where Ansible stops at the first mistake of a file, every mistake is reported.
import type { Problem, SourcePos } from '../core/problems.js';
import { type GroupNode, type InventoryGraph, setVar } from './graph.js';
import { HostRangeError, parseHostKey } from './host-range.js';
import { markPythonFloatVar } from './python-floats.js';
import { parsePythonLiteral } from './python-literal.js';

const SECTION = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$/;
const GROUP_NAME = /^([^:\]\s]+)\s*(?:#.*)?$/;

interface Pending {
  pos: SourcePos;
  state: 'vars' | 'children';
  parents: string[];
}

export function parseIniInventory(
  file: string,
  text: string,
  graph: InventoryGraph,
  problems: Problem[],
): void {
  let group: GroupNode = graph.ungrouped;
  // 'skip': the lines of a section that was refused (already reported once).
  let state: 'hosts' | 'vars' | 'children' | 'skip' = 'hosts';
  // Groups named by [x:vars] or [y:children] before (or without) being declared; checked at the end.
  const pending = new Map<string, Pending>();
  const lines = text.split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const indent = raw.length - raw.trimStart().length;
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const pos = (offset = 0): SourcePos => ({ file, line: index + 1, col: indent + offset + 1 });
    const problem = (message: string, hint?: string, at = pos()) =>
      problems.push({ ...at, message, ...(hint ? { hint } : {}) });

    const section = SECTION.exec(line);
    if (section) {
      const [, name, kind = 'hosts'] = section as unknown as [string, string, string | undefined];
      if (kind !== 'hosts' && kind !== 'vars' && kind !== 'children') {
        problem(
          `section [${name}:${kind}] has unknown type '${kind}'`,
          `write [${name}], [${name}:vars] or [${name}:children]`,
        );
        state = 'skip';
        continue;
      }
      state = kind;
      if (!graph.groups.has(name) && kind === 'vars' && !pending.has(name))
        pending.set(name, { pos: pos(), state: 'vars', parents: [] });
      group = graph.addGroup(name, kind === 'vars' ? undefined : pos(1));
      const waiting = pending.get(name);
      if (waiting && kind !== 'vars') {
        for (const parent of waiting.parents) link(graph, graph.addGroup(parent), group, pos(), problems);
        pending.delete(name);
      }
      continue;
    }
    if (line.startsWith('[') && line.endsWith(']')) {
      problem(
        `invalid section '${line}'`,
        'a section is [group], [group:vars] or [group:children], without spaces',
      );
      continue;
    }

    if (state === 'skip') continue;
    if (state === 'vars') {
      const eq = line.indexOf('=');
      if (eq < 0) {
        problem(`expected key=value in [${group.name}:vars], got '${line}'`);
        continue;
      }
      const { value, float } = parsePythonLiteral(line.slice(eq + 1).trim());
      const at = pos();
      const key = line.slice(0, eq).trim();
      // As Ansible's Group.set_variable: the group's merge priority, not a variable.
      if (key === 'ansible_group_priority') {
        if (Number.isInteger(Number(value))) group.priority = Number(value);
        else problem('ansible_group_priority must be an integer');
        continue;
      }
      setVar(group.vars, key, value, at);
      if (float) markPythonFloatVar(at);
    } else if (state === 'children') {
      const child = GROUP_NAME.exec(line)?.[1];
      if (child === undefined) {
        problem(
          `expected a group name in [${group.name}:children], got '${line}'`,
          'one child group per line',
        );
        continue;
      }
      if (graph.groups.has(child) && !pending.has(child)) {
        link(graph, group, graph.groups.get(child)!, pos(), problems);
        continue;
      }
      const waiting = pending.get(child) ?? { pos: pos(), state: 'children' as const, parents: [] };
      waiting.parents.push(group.name);
      pending.set(child, waiting);
    } else {
      hostLine(graph, group, line, pos, problems);
    }
  }
  for (const [name, waiting] of pending) {
    problems.push(
      waiting.state === 'vars'
        ? {
            ...waiting.pos,
            message: `section [${name}:vars] is for a group that is never declared`,
            hint: `declare it with a [${name}] or [${name}:children] section, or put it under a [parent:children]`,
          }
        : {
            ...waiting.pos,
            message: `[${waiting.parents.at(-1)}:children] names group '${name}', which is never declared`,
            hint: `add a [${name}] section (it may be empty)`,
          },
    );
  }
}

function link(
  graph: InventoryGraph,
  parent: GroupNode,
  child: GroupNode,
  pos: SourcePos,
  problems: Problem[],
) {
  const cycle = graph.addChild(parent, child);
  if (cycle)
    problems.push({
      ...pos,
      message: `groups form a cycle: ${cycle.join(' -> ')}`,
      hint: 'a group cannot contain itself',
    });
}

/** `name[range][:port] key=value ...`, split like Python's shlex with comments. */
function hostLine(
  graph: InventoryGraph,
  group: GroupNode,
  line: string,
  pos: (offset?: number) => SourcePos,
  problems: Problem[],
): void {
  let words: { text: string; offset: number }[];
  try {
    words = shlexWords(line);
  } catch (e) {
    problems.push({ ...pos(), message: `cannot split this host line: ${(e as Error).message}` });
    return;
  }
  const [first, ...rest] = words;
  if (!first) return;
  let parsed: { names: string[]; port?: number };
  try {
    parsed = parseHostKey(first.text);
  } catch (e) {
    if (!(e instanceof HostRangeError)) throw e;
    problems.push({
      ...pos(first.offset),
      message: `bad host range '${first.text}': ${e.message}`,
      hint: 'e.g. web[01:10].example.com or db-[a:c]',
    });
    return;
  }
  const vars: [string, unknown, SourcePos][] = [];
  for (const word of rest) {
    const eq = word.text.indexOf('=');
    if (eq <= 0) {
      problems.push({
        ...pos(word.offset),
        message: `expected key=value host variable, got '${word.text}'`,
        hint: 'quote a value with spaces: key="a b"',
      });
      return;
    }
    const { value, float } = parsePythonLiteral(word.text.slice(eq + 1));
    const at = pos(word.offset);
    vars.push([word.text.slice(0, eq), value, at]);
    if (float) markPythonFloatVar(at);
  }
  for (const name of parsed.names) {
    const host = graph.addHost(name, pos(first.offset), pos().file, parsed.port);
    graph.addHostToGroup(host, group);
    for (const [key, value, at] of vars) setVar(host.vars, key, value, at);
  }
}

/** Python's shlex.split(line, comments=True) (POSIX mode), with each word's offset. */
export function shlexWords(line: string): { text: string; offset: number }[] {
  const words: { text: string; offset: number }[] = [];
  let word: string | undefined;
  let start = 0;
  const end = () => {
    if (word !== undefined) words.push({ text: word, offset: start });
    word = undefined;
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === ' ' || c === '\t') {
      end();
      continue;
    }
    if (c === '#') break;
    if (word === undefined) {
      word = '';
      start = i;
    }
    if (c === "'") {
      const close = line.indexOf("'", i + 1);
      if (close < 0) throw new Error('no closing quotation');
      word += line.slice(i + 1, close);
      i = close;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === '\\' && (line[j + 1] === '"' || line[j + 1] === '\\')) j++;
        word += line[j];
      }
      if (j >= line.length) throw new Error('no closing quotation');
      i = j;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
    } else {
      word += c;
    }
  }
  end();
  return words;
}
