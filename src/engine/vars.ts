// Variables as Ansible users expect them: lazily templated (a var may reference another var), merged in
// one documented order (see README, "Variable precedence"):
//   role defaults < inventory (all < parent group < child group < host, incl. group_vars/host_vars)
//   < play vars < vars_files < role vars < role params, block vars < task vars < registered/set_fact
//   < extra vars
import type { Vars } from '../load/model.js';
import type { TemplateApi } from '../modules/module.js';

const MAX_DEPTH = 20;

/**
 * Wraps a vars object so that a string value containing a template is rendered when read, against the same
 * vars (Ansible's lazy evaluation). Nested objects are wrapped too. Cycles end in a clear error.
 */
export function lazyVars(vars: Vars, templar: TemplateApi): Vars {
  const cache = new Map<string, unknown>();
  const resolving = new Set<string>();
  let root: Vars;
  const wrap = (value: unknown, path: string, depth: number): unknown => {
    if (typeof value === 'string') {
      if (!value.includes('{{') && !value.includes('{%')) return value;
      if (depth > MAX_DEPTH) return value;
      if (cache.has(path)) return cache.get(path);
      if (resolving.has(path)) throw new Error(`variable '${path}' refers to itself`);
      resolving.add(path);
      try {
        const rendered = wrap(templar.render(value, root), path, depth + 1);
        cache.set(path, rendered);
        return rendered;
      } finally {
        resolving.delete(path);
      }
    }
    if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
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
  root = new Proxy(vars, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver);
      if (typeof key !== 'string' || !Object.hasOwn(target, key)) return v;
      return wrap(v, key, 0);
    },
  });
  return root;
}

/** Strips proxies: a plain deep copy of JSON-like data (for reports and registered values). */
export function plain(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(plain);
  const out: Vars = {};
  for (const k of Object.keys(value)) out[k] = plain((value as Vars)[k]);
  return out;
}
