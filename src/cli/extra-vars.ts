// -e/--extra-vars as ansible-playbook takes them: `k=v k2=v2`, a JSON/YAML mapping, or `@file`.
import { parse } from 'yaml';
import { InputFileError, readInputTextSync } from '../core/input-file.js';
import type { Vars } from '../core/model.js';
import { type Problem, UsageError, UserError } from '../core/problems.js';
import { parseVarsText } from '../inventory/vars-files.js';

export function parseExtraVars(values: string[] = []): Vars {
  const out: Vars = {};
  for (const raw of values) {
    const v = raw.trim();
    if (v.startsWith('@')) {
      Object.assign(out, varsFile(v.slice(1), raw));
    } else if (v.startsWith('{')) {
      Object.assign(out, mapping(parseOrFail(v, raw), raw));
    } else {
      for (const pair of splitPairs(v)) {
        const eq = pair.indexOf('=');
        if (eq <= 0)
          throw new UsageError(
            `-e ${raw}: expected key=value, got '${pair}'`,
            'example: -e mailbox=User@corp.example',
          );
        out[pair.slice(0, eq)] = unquote(pair.slice(eq + 1));
      }
    }
  }
  return out;
}

/** `-e @file`: a YAML or JSON mapping, read within the input bounds, its mistakes at file:line:col. */
function varsFile(file: string, raw: string): Vars {
  let text: string;
  try {
    text = readInputTextSync(file);
  } catch (e) {
    if (!(e instanceof InputFileError)) throw e;
    throw new UsageError(`-e ${raw}: ${e.message}`, 'give the path of a YAML or JSON file after @');
  }
  const problems: Problem[] = [];
  const layer = parseVarsText(file, text, problems);
  if (problems.length > 0 || !layer) throw new UserError(problems);
  return layer.vars;
}

function parseOrFail(text: string, raw: string): unknown {
  try {
    return parse(text);
  } catch (e) {
    throw new UsageError(
      `-e ${raw}: not valid YAML/JSON: ${e instanceof Error ? e.message.split('\n')[0] : e}`,
    );
  }
}

function mapping(v: unknown, raw: string): Vars {
  if (v === null || v === undefined) return {};
  if (typeof v !== 'object' || Array.isArray(v))
    throw new UsageError(`-e ${raw}: must be a mapping of variables`);
  return v as Vars;
}

/** Splits on spaces outside quotes (Ansible's key=value form allows quoted values with spaces). */
function splitPairs(s: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let quote: string | undefined;
  for (const ch of s) {
    if (quote) {
      if (ch === quote) quote = undefined;
      cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      cur += ch;
    } else if (/\s/.test(ch)) {
      if (cur) parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur) parts.push(cur);
  return parts;
}

function unquote(s: string): string {
  return /^(["']).*\1$/s.test(s) ? s.slice(1, -1) : s;
}
