// ajv validators compiled once per schema, and ajv's errors turned into messages for people: which key is
// unknown (and what was probably meant), which argument is missing, what a value should look like.
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { Ajv2020 } from 'ajv/dist/2020.js';
import type { Problem, SourcePos } from '../core/problems.js';
import { closest, didYouMean } from '../core/suggest.js';
import { precompiledValidator } from './precompiled.js';
import type { YamlPath } from './yaml.js';

/** The options every validator is compiled with, at build time (precompiled.ts) and at run time alike. */
export const AJV_OPTIONS = {
  allErrors: true,
  verbose: true,
  strict: true,
  strictTypes: false,
  strictTuples: false,
} as const;

const require = createRequire(import.meta.url);
let ajv: Ajv2020 | undefined;
const compiled = new WeakMap<object, ValidateFunction>();

/** ajv itself, loaded only when a schema was not compiled at build time (its code costs ~50 ms to load). */
export function ajvInstance(options: object = {}): Ajv2020 {
  const { Ajv2020: Ajv } = require('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js');
  const addFormats = require('ajv-formats') as typeof import('ajv-formats').default;
  const instance = new Ajv({ ...AJV_OPTIONS, ...options });
  addFormats(instance);
  return instance;
}

/** The validator of a schema: built at build time when its schema is unchanged, else compiled on first use. */
export function validatorFor(owner: object, schema: () => object): ValidateFunction {
  let validate = compiled.get(owner);
  if (!validate) {
    const s = schema();
    validate = precompiledValidator(s);
    if (!validate) {
      ajv ??= ajvInstance();
      validate = ajv.compile(s);
    }
    compiled.set(owner, validate);
  }
  return validate;
}

/** Where a validated value came from and how to name its parts in messages. */
export interface Subject {
  /** Position of the value at `path`, or of key `key` inside the mapping at `path`. */
  locate(path: YamlPath, key?: string): SourcePos;
  /** The quoted name of the value at `path`, e.g. `'dest'` or `'loop_control.label'`. */
  label(path: YamlPath): string;
  /** Message for an unknown key at the top level. */
  unknownKey(key: string): string;
  /** Message for a missing key at the top level. */
  missingKey(key: string): string;
  /** Completes "<label> must be ..." when the whole value has the wrong shape. */
  expects?: string;
}

/** Joins a path the way people write it: a.b[0].c */
export function pathText(path: YamlPath): string {
  let out = '';
  for (const step of path) out += typeof step === 'number' ? `[${step}]` : out ? `.${step}` : step;
  return out;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  null: 'empty',
};

export function kindOf(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `'${value.length > 40 ? `${value.slice(0, 40)}...` : value}'`;
  return String(value);
}

function typesText(types: string | string[]): string {
  const list = (Array.isArray(types) ? types : types.split(',')).map((t) => TYPE_NAMES[t] ?? t);
  return list.length > 1 ? `${list.slice(0, -1).join(', ')} or ${list.at(-1)}` : (list[0] ?? 'valid');
}

/** Ajv's instancePath as steps, with array indexes as numbers (checked against the value itself). */
function stepsOf(instancePath: string, root: unknown): (string | number)[] {
  if (!instancePath) return [];
  const steps: (string | number)[] = [];
  let value = root;
  for (const raw of instancePath.slice(1).split('/')) {
    const step = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const index = Array.isArray(value) ? Number(step) : Number.NaN;
    steps.push(Number.isInteger(index) ? index : step);
    value = (value as Record<string | number, unknown> | undefined)?.[Number.isInteger(index) ? index : step];
  }
  return steps;
}

function valueAt(root: unknown, steps: (string | number)[]): unknown {
  let value = root;
  for (const s of steps) value = (value as Record<string | number, unknown> | null | undefined)?.[s];
  return value;
}

const isComposite = (e: ErrorObject) => e.keyword === 'anyOf' || e.keyword === 'oneOf';
const inside = (inner: ErrorObject, outer: ErrorObject) =>
  inner.schemaPath.startsWith(`${outer.schemaPath}/`) && inner.instancePath.startsWith(outer.instancePath);

/** Ajv errors of one validation as Problems, one per real mistake. */
export function explainErrors(errors: ErrorObject[], value: unknown, subject: Subject): Problem[] {
  // `dset` for `dest` is one mistake: the unknown key's hint says it, so "dest is missing" would be noise.
  const guessed = new Set<string>();
  for (const e of errors) {
    if (e.keyword !== 'additionalProperties') continue;
    const known = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
    const guess = closest(String(e.params.additionalProperty), known);
    if (guess) guessed.add(`${e.instancePath}/${guess}`);
  }
  // An `if` error only says its `then` failed; the `then` errors beside it say what is wrong.
  const kept = errors.filter(
    (e) =>
      e.keyword !== 'if' &&
      (e.keyword !== 'required' || !guessed.has(`${e.instancePath}/${String(e.params.missingProperty)}`)),
  );
  return explain(kept, value, subject, undefined);
}

function explain(
  errors: ErrorObject[],
  value: unknown,
  subject: Subject,
  hint: string | undefined,
): Problem[] {
  const composites = errors.filter(
    (e) => isComposite(e) && !errors.some((o) => o !== e && isComposite(o) && inside(e, o)),
  );
  const problems: Problem[] = [];
  for (const e of errors) {
    if (composites.some((c) => c !== e && inside(e, c))) continue;
    if (composites.includes(e)) problems.push(...explainComposite(e, errors, value, subject, hint));
    else problems.push(explainOne(e, value, subject, hint));
  }
  return problems;
}

const quoted = (names: string[]) => names.map((n) => `'${n}'`);
const either = (names: string[]) =>
  names.length > 1 ? `${quoted(names.slice(0, -1)).join(', ')} or '${names.at(-1)}'` : quoted(names).join('');

/**
 * anyOf/oneOf: the alternative that fits the value's type, or the closest one, holds the real mistake; when
 * every alternative only lacks a key, the message lists the keys to choose from.
 */
function explainComposite(
  c: ErrorObject,
  errors: ErrorObject[],
  value: unknown,
  subject: Subject,
  inherited: string | undefined,
): Problem[] {
  const hint = (c.parentSchema as { description?: string } | undefined)?.description ?? inherited;
  const steps = stepsOf(c.instancePath, value);
  const at = (message: string): Problem[] => [
    { ...subject.locate(steps), message, ...(hint ? { hint } : {}) },
  ];
  const branches = new Map<string, ErrorObject[]>();
  for (const e of errors) {
    if (!inside(e, c)) continue;
    const index = e.schemaPath.slice(c.schemaPath.length + 1).split('/')[0]!;
    branches.set(index, [...(branches.get(index) ?? []), e]);
  }
  const alternatives = (c.schema as { type?: string | string[]; required?: string[] }[] | undefined) ?? [];
  const label = subject.label(steps);
  if (branches.size === 0) {
    // oneOf matched several alternatives: they exclude each other.
    const keys = alternatives.flatMap((a) => a.required ?? []);
    return at(
      keys.length > 1
        ? `${label} takes only one of ${quoted(keys).join(', ')}`
        : `${label} matches more than one form`,
    );
  }
  const fitting = [...branches.values()].filter(
    (errs) => !errs.some((e) => e.keyword === 'type' && e.instancePath === c.instancePath),
  );
  if (fitting.length === 0) {
    const types = [...new Set(alternatives.flatMap((a) => a.type ?? []))];
    const expected =
      steps.length === 0 && subject.expects ? subject.expects : types.length ? typesText(types) : 'valid';
    return at(`${label} must be ${expected}, got ${kindOf(valueAt(value, steps))}`);
  }
  const onlyMissing = fitting.every((errs) =>
    errs.every((e) => e.keyword === 'required' && e.instancePath === c.instancePath),
  );
  if (fitting.length > 1 && onlyMissing) {
    const keys = [
      ...new Set(fitting.map((errs) => errs.map((e) => String(e.params.missingProperty)).join("' and '"))),
    ];
    return at(`${label} needs ${steps.length === 0 ? 'the argument ' : ''}${either(keys)}`);
  }
  const closestBranch = fitting.reduce((best, errs) => (errs.length < best.length ? errs : best));
  return explain(closestBranch, value, subject, hint);
}

function explainOne(
  e: ErrorObject,
  value: unknown,
  subject: Subject,
  inherited: string | undefined,
): Problem {
  const steps = stepsOf(e.instancePath, value);
  const here = valueAt(value, steps);
  const label = subject.label(steps);
  const parent = e.parentSchema as { description?: string; properties?: Record<string, unknown> } | undefined;
  const hint = parent?.description ?? inherited;
  const withHint = (pos: SourcePos, message: string, h: string | undefined = hint): Problem => ({
    ...pos,
    message,
    ...(h ? { hint: h } : {}),
  });
  const p = e.params as Record<string, unknown>;
  // A keyword's value of the wrong shape: say what the keyword takes, in its own words.
  const shape = ['type', 'pattern', 'format', 'minLength', 'minItems'].includes(e.keyword);
  if (steps.length === 0 && subject.expects && shape)
    return withHint(subject.locate(steps), `${label} must be ${subject.expects}, got ${kindOf(here)}`);
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(p.additionalProperty);
      const message = steps.length === 0 ? subject.unknownKey(key) : `unknown key '${key}' in ${label}`;
      return withHint(
        subject.locate(steps, key),
        message,
        didYouMean(key, Object.keys(parent?.properties ?? {})),
      );
    }
    case 'required': {
      const key = String(p.missingProperty);
      const message = steps.length === 0 ? subject.missingKey(key) : `${label} requires the key '${key}'`;
      return withHint(subject.locate(steps), message, undefined);
    }
    case 'type':
      return withHint(
        subject.locate(steps),
        `${label} must be ${typesText(p.type as string)}, got ${kindOf(here)}`,
      );
    case 'enum': {
      const allowed = (p.allowedValues as unknown[]).map((v) => `'${String(v)}'`).join(', ');
      const guess =
        typeof here === 'string' ? didYouMean(here, (p.allowedValues as unknown[]).map(String)) : undefined;
      return withHint(
        subject.locate(steps),
        `${label} must be one of ${allowed}, got ${kindOf(here)}`,
        guess ?? hint,
      );
    }
    case 'const':
      return withHint(
        subject.locate(steps),
        `${label} must be '${String(p.allowedValue)}', got ${kindOf(here)}`,
      );
    case 'pattern':
    case 'format':
      return withHint(subject.locate(steps), `${label} has the wrong form: ${kindOf(here)}`);
    case 'minLength':
      return withHint(
        subject.locate(steps),
        p.limit === 1
          ? `${label} must not be empty`
          : `${label} must be at least ${String(p.limit)} characters long`,
      );
    case 'maxLength':
      return withHint(subject.locate(steps), `${label} must be at most ${String(p.limit)} characters long`);
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return withHint(
        subject.locate(steps),
        `${label} must be ${String(p.comparison)} ${String(p.limit)}, got ${kindOf(here)}`,
      );
    case 'minItems':
      return withHint(subject.locate(steps), `${label} must have at least ${String(p.limit)} item(s)`);
    case 'maxItems':
      return withHint(subject.locate(steps), `${label} must have at most ${String(p.limit)} item(s)`);
    case 'not': {
      const excluded = (e.schema as { required?: string[] } | undefined)?.required ?? [];
      if (excluded.length > 1)
        return withHint(
          subject.locate(steps, excluded.at(-1)),
          `${quoted(excluded).join(' and ')} cannot be used together${steps.length ? ` in ${label}` : ''}`,
        );
      return withHint(
        subject.locate(steps, excluded[0]),
        `${excluded.length ? `'${excluded[0]}'` : label} is not allowed here`,
      );
    }
    case 'dependentRequired':
      return withHint(
        subject.locate(steps),
        `'${String(p.property)}' needs '${String(p.missingProperty)}' beside it`,
      );
    default:
      return withHint(subject.locate(steps), `${label} ${e.message ?? 'is not valid'}`);
  }
}

/**
 * Drops the errors about values that are templates (or inside one): `port: "{{ forwarder_port }}"` is a
 * whole number only once rendered, so such values are checked at run time instead (task-runner).
 */
export function withoutTemplated(errors: ErrorObject[], value: unknown): ErrorObject[] {
  return errors.filter((e) => {
    let v = value;
    for (const step of e.instancePath.split('/').slice(1)) {
      if (typeof v === 'string') break;
      if (v === null || typeof v !== 'object') return true;
      v = (v as Record<string, unknown>)[step.replace(/~1/g, '/').replace(/~0/g, '~')];
    }
    return !(typeof v === 'string' && (v.includes('{{') || v.includes('{%')));
  });
}
