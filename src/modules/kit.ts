// What every module shares: one vocabulary for results (ok, changed, fail), typed arguments with the
// schema's defaults applied (defineModule), and check mode decided here from the module's declaration,
// not by each module: a module that plans returns `planned(prediction, act)`, and `act` runs only when the
// task is not in check mode; a module declared `check: { skip }` is not run at all in check mode.
import type { ArgsSchema, Module, ModuleContext, ModuleResult } from './module.js';

type Extra = Omit<ModuleResult, 'changed' | 'msg'>;

/** Nothing changed (or nothing to change). */
export function ok(msg?: string, extra: Extra = {}): ModuleResult {
  return { changed: false, ...(msg !== undefined ? { msg } : {}), ...extra };
}

/** Something changed. */
export function changed(msg?: string, extra: Extra = {}): ModuleResult {
  return { changed: true, ...(msg !== undefined ? { msg } : {}), ...extra };
}

type FailExtra = Omit<ModuleResult, 'failed' | 'msg' | 'data' | 'changed'> & { changed?: boolean };

/** The task failed (nothing was changed unless `extra` says `changed: true`). */
export function fail(msg: string): ModuleResult;
export function fail<D extends Record<string, unknown> | undefined>(
  msg: string,
  data: D,
  extra?: FailExtra,
): ModuleResult & (D extends undefined ? unknown : { data: D });
export function fail(msg: string, data?: Record<string, unknown>, extra: FailExtra = {}): ModuleResult {
  return { changed: false, failed: true, msg, ...(data !== undefined ? { data } : {}), ...extra };
}

const PLANNED = Symbol('planned');

/** What a module would do (the check-mode result) and the action that does it. */
export interface Planned {
  [PLANNED]: true;
  prediction: ModuleResult | (() => Promise<ModuleResult | Planned>);
  act: () => Promise<ModuleResult | Planned>;
}

/**
 * A change the module has worked out but not made: in check mode the task's result is `prediction`,
 * otherwise whatever `act` returns. The module never asks whether it runs in check mode.
 *
 * When acting changes what the module reads (systemd's daemon-reload before reading a unit), `prediction`
 * may be a function: only the branch the task takes is run, and either may return a plan of its own.
 */
export function planned(
  prediction: ModuleResult | (() => Promise<ModuleResult | Planned>),
  act: () => Promise<ModuleResult | Planned>,
): Planned {
  return { [PLANNED]: true, prediction, act };
}

function isPlanned(r: ModuleResult | Planned): r is Planned {
  return (r as Planned)[PLANNED] === true;
}

/** The result of a (possibly planned) outcome: the prediction in check mode, else what acting returns. */
async function settle(r: ModuleResult | Planned, check: boolean): Promise<ModuleResult> {
  if (!isPlanned(r)) return r;
  if (!check) return settle(await r.act(), check);
  return settle(typeof r.prediction === 'function' ? await r.prediction() : r.prediction, check);
}

/**
 * `outcome`, with `cleanup` run once it has settled: after the prediction is taken in check mode, after
 * acting otherwise (unarchive's temporary directory on the host, used by both).
 */
export async function settledThen(
  outcome: Promise<ModuleResult | Planned>,
  cleanup: () => Promise<unknown>,
): Promise<ModuleResult | Planned> {
  let r: ModuleResult | Planned;
  try {
    r = await outcome;
  } catch (e) {
    await cleanup();
    throw e;
  }
  if (!isPlanned(r)) {
    await cleanup();
    return r;
  }
  const plan = r;
  const then = async (check: boolean) => {
    try {
      return await settle(plan, check);
    } finally {
      await cleanup();
    }
  };
  return planned(
    () => then(true),
    () => then(false),
  );
}

/** A module as written: `run` receives its arguments typed and defaulted, and may return a plan. */
export interface ModuleSpec<A> extends Omit<Module, 'run'> {
  run(ctx: ModuleContext, args: A): Promise<ModuleResult | Planned>;
}

/**
 * A module from its spec. Its `run` applies the schema's defaults (`default:` of each argument: declared
 * once, in the schema), then: a `check: { skip }` module is not run in check mode (its result says why); a
 * planned result acts only outside check mode.
 */
export function defineModule<A extends object>(spec: ModuleSpec<A>): Module {
  const defaults = schemaDefaults(spec.args);
  const { check } = spec;
  return {
    ...spec,
    // The engine hands over arguments its validation passed (the loader's, or after rendering): they are
    // `A` once the defaults are in.
    async run(ctx, args) {
      if (ctx.check && typeof check === 'object') return { changed: false, skipped: true, msg: check.skip };
      return settle(await spec.run(ctx, withDefaults(defaults, args as A)), ctx.check);
    },
  };
}

/** The `default:` of each top-level argument of a schema. */
export function schemaDefaults(schema: ArgsSchema): Record<string, unknown> {
  const props = (schema.properties ?? {}) as Record<string, { default?: unknown }>;
  const out: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(props))
    if (s && typeof s === 'object' && s.default !== undefined) out[k] = s.default;
  return out;
}

function withDefaults<A>(defaults: Record<string, unknown>, args: A): A {
  const out = { ...args } as Record<string, unknown>;
  for (const [k, v] of Object.entries(defaults))
    if (out[k] === undefined) out[k] = typeof v === 'object' && v !== null ? structuredClone(v) : v;
  return out as A;
}

const TRUE = new Set(['y', 'yes', 'on', '1', 'true', 't']);
const FALSE = new Set(['n', 'no', 'off', '0', 'false', 'f']);

/** The JSON types an argument's schema accepts (its `type`, or those of its anyOf/oneOf branches). */
function typesOf(s: Record<string, unknown> | undefined): Set<string> | undefined {
  if (!s || typeof s !== 'object') return undefined;
  if (s.type !== undefined) return new Set(Array.isArray(s.type) ? (s.type as string[]) : [String(s.type)]);
  const branches = (s.anyOf ?? s.oneOf) as Record<string, unknown>[] | undefined;
  if (!Array.isArray(branches)) return undefined;
  const all = new Set<string>();
  for (const b of branches) {
    const t = typesOf(b);
    if (!t) return undefined; // a branch of any type: leave the value alone
    for (const x of t) all.add(x);
  }
  return all;
}

/**
 * Rendered arguments converted as Ansible converts them: a string where the schema takes no string but a
 * whole number, a number or a boolean becomes one (`port: "{{ ews_port }}"` with `-e ews_port=42399`).
 * Strings that do not convert are left for validation to explain. Returns a new object.
 */
export function coerceArgs(schema: ArgsSchema, args: Record<string, unknown>): Record<string, unknown> {
  const props = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  const out = { ...args };
  for (const [k, v] of Object.entries(args)) {
    if (typeof v !== 'string') continue;
    const types = typesOf(props[k]);
    if (!types || types.has('string')) continue;
    const text = v.trim();
    if ((types.has('integer') || types.has('number')) && /^[+-]?\d+$/.test(text)) out[k] = Number(text);
    else if (types.has('number') && text !== '' && Number.isFinite(Number(text))) out[k] = Number(text);
    else if (types.has('boolean') && TRUE.has(text.toLowerCase())) out[k] = true;
    else if (types.has('boolean') && FALSE.has(text.toLowerCase())) out[k] = false;
  }
  return out;
}
