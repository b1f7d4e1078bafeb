// Variables as Ansible users expect them: lazily templated (a var may reference another var), merged in
// one documented order (see README, "Variable precedence"):
//   role defaults < inventory (all < parent group < child group < host, incl. group_vars/host_vars)
//   < play vars < vars_files < role vars < role params, block vars < task vars < registered/set_fact
//   < extra vars
//
// Host data is data (Ansible's "unsafe" values): only text an author wrote (playbooks, inventories, vars
// files, extra vars) is ever rendered. What came from a managed host or was produced by a render
// (registered results, set_fact, facts, loop items) is the `data` layer and is returned exactly as stored,
// so output such as `{{ 7*7 }}` printed by a host stays those characters wherever it flows.
import type { Vars } from '../core/model.js';
import type { TemplateApi } from '../core/template-api.js';

const MAX_DEPTH = 20;

interface View {
  source: Vars;
  data: Vars;
  templar: TemplateApi;
}

/** Every lazy view made here, with what it was made of (so that it can be extended without re-rendering). */
const views = new WeakMap<object, View>();

/**
 * A view of `source` whose string values holding a template are rendered when read, against the view itself
 * (Ansible's lazy evaluation); nested objects are rendered the same way; cycles end in a clear error.
 * `data` lies on top and is never rendered: the caller leaves out of it any key a higher source layer
 * (extra vars) must win.
 */
export function lazyVars(source: Vars, templar: TemplateApi, data: Vars = {}): Vars {
  const cache = new Map<string, unknown>();
  const resolving = new Set<string>();
  const merged: Vars = { ...source, ...data };
  let root: Vars;
  const wrap = (value: unknown, path: string, depth: number): unknown => {
    if (typeof value === 'string') {
      if (!value.includes('{{') && !value.includes('{%')) return value;
      if (depth > MAX_DEPTH) return value;
      if (cache.has(path)) return cache.get(path);
      if (resolving.has(path)) throw new Error(`variable '${path}' refers to itself`);
      resolving.add(path);
      try {
        // A render's result is a value, never rendered again (objects in it that are views stay lazy).
        const rendered = templar.render(value, root);
        cache.set(path, rendered);
        return rendered;
      } finally {
        resolving.delete(path);
      }
    }
    if (value && typeof value === 'object' && !Buffer.isBuffer(value) && !views.has(value)) {
      return new Proxy(value as object, {
        get(target, key, receiver) {
          const v = Reflect.get(target, key, receiver);
          if (typeof key !== 'string' || !Object.hasOwn(target, key)) return v;
          return wrap(v, `${path}.${key}`, depth);
        },
      });
    }
    return value;
  };
  root = new Proxy(merged, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver);
      if (typeof key !== 'string' || !Object.hasOwn(target, key)) return v;
      if (Object.hasOwn(data, key)) return v;
      return wrap(v, key, 0);
    },
  });
  views.set(root, { source, data, templar });
  return root;
}

/**
 * `vars` with more data on top (a loop item, a registered result while until/changed_when are evaluated):
 * the added values are never rendered, and the source below them is rendered afresh (a source variable
 * may refer to the item).
 */
export function withData(vars: Vars, data: Vars): Vars {
  const view = views.get(vars);
  if (!view) throw new Error('internal error: withData needs a view made by lazyVars');
  return lazyVars(view.source, view.templar, { ...view.data, ...data });
}

/** The keys of `data` that no key of `above` overrides (data sits below extra vars). */
export function dataBelow(data: Vars, above: Vars): Vars {
  const out: Vars = {};
  for (const k of Object.keys(data)) if (!Object.hasOwn(above, k)) out[k] = data[k];
  return out;
}

/** The value of Ansible's `omit`: an argument rendered to it is left out of the module's arguments. */
export const OMIT = '__omit_place_holder__ewsplay';

/** Arguments without the ones a template set to `omit` (in nested mappings and lists too, as Ansible does). */
export function withoutOmitted(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((v) => v !== OMIT).map(withoutOmitted);
  if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
    const out: Vars = {};
    for (const [k, v] of Object.entries(value)) if (v !== OMIT) out[k] = withoutOmitted(v);
    return out;
  }
  return value;
}

/** Strips proxies: a plain deep copy of JSON-like data (for reports and registered values). */
export function plain(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(plain);
  const out: Vars = {};
  for (const k of Object.keys(value)) out[k] = plain((value as Vars)[k]);
  return out;
}
