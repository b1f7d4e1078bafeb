// A template is data, and data must not exhaust the control node: one render may take only so many steps
// (loop iterations, macro calls, filter work over list items) and produce only so much text or list. Renders
// are synchronous, so these bounds are also what keeps Ctrl-C and SIGTERM answered within about a second.
// Every bound ends the render with a TemplateError, which the task or loader reports at its file:line.
import { MAX_TEMPLATE_LIST, MAX_TEMPLATE_STEPS, MAX_TEMPLATE_STRING } from '../core/bounds.js';
import { TemplateError } from './errors.js';
import type { NjEnvironment, NjNode, NjRuntime, Nunjucks } from './nunjucks.js';

/** The global that counts literal text of a template through the output bound (see boundLiterals). */
export const TEXT_FN = '__ews_text';

let depth = 0;
let steps = 0;
let outputChars = 0;

/** Runs one render (renders nest when a lazy variable is a template): the outermost one owns the budget. */
export function withinRenderBounds<T>(render: () => T): T {
  if (depth === 0) {
    steps = 0;
    outputChars = 0;
  }
  depth++;
  try {
    return checkSize(render());
  } finally {
    depth--;
  }
}

function step(by: number): void {
  steps += by;
  if (steps > MAX_TEMPLATE_STEPS)
    throw new TemplateError(
      `the template takes more than ${MAX_TEMPLATE_STEPS.toLocaleString('en')} steps (loop iterations and list items): it must do less work`,
    );
}

function countOutput(text: string): string {
  outputChars += text.length;
  if (outputChars > MAX_TEMPLATE_STRING) throw tooLong(outputChars);
  return text;
}

function tooLong(length: number): TemplateError {
  return new TemplateError(
    `the template's result is ${length.toLocaleString('en')} characters or more, over the limit of ${MAX_TEMPLATE_STRING.toLocaleString('en')}`,
  );
}

/** A value a render or filter produced: a string or list over the bounds is refused. */
function checkSize<T>(value: T): T {
  if (typeof value === 'string' && value.length > MAX_TEMPLATE_STRING) throw tooLong(value.length);
  if (Array.isArray(value) && value.length > MAX_TEMPLATE_LIST)
    throw new TemplateError(
      `the template builds a list of ${value.length.toLocaleString('en')} items, over the limit of ${MAX_TEMPLATE_LIST.toLocaleString('en')}`,
    );
  return value;
}

/**
 * Counts frame bindings (each loop iteration and macro call makes some), output and filter work. Call once,
 * after the templar installed its own suppressValue and filters.
 */
export function installRenderBounds(runtime: NjRuntime, env: NjEnvironment): void {
  const frame = runtime.Frame.prototype as unknown as { set(...args: unknown[]): unknown };
  const set = frame.set;
  frame.set = function (this: unknown, ...args: unknown[]) {
    step(1);
    return set.apply(this, args);
  };
  const suppress = runtime.suppressValue;
  runtime.suppressValue = (val: unknown, autoescape: boolean) => {
    const out = suppress(val, autoescape);
    return typeof out === 'string' ? countOutput(out) : out;
  };
  env.addGlobal(TEXT_FN, (text: string) => text);
  for (const [name, filter] of Object.entries(env.filters)) {
    if (typeof filter !== 'function') continue;
    const bounded = function (this: unknown, value: unknown, ...args: unknown[]) {
      // A filter's work grows with the list it is given; center(10**9) and friends grow with their width.
      step(1 + (Array.isArray(value) ? value.length : 0));
      const kwargs = args.at(-1) as Record<string, unknown> | undefined;
      const sizes =
        kwargs && typeof kwargs === 'object' && '__keywords' in kwargs ? Object.values(kwargs) : [];
      for (const a of [...args, ...sizes])
        if (typeof a === 'number' && a > MAX_TEMPLATE_STRING && WIDTH_FILTERS.has(name))
          throw new TemplateError(
            `${name}: a width of ${a.toLocaleString('en')} is over the limit of ${MAX_TEMPLATE_STRING.toLocaleString('en')}`,
          );
      return checkSize((filter as (...a: unknown[]) => unknown).call(this, value, ...args));
    };
    Object.defineProperty(bounded, 'name', { value: filter.name });
    env.filters[name] = bounded;
  }
}

/** Filters whose numeric arguments are sizes of the text they build. */
const WIDTH_FILTERS = new Set(['center', 'indent', 'comment', 'to_nice_yaml', 'to_nice_json']);

/**
 * Literal text inside a loop is appended without passing through the runtime: route it through TEXT_FN so
 * the output bound sees it (the compiled template stays the same otherwise).
 */
export function boundLiterals(nj: Nunjucks, root: NjNode): void {
  const N = nj.nodes;
  const walk = (node: NjNode, inLoop: boolean) => {
    const loop = inLoop || node.typename === 'For' || node.typename === 'Macro';
    if (loop && node.typename === 'Output') {
      node.children = (node.children as NjNode[]).map((child) =>
        child.typename === 'TemplateData'
          ? new N.FunCall!(
              child.lineno,
              child.colno,
              new N.Symbol!(0, 0, TEXT_FN),
              new N.NodeList!(0, 0, [new N.Literal!(child.lineno, child.colno, child.value)]),
            )
          : child,
      );
    }
    for (const field of node.fields) {
      const v = node[field];
      for (const k of Array.isArray(v) ? v : [v])
        if (k && typeof k === 'object' && typeof (k as NjNode).typename === 'string') walk(k as NjNode, loop);
    }
  };
  walk(root, false);
}
