// Rewrites a parsed nunjucks template so that it behaves like Ansible's Jinja:
// - StrictUndefined: every variable or attribute read goes through STRICT_FN, which throws a TemplateError
//   naming the missing variable. Reads are left lenient where Jinja tolerates undefined: the value of a
//   `default`/`d`/`mandatory` filter and the subject of `is defined` / `is undefined`.
// - Python truthiness: `if`, `not`, `and`, `or` and inline ifs test with TRUTHY_FN, so [] and {} are false,
//   and `a or b` / `a and b` return an operand as Python does.
// - Python equality: `==` and `!=` compare lists and dicts by value, and '1' is not 1 (EQ_FN).
// - `True`/`False`/`None` are literals; tests take keyword arguments.
import type { NjNode, Nunjucks } from './nunjucks.js';
import { isForbiddenName } from './sandbox.js';

export const STRICT_FN = '__ews_strict';
export const TRUTHY_FN = '__ews_truthy';
export const TEST_FN = '__ews_test';
export const EQ_FN = '__ews_eq';
export const ADD_FN = '__ews_add';
export const MUL_FN = '__ews_mul';
const UNDEFINED_PREFIX = '__ews_undefined_';

const LENIENT_FILTERS = new Set(['default', 'd', 'mandatory']);
const LENIENT_TESTS = new Set(['defined', 'undefined']);
const PY_LITERALS: Record<string, boolean | null> = { True: true, False: false, None: null };

export function strictify(nj: Nunjucks, root: NjNode): NjNode {
  const N = nj.nodes;
  const node = (type: string, at: NjNode, ...fields: unknown[]): NjNode => {
    const Ctor = N[type];
    if (!Ctor) throw new Error(`nunjucks has no node type ${type}`);
    return new Ctor(at.lineno, at.colno, ...fields);
  };
  const call = (fn: string, at: NjNode, args: NjNode[]): NjNode =>
    node('FunCall', at, node('Symbol', at, fn), node('NodeList', at, args));
  const truthy = (expr: NjNode): NjNode => call(TRUTHY_FN, expr, [walk(expr, false)]);

  const walk = (n: NjNode, lenient: boolean): NjNode => {
    switch (n.typename) {
      case 'Symbol': {
        const name = n.value as string;
        if (Object.hasOwn(PY_LITERALS, name)) return node('Literal', n, PY_LITERALS[name]);
        // nunjucks' compiler would look these names up on a plain object (and paste Object's source into
        // the template's code): they become a name that is never defined.
        if (isForbiddenName(name)) n.value = `${UNDEFINED_PREFIX}${name}`;
        return lenient ? n : call(STRICT_FN, n, [n, node('Literal', n, name)]);
      }
      case 'LookupVal': {
        n.target = walk(n.target as NjNode, lenient);
        n.val = walk(n.val as NjNode, false);
        return lenient ? n : call(STRICT_FN, n, [n, node('Literal', n, describe(n))]);
      }
      case 'Group':
        if ((n.children as NjNode[]).length === 1) {
          n.children = [walk((n.children as NjNode[])[0]!, lenient)];
          return n;
        }
        // A tuple, `('/etc', 'nginx')`: a list (nunjucks would keep only its last element).
        return walk(node('Array', n, (n.children as NjNode[]).slice()), false);
      case 'Add':
      case 'Mul':
        // Python's + and * (lists concatenate, 'a' * 3 repeats), not JavaScript's.
        return call(n.typename === 'Add' ? ADD_FN : MUL_FN, n, [
          walk(n.left as NjNode, false),
          walk(n.right as NjNode, false),
        ]);
      case 'Filter': {
        const filter = (n.name as NjNode).value as string;
        const args = (n.args as NjNode).children as NjNode[];
        args.forEach((a, i) => {
          args[i] = walk(a, i === 0 && LENIENT_FILTERS.has(filter));
        });
        if (filter === 'mandatory' && args.length === 1 && args[0])
          args.push(node('Literal', n, `Mandatory variable '${describe(args[0])}' not defined.`));
        return n;
      }
      case 'Is': {
        const right = n.right as NjNode;
        const test = testName(n);
        const left = walk(n.left as NjNode, LENIENT_TESTS.has(test));
        const args =
          right.typename === 'FunCall'
            ? ((walk(right.args as NjNode, false).children as NjNode[]) ?? [])
            : [];
        // A call, rather than nunjucks' own `is`, so that tests take keyword arguments (multiline=true).
        return call(TEST_FN, n, [node('Literal', n, test), left, ...args]);
      }
      case 'If':
      case 'InlineIf':
        n.cond = truthy(n.cond as NjNode);
        n.body = walk(n.body as NjNode, false);
        if (n.else_) n.else_ = walk(n.else_ as NjNode, false);
        return n;
      case 'Not':
        n.target = truthy(n.target as NjNode);
        return n;
      case 'Compare': {
        n.expr = walk(n.expr as NjNode, false);
        const ops = n.ops as NjNode[];
        for (const op of ops) op.expr = walk(op.expr as NjNode, false);
        // A single `==` / `!=` becomes a call (chains such as a < b < c keep nunjucks' operators).
        const [op] = ops;
        if (ops.length !== 1 || !op || (op.type !== '==' && op.type !== '!=')) return n;
        const eq = call(EQ_FN, n, [n.expr as NjNode, op.expr as NjNode]);
        return op.type === '==' ? eq : node('Not', n, eq);
      }
      case 'And':
      case 'Or': {
        // Python: `a and b` is b when a is truthy, else a; `a or b` is a when a is truthy, else b.
        const left = walk(n.left as NjNode, false);
        const right = walk(n.right as NjNode, false);
        const cond = call(TRUTHY_FN, n, [left]);
        return n.typename === 'And'
          ? node('InlineIf', n, cond, right, left)
          : node('InlineIf', n, cond, left, right);
      }
      case 'For':
        n.arr = walk(n.arr as NjNode, false);
        n.body = walk(n.body as NjNode, false);
        if (n.else_) n.else_ = walk(n.else_ as NjNode, false);
        return n;
      case 'Set':
        if (n.value) n.value = walk(n.value as NjNode, false);
        if (n.body) n.body = walk(n.body as NjNode, false);
        return n;
      case 'Pair':
        if ((n.key as NjNode).typename !== 'Symbol') n.key = walk(n.key as NjNode, false);
        n.value = walk(n.value as NjNode, false);
        return n;
      case 'Macro':
      case 'Caller':
        n.body = walk(n.body as NjNode, false);
        return n;
      case 'Literal':
      case 'TemplateData':
        return n;
    }
    for (const field of n.fields) {
      const v = n[field];
      if (isNode(v)) n[field] = walk(v, false);
      else if (Array.isArray(v)) n[field] = v.map((c) => (isNode(c) ? walk(c, false) : c));
    }
    return n;
  };
  return walk(root, false);
}

/** The test an `is` names, dotted names included (`x is ansible.builtin.match(...)`). */
export function testName(isNode: NjNode): string {
  const right = isNode.right as NjNode;
  const name = right.typename === 'FunCall' ? (right.name as NjNode) : right;
  if (name.typename === 'Symbol') return name.value as string;
  // `is true`, `is false`, `is none`: the lexer made literals of the names.
  if (name.typename === 'Literal') return name.value === null ? 'none' : String(name.value);
  return describe(name);
}

function isNode(v: unknown): v is NjNode {
  return typeof v === 'object' && v !== null && typeof (v as NjNode).typename === 'string';
}

/** The dotted name of a lookup chain, as the user wrote it: `result.stdout`, `hosts[0]`, `a[...]`. */
export function describe(n: NjNode): string {
  switch (n.typename) {
    case 'Symbol':
      return n.value as string;
    case 'LookupVal': {
      const key = n.val as NjNode;
      const base = describe(n.target as NjNode);
      if (key.typename === 'Literal' && typeof key.value === 'string') return `${base}.${key.value}`;
      if (key.typename === 'Literal') return `${base}[${String(key.value)}]`;
      if (key.typename === 'Symbol') return `${base}[${key.value as string}]`;
      return `${base}[...]`;
    }
    case 'FunCall':
      if ((n.name as NjNode).value === STRICT_FN)
        return describe(((n.args as NjNode).children as NjNode[])[0]!);
      return `${describe(n.name as NjNode)}(...)`;
    default:
      return 'value';
  }
}
