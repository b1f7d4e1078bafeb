// The shape of a site's state file, checked field by field before `status`, `run` or `--resume` read it: a
// file edited by hand, cut short or written by another tool is told as one sentence at the field, never as
// "Cannot read properties of undefined" from deep inside the status table.

/** What is wrong and where: the JSON path of the field at fault (keys and indexes). */
export interface StateShapeProblem {
  path: (string | number)[];
  message: string;
}

type Check = (v: unknown, path: (string | number)[]) => StateShapeProblem | undefined;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const show = (v: unknown) => {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
};

const fail = (path: (string | number)[], expected: string, v: unknown): StateShapeProblem => ({
  path,
  message: `${path.length ? path.join('.') : 'the file'} is ${show(v)}, expected ${expected}`,
});

const string: Check = (v, path) => (typeof v === 'string' ? undefined : fail(path, 'a string', v));
const number: Check = (v, path) => (typeof v === 'number' ? undefined : fail(path, 'a number', v));
const boolean: Check = (v, path) => (typeof v === 'boolean' ? undefined : fail(path, 'true or false', v));
const oneOf =
  (...words: string[]): Check =>
  (v, path) =>
    typeof v === 'string' && words.includes(v) ? undefined : fail(path, `one of ${words.join(', ')}`, v);
const list =
  (item: Check): Check =>
  (v, path) => {
    if (!Array.isArray(v)) return fail(path, 'a list', v);
    for (const [i, x] of v.entries()) {
      const p = item(x, [...path, i]);
      if (p) return p;
    }
    return undefined;
  };
const mapOf =
  (value: Check): Check =>
  (v, path) => {
    if (!isObject(v)) return fail(path, 'an object', v);
    for (const [k, x] of Object.entries(v)) {
      const p = value(x, [...path, k]);
      if (p) return p;
    }
    return undefined;
  };
const object =
  (required: Record<string, Check>, optional: Record<string, Check> = {}): Check =>
  (v, path) => {
    if (!isObject(v)) return fail(path, 'an object', v);
    for (const [k, check] of Object.entries(required)) {
      if (!(k in v)) return { path: [...path, k], message: `${[...path, k].join('.')} is missing` };
      const p = check(v[k], [...path, k]);
      if (p) return p;
    }
    for (const [k, check] of Object.entries(optional)) {
      if (v[k] === undefined) continue;
      const p = check(v[k], [...path, k]);
      if (p) return p;
    }
    return undefined;
  };

const STATUS = oneOf('done', 'failed', 'interrupted');
const STEP = object(
  { play: string, name: string, playbook: string, order: list(number), status: STATUS, at: string },
  { failedHosts: list(string), limit: string, hosts: mapOf(STATUS), report: string },
);
const LAST_RUN = object(
  { playbook: string, startedAt: string, result: string },
  {
    finishedAt: string,
    exitCode: number,
    interrupted: boolean,
    changed: number,
    failed: number,
    report: string,
  },
);
const OUTCOME = object({ status: string }, { at: string, host: string, error: string });
const MAILBOXES = object({ file: string }, { operations: mapOf(mapOf(OUTCOME)), error: string });
const STATE = object(
  { version: (v, path) => (v === 1 ? undefined : fail(path, '1', v)), steps: mapOf(STEP) },
  {
    site: string,
    updatedAt: string,
    inventory: list(string),
    lastRun: LAST_RUN,
    playbooks: mapOf(list(object({ id: string, play: string, name: string }))),
    mailboxes: list(MAILBOXES),
  },
);

/** The first field of a parsed state file that is not what ewsplay writes, or undefined. */
export function stateShapeProblem(value: unknown): StateShapeProblem | undefined {
  return STATE(value, []);
}

/** line:col of a field in the file's JSON text: the key of each path step, searched in order. */
export function jsonPathPos(text: string, path: (string | number)[]): { line: number; col: number } {
  let at = 0;
  for (const step of path) {
    if (typeof step !== 'string') continue;
    const found = text.indexOf(JSON.stringify(step), at);
    if (found < 0) break;
    at = found;
  }
  const before = text.slice(0, at).split('\n');
  return { line: before.length, col: before.at(-1)!.length + 1 };
}
