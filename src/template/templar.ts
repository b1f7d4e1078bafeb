// The templar: Jinja-like templating on nunjucks, behaving as Ansible users expect (strict undefined
// variables, Python truthiness and printing, Ansible's filters and tests, native values for "{{ expr }}").
// nunjucks is loaded on the first string that holds a template; compiled templates are cached by source.
import { readFileSync } from 'node:fs';
import { basename, isAbsolute, join } from 'node:path';
import type { Vars } from '../core/model.js';
import type { TemplateApi } from '../core/template-api.js';
import { TemplateError } from './errors.js';
import { filters } from './filters.js';
import { type NjEnvironment, type NjNode, type NjTemplate, type Nunjucks, nunjucks } from './nunjucks.js';
import { preprocess } from './preprocess.js';
import { type Kwargs, pyAdd, pyEq, pyMul, pyRepr, pyStr, pyTruthy, splitKwargs } from './python.js';
import { boundLiterals, installRenderBounds, withinRenderBounds } from './render-bounds.js';
import { allowCall, installSandbox } from './sandbox.js';
import { toDict } from './set-filters.js';
import { ADD_FN, EQ_FN, MUL_FN, STRICT_FN, strictify, TEST_FN, TRUTHY_FN, testName } from './strict.js';
import { tests } from './tests.js';

export { TemplateError } from './errors.js';

const CAPTURE_FN = '__ews_capture';
/** The key under which the caller's vars travel into a render (see `compile`). */
const VARS_KEY = '__ews_vars';
const LEXER_OPTS = { trimBlocks: true };
const CACHE_LIMIT = 10_000;

/** True when `s` holds template syntax; everything else is returned unchanged without touching nunjucks. */
export function hasTemplate(s: string): boolean {
  return s.includes('{{') || s.includes('{%');
}

interface Engine {
  nj: Nunjucks;
  env: NjEnvironment;
}

let engine: Engine | undefined;
/** The value of the last single-expression render; renders are synchronous, so one slot suffices. */
let captured: unknown;
/** Where the current render registers secrets it reads (env lookups of secret-looking names). */
let renderSecrets: SecretSink | undefined;

export interface SecretSink {
  add(value: unknown): void;
}

/** Environment variable names whose values are secrets: EWS_PASSWORD, API_TOKEN, DB_SECRET, SSH_KEY, ... */
const SECRET_ENV_NAME = /PASS|SECRET|TOKEN|CREDENTIAL|PRIVATE|(^|_)KEY$|APIKEY/i;

function getEngine(): Engine {
  if (engine) return engine;
  const nj = nunjucks();
  const runtime = nj.runtime;
  nj.installJinjaCompat(); // slices (`s[:3]`) and True/False/None
  installSandbox(runtime as never, runtime.memberLookup as never);
  const SafeString = (runtime as unknown as { SafeString: new () => object }).SafeString;
  runtime.suppressValue = (val: unknown) => {
    if (val === undefined) return '';
    return typeof val === 'string' || val instanceof SafeString ? val : pyStr(val);
  };

  const env = new nj.Environment(null, { autoescape: false, dev: true });
  for (const [name, fn] of Object.entries(filters)) env.addFilter(name, fn);
  for (const [name, fn] of Object.entries(tests)) env.addTest(name, fn);
  // Filters and tests by their own names only (`x | constructor` is no filter).
  // `ansible.builtin.regex_replace` is the same filter as `regex_replace`.
  env.getFilter = (name: string) => {
    const own = builtinName(name);
    if (!Object.hasOwn(env.filters, own)) throw new TemplateError(`filter not found: ${name}`);
    return env.filters[own] as (...args: unknown[]) => unknown;
  };
  env.getTest = (name: string) => {
    const own = builtinName(name);
    if (!Object.hasOwn(env.tests, own)) throw new TemplateError(`test not found: ${name}`);
    return env.tests[own] as (...args: unknown[]) => unknown;
  };
  env.addGlobal(STRICT_FN, (value: unknown, name: string) => {
    if (value === undefined) throw new TemplateError(`'${name}' is undefined`, name);
    return value;
  });
  env.addGlobal(TRUTHY_FN, pyTruthy);
  env.addGlobal(EQ_FN, pyEq);
  env.addGlobal(ADD_FN, pyAdd);
  env.addGlobal(MUL_FN, pyMul);
  env.addGlobal(TEST_FN, (name: string, value: unknown, ...args: unknown[]) => {
    const test = env.getTest(name) as (...a: unknown[]) => unknown;
    return test(value, ...args) === true;
  });
  env.addGlobal(CAPTURE_FN, (value: unknown) => {
    captured = value;
    return '';
  });
  env.addGlobal('lookup', function (this: { ctx: Vars }, kind: string, ...args: unknown[]) {
    const [terms, { wantlist, ...kw }] = splitKwargs(args);
    const values = lookup(this.ctx, kind, terms, kw);
    if (values === undefined) return wantlist === true ? [] : null;
    if (wantlist === true) return values;
    // Ansible: strings are joined with commas; otherwise one value is returned as is, several as a list.
    if (values.every((v) => typeof v === 'string')) return values.join(',');
    return values.length === 1 ? values[0] : values;
  });
  const query = function (this: { ctx: Vars }, kind: string, ...args: unknown[]) {
    const [terms, { wantlist: _, ...kw }] = splitKwargs(args);
    return lookup(this.ctx, kind, terms, kw) ?? [];
  };
  env.addGlobal('query', query);
  env.addGlobal('q', query);
  // Python's dict(): dict(pairs), dict(mapping), dict(a=1), as `dict(keys | zip(values))` uses it.
  env.addGlobal('dict', (...args: unknown[]) => {
    const [pos, kw] = splitKwargs(args);
    if (pos.length > 1) throw new TemplateError(`dict expected at most 1 argument, got ${pos.length}`);
    return { ...(pos.length === 1 ? toDict(pos[0], 'dict') : {}), ...kw };
  });
  installRenderBounds(runtime, env);
  bindGlobals(env);
  engine = { nj, env };
  return engine;
}

/** A filter, test or lookup name without Ansible's `ansible.builtin.` collection prefix. */
function builtinName(name: string): string {
  return name.startsWith('ansible.builtin.') ? name.slice('ansible.builtin.'.length) : name;
}

/** Most items `range()` gives (Python would build any list; a template must stay small). */
export const MAX_RANGE = 1_000_000;

/**
 * nunjucks' own globals made safe (range bounded; the callables cycler and joiner hand out allowed),
 * then every global allowed to be called.
 */
function bindGlobals(env: NjEnvironment): void {
  const globals = (env as unknown as { globals: Record<string, unknown> }).globals;
  env.addGlobal('range', (...args: unknown[]) => pyRange(args));
  const cycler = globals.cycler as (...items: unknown[]) => Record<string, unknown>;
  env.addGlobal('cycler', (...items: unknown[]) => {
    const c = cycler(...items);
    for (const k of ['next', 'reset']) allowCall(c[k] as object);
    return c;
  });
  const joiner = globals.joiner as (sep?: string) => object;
  env.addGlobal('joiner', (sep?: string) => allowCall(joiner(sep)));
  for (const fn of Object.values(globals)) if (typeof fn === 'function') allowCall(fn);
}

/** Python's range(stop) / range(start, stop[, step]) over integers, at most MAX_RANGE items. */
function pyRange(args: unknown[]): number[] {
  const nums = args.map((a) => {
    const n = typeof a === 'string' && /^-?\d+$/.test(a.trim()) ? Number(a) : a;
    if (typeof n !== 'number' || !Number.isInteger(n))
      throw new TemplateError(`range() takes integers, got ${pyRepr(a)}`);
    return n;
  });
  if (nums.length < 1 || nums.length > 3)
    throw new TemplateError(`range expected 1 to 3 arguments, got ${nums.length}`);
  const [start, stop, step] = nums.length === 1 ? [0, nums[0]!, 1] : [nums[0]!, nums[1]!, nums[2] ?? 1];
  if (step === 0) throw new TemplateError('range() arg 3 must not be zero');
  const count = Math.max(0, Math.ceil((stop - start) / step));
  if (count > MAX_RANGE)
    throw new TemplateError(
      `range() of ${count} items is over the limit of ${MAX_RANGE}: templates build small values`,
    );
  return Array.from({ length: count }, (_, i) => start + i * step);
}

/** The lookups ewsplay has (all run on the control node, as in Ansible). */
const LOOKUPS: Record<string, (vars: Vars, terms: unknown[], kw: Kwargs) => unknown[]> = {
  env: (_vars, terms, kw) =>
    terms.map((t) => {
      const name = String(t);
      const value = process.env[name] ?? kw.default ?? '';
      if (SECRET_ENV_NAME.test(name)) renderSecrets?.add(value);
      return value;
    }),
  file: (vars, terms, kw) => terms.map((t) => readLookupFile(vars, String(t), kw)),
  // Ansible's vars lookup: a variable by a name computed in the template.
  vars: (vars, terms, kw) =>
    terms.map((t) => {
      if (typeof t !== 'string')
        throw new TemplateError(`lookup('vars'): a variable name must be a string, got ${pyRepr(t)}`);
      if (t in vars && !(t in Object.prototype)) return vars[t];
      if ('default' in kw) return kw.default;
      throw new TemplateError(`lookup('vars'): no variable found with this name: ${t}`, t);
    }),
  // with_items: the terms, lists among them flattened one level.
  items: (_vars, terms) => terms.flatMap((t) => (Array.isArray(t) ? t : [t])),
  // with_list: the terms as given.
  list: (_vars, terms) => terms,
};

/** Basenames of files that hold secrets (a lookup of them is masked in all output, as vault values are). */
const SECRET_FILE_NAME =
  /pass|secret|token|credential|private|vault|(^|[._-])keys?($|[._-])|^id_(rsa|dsa|ecdsa|ed25519)$/i;

/** Ansible's file lookup: relative to the playbook's files/ directory, then the playbook's directory. */
function readLookupFile(vars: Vars, t: string, kw: Kwargs): string {
  const base = typeof vars.playbook_dir === 'string' ? vars.playbook_dir : process.cwd();
  const candidates = isAbsolute(t) ? [t] : [join(base, 'files', t), join(base, t), t];
  for (const c of candidates) {
    let text: string;
    try {
      text = readFileSync(c, 'utf8');
    } catch {
      continue; // try the next place
    }
    if (kw.rstrip !== false) text = text.replace(/\s+$/, '');
    if (kw.lstrip === true) text = text.replace(/^\s+/, '');
    if (SECRET_FILE_NAME.test(basename(c)) || /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text))
      renderSecrets?.add(text);
    return text;
  }
  throw new TemplateError(`lookup('file'): could not find '${t}' (looked in ${candidates.join(', ')})`);
}

/** Runs a lookup; undefined when it failed and errors='ignore' (or 'warn') asked to carry on. */
function lookup(vars: Vars, kind: string, terms: unknown[], kw: Kwargs): unknown[] | undefined {
  const { errors = 'strict', ...options } = kw;
  const run = LOOKUPS[kind.replace(/^ansible\.builtin\./, '')];
  if (!run) throw new TemplateError(unknownLookup(kind));
  if (errors !== 'strict' && errors !== 'warn' && errors !== 'ignore')
    throw new TemplateError(
      `lookup('${kind}'): errors must be strict, warn or ignore, got ${pyRepr(errors)}`,
    );
  try {
    return run(vars, terms, options);
  } catch (e) {
    // Deviation: 'warn' carries on like 'ignore' without printing the warning (the templar has no output).
    if (errors === 'strict' || !(e instanceof TemplateError)) throw e;
    return undefined;
  }
}

function unknownLookup(kind: string): string {
  return `there is no lookup named '${kind}' (ewsplay has ${Object.keys(LOOKUPS).sort().join(', ')})`;
}

/** Ansible's preserve_trailing_newlines: the output ends with at least as many newlines as the source. */
function withTrailingNewlines(out: string, source: string): string {
  const count = (t: string) => t.length - t.replace(/\n+$/, '').length;
  const missing = count(source) - count(out);
  return missing > 0 ? out + '\n'.repeat(missing) : out;
}

interface Compiled {
  template: NjTemplate;
  /** The template is exactly one `{{ expr }}`: rendering yields the expression's native value. */
  native: boolean;
}

function isSingleExpression(root: NjNode): boolean {
  const children = root.children as NjNode[];
  if (children.length !== 1 || children[0]!.typename !== 'Output') return false;
  const out = children[0]!.children as NjNode[];
  return out.length === 1 && out[0]!.typename !== 'TemplateData';
}

function compile(source: string, name: string): Compiled {
  const { nj, env } = getEngine();
  // Jinja (keep_trailing_newline off) drops one newline at the end of the template; Ansible then pads the
  // output back to as many trailing newlines as the source had (see `withTrailingNewlines`).
  const ast = parse(nj, source.replace(/\r?\n$/, ''));
  const native = !source.endsWith('\n') && isSingleExpression(ast);
  strictify(nj, ast);
  boundLiterals(nj, ast);
  if (native) {
    const output = (ast.children as NjNode[])[0]!;
    const expr = (output.children as NjNode[])[0]!;
    const N = nj.nodes;
    output.children = [
      new N.FunCall!(expr.lineno, expr.colno, new N.Symbol!(0, 0, CAPTURE_FN), new N.NodeList!(0, 0, [expr])),
    ];
  }
  const compiler = new nj.compiler.Compiler(name, false);
  compiler.compile(nj.transformer.transform(ast, [], name));
  const props = new Function(compiler.getCode())() as { root: NjTemplate['rootRenderFunc'] };
  const root = props.root;
  // nunjucks copies every variable into its render context up front, which would force every lazy
  // variable of the engine; instead the render context inherits from the caller's vars.
  props.root = (e, context, frame, runtime, cb) => {
    context.ctx = Object.create(context.ctx[VARS_KEY] as object) as Vars;
    root(e, context, frame, runtime, cb);
  };
  return { template: new nj.Template({ type: 'code', obj: props }, env, name, true), native };
}

function parse(nj: Nunjucks, source: string): NjNode {
  let ast: NjNode;
  try {
    ast = nj.parser.parse(preprocess(source), [], LEXER_OPTS);
  } catch (e) {
    throw new TemplateError(syntaxMessage(e, source));
  }
  const unsupported = unsupportedTag(ast);
  if (unsupported) throw new TemplateError(unsupported);
  return ast;
}

const FILE_TAGS: Record<string, string> = {
  Include: 'include',
  Import: 'import',
  FromImport: 'from',
  Extends: 'extends',
};

/** include, import, from and extends name other template files: ewsplay renders one file at a time. */
function unsupportedTag(node: NjNode): string | undefined {
  const tag = FILE_TAGS[node.typename];
  if (tag)
    return `template error: {% ${tag} %} is not supported: a template is one file (line ${node.lineno + 1})`;
  for (const field of node.fields) {
    const v = node[field];
    for (const k of Array.isArray(v) ? v : [v])
      if (k && typeof k === 'object' && typeof (k as NjNode).typename === 'string') {
        const found = unsupportedTag(k as NjNode);
        if (found) return found;
      }
  }
  return undefined;
}

const SYNTAX_WORDING: [RegExp, string][] = [
  [/^expected variable end$/, "expected '}}'"],
  [/^expected block end.*$/, "expected '%}'"],
  [/^unexpected token: (.*)$/, "unexpected '$1'"],
  [/^parse\w+: /, ''],
];

function syntaxMessage(e: unknown, source: string): string {
  const err = e as { message?: string; lineno?: number };
  // nunjucks' parser reads past the last token of an unfinished template ('{{ x |', '{%') and fails
  // with a TypeError of its own, "Cannot read properties of null": say what it means.
  let msg =
    e instanceof TypeError
      ? 'the template ends before its tag or expression is complete'
      : String(err.message ?? e).trim();
  for (const [re, wording] of SYNTAX_WORDING) msg = msg.replace(re, wording);
  const line = err.lineno ?? source.split('\n').length;
  return `template syntax error: ${msg} (line ${line})`;
}

/** The error a caller sees: ours when we threw it (undefined variable), else the root cause, worded. */
function templateError(e: unknown, source: string): TemplateError {
  let cause: unknown = e;
  while (cause && typeof cause === 'object') {
    if (cause instanceof TemplateError) break;
    const next = (cause as { cause?: unknown }).cause;
    if (!next) break;
    cause = next;
  }
  const err =
    cause instanceof TemplateError
      ? cause
      : new TemplateError(`template error: ${(cause as Error)?.message ?? cause}`);
  const line = (e as { lineno?: number }).lineno;
  if (err.line === undefined && typeof line === 'number' && source.includes('\n')) err.line = line + 1;
  return err;
}

/**
 * Checks a template's syntax without rendering it (for `ewsplay validate`): parse errors, and filters or
 * tests that do not exist. Returns a message like "template syntax error: expected '}}' (line 1)".
 */
export function checkTemplateSyntax(text: string): string | undefined {
  if (!hasTemplate(text)) return undefined;
  const { nj, env } = getEngine();
  let ast: NjNode;
  try {
    ast = nj.parser.parse(preprocess(text), [], LEXER_OPTS);
  } catch (e) {
    return syntaxMessage(e, text);
  }
  return unsupportedTag(ast) ?? unknownNames(ast, env);
}

const LOOKUP_FUNCTIONS = new Set(['lookup', 'query', 'q']);

function unknownNames(node: NjNode, env: NjEnvironment): string | undefined {
  if (node.typename === 'FunCall' && LOOKUP_FUNCTIONS.has((node.name as NjNode).value as string)) {
    const kind = ((node.args as NjNode).children as NjNode[])[0];
    if (kind?.typename === 'Literal' && typeof kind.value === 'string') {
      if (!LOOKUPS[kind.value.replace(/^ansible\.builtin\./, '')])
        return `template error: ${unknownLookup(kind.value)} (line ${node.lineno + 1})`;
    }
  }
  if (node.typename === 'Filter') {
    const name = (node.name as NjNode).value as string;
    if (!Object.hasOwn(env.filters, name))
      return `template error: no filter named '${name}' (line ${node.lineno + 1})`;
  }
  if (node.typename === 'Is') {
    const name = testName(node);
    if (!Object.hasOwn(env.tests, builtinName(name)))
      return `template error: no test named '${name}' (line ${node.lineno + 1})`;
  }
  for (const field of node.fields) {
    const v = node[field];
    const kids = Array.isArray(v) ? v : [v];
    for (const k of kids) {
      if (k && typeof k === 'object' && typeof (k as NjNode).typename === 'string') {
        const found = unknownNames(k as NjNode, env);
        if (found) return found;
      }
    }
  }
  return undefined;
}

/** A templar with its own compile caches (one per run); `secrets` receives secret env lookups. */
export function createTemplar(options: { secrets?: SecretSink } = {}): TemplateApi {
  const templates = new Map<string, Compiled>();
  const expressions = new Map<string, Compiled>();

  const cached = (cache: Map<string, Compiled>, key: string, source: string): Compiled => {
    let c = cache.get(key);
    if (!c) {
      if (cache.size >= CACHE_LIMIT) cache.clear();
      c = compile(source, key);
      cache.set(key, c);
    }
    return c;
  };

  const run = (c: Compiled, vars: Vars, source: string): unknown => {
    const outer = renderSecrets;
    renderSecrets = options.secrets;
    try {
      return withinRenderBounds(() => {
        captured = undefined;
        const out = (c.template as unknown as { render(ctx: Vars): string }).render({ [VARS_KEY]: vars });
        return c.native ? captured : withTrailingNewlines(out, source);
      });
    } catch (e) {
      throw templateError(e, source);
    } finally {
      renderSecrets = outer;
    }
  };

  const renderString = (s: string, vars: Vars): unknown => run(cached(templates, s, s), vars, s);

  const render = (value: unknown, vars: Vars): unknown => {
    if (typeof value === 'string') return hasTemplate(value) ? renderString(value, vars) : value;
    if (Array.isArray(value)) {
      const out = value.map((v) => render(v, vars));
      return out.some((v, i) => v !== value[i]) ? out : value;
    }
    if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
      let changed = false;
      const out: Vars = {};
      for (const k of Object.keys(value)) {
        const v = (value as Vars)[k];
        const key = hasTemplate(k) ? pyStr(renderString(k, vars)) : k;
        const r = render(v, vars);
        if (key !== k || r !== v) changed = true;
        out[key] = r;
      }
      return changed ? out : value;
    }
    return value;
  };

  const evaluate = (expr: string, vars: Vars): unknown => {
    if (typeof expr !== 'string') return expr;
    // Ansible tolerates `when: "{{ x }}"`: the template's value is the condition.
    if (hasTemplate(expr)) return render(expr, vars);
    const source = `{{ ${expr} }}`;
    return run(cached(expressions, expr, source), vars, expr);
  };

  return { render, evaluate };
}
