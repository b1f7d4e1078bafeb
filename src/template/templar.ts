// The templar: Jinja-like templating on nunjucks, behaving as Ansible users expect (strict undefined
// variables, Python truthiness and printing, Ansible's filters and tests, native values for "{{ expr }}").
// nunjucks is loaded on the first string that holds a template; compiled templates are cached by source.
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { Vars } from '../load/model.js';
import type { TemplateApi } from '../modules/module.js';
import { TemplateError } from './errors.js';
import { filters } from './filters.js';
import { type NjEnvironment, type NjNode, type NjTemplate, type Nunjucks, nunjucks } from './nunjucks.js';
import { preprocess } from './preprocess.js';
import { NOT_FOUND, pyMember, pyStr, pyTruthy } from './python.js';
import { STRICT_FN, strictify, TEST_FN, TRUTHY_FN } from './strict.js';
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
  const plainLookup = runtime.memberLookup;
  nj.installJinjaCompat(); // slices (`s[:3]`) and True/False/None
  const compatLookup = runtime.memberLookup;
  runtime.memberLookup = function memberLookup(obj: unknown, val: unknown, ...slice: unknown[]) {
    if (slice.length > 0) {
      const items = compatLookup.call(this, obj, val, ...slice);
      return typeof obj === 'string' ? (items as string[]).join('') : items;
    }
    if (
      obj !== null &&
      obj !== undefined &&
      !(typeof obj === 'object' && Object.hasOwn(obj, val as string))
    ) {
      const m = pyMember(obj, val);
      if (m !== NOT_FOUND) return m;
    }
    return plainLookup.call(this, obj, val);
  };
  const SafeString = (runtime as unknown as { SafeString: new () => object }).SafeString;
  runtime.suppressValue = (val: unknown) => {
    if (val === undefined) return '';
    return typeof val === 'string' || val instanceof SafeString ? val : pyStr(val);
  };

  const env = new nj.Environment(null, { autoescape: false, dev: true });
  for (const [name, fn] of Object.entries(filters)) env.addFilter(name, fn);
  for (const [name, fn] of Object.entries(tests)) env.addTest(name, fn);
  env.addGlobal(STRICT_FN, (value: unknown, name: string) => {
    if (value === undefined) throw new TemplateError(`'${name}' is undefined`, name);
    return value;
  });
  env.addGlobal(TRUTHY_FN, pyTruthy);
  env.addGlobal(TEST_FN, (name: string, value: unknown, ...args: unknown[]) => {
    const test = env.getTest(name) as (...a: unknown[]) => unknown;
    return test(value, ...args) === true;
  });
  env.addGlobal(CAPTURE_FN, (value: unknown) => {
    captured = value;
    return '';
  });
  env.addGlobal('lookup', function (this: { ctx: Vars }, kind: string, ...terms: unknown[]) {
    const values = lookup(this.ctx, kind, terms);
    return values.length === 1 ? values[0] : values.map(pyStr).join(',');
  });
  const query = function (this: { ctx: Vars }, kind: string, ...terms: unknown[]) {
    return lookup(this.ctx, kind, terms);
  };
  env.addGlobal('query', query);
  env.addGlobal('q', query);
  engine = { nj, env };
  return engine;
}

/** Ansible's `env` and `file` lookups (run on the control node, as in Ansible). */
function lookup(vars: Vars, kind: string, args: unknown[]): unknown[] {
  const last = args[args.length - 1] as Record<string, unknown> | undefined;
  const kw = last && typeof last === 'object' && last.__keywords === true ? last : {};
  const terms = (kw === last ? args.slice(0, -1) : args).map(String);
  if (kind === 'env')
    return terms.map((t) => {
      const value = process.env[t] ?? (kw.default as string | undefined) ?? '';
      if (SECRET_ENV_NAME.test(t)) renderSecrets?.add(value);
      return value;
    });
  if (kind === 'file') {
    const base = typeof vars.playbook_dir === 'string' ? vars.playbook_dir : process.cwd();
    return terms.map((t) => {
      const candidates = isAbsolute(t) ? [t] : [join(base, 'files', t), join(base, t), t];
      for (const c of candidates) {
        try {
          return readFileSync(c, 'utf8').replace(/\s+$/, '');
        } catch {
          /* try the next place */
        }
      }
      throw new TemplateError(`lookup('file'): could not find '${t}' (looked in ${candidates.join(', ')})`);
    });
  }
  throw new TemplateError(`lookup('${kind}') is not supported (only 'env' and 'file')`);
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
  const ast = parse(nj, source);
  const native = isSingleExpression(ast);
  strictify(nj, ast);
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
  try {
    return nj.parser.parse(preprocess(source), [], LEXER_OPTS);
  } catch (e) {
    throw new TemplateError(syntaxMessage(e, source));
  }
}

const SYNTAX_WORDING: [RegExp, string][] = [
  [/^expected variable end$/, "expected '}}'"],
  [/^expected block end.*$/, "expected '%}'"],
  [/^unexpected token: (.*)$/, "unexpected '$1'"],
  [/^parse\w+: /, ''],
];

function syntaxMessage(e: unknown, source: string): string {
  const err = e as { message?: string; lineno?: number };
  let msg = String(err.message ?? e).trim();
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
  return unknownNames(ast, env);
}

function unknownNames(node: NjNode, env: NjEnvironment): string | undefined {
  if (node.typename === 'Filter') {
    const name = (node.name as NjNode).value as string;
    if (!(name in env.filters)) return `template error: no filter named '${name}' (line ${node.lineno + 1})`;
  }
  if (node.typename === 'Is') {
    const right = node.right as NjNode;
    const name = (right.typename === 'FunCall' ? (right.name as NjNode).value : right.value) as
      | string
      | undefined;
    if (typeof name === 'string' && !(name in env.tests))
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
      captured = undefined;
      const out = (c.template as unknown as { render(ctx: Vars): string }).render({ [VARS_KEY]: vars });
      return c.native ? captured : out;
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
