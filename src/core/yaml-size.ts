// A YAML text is measured before it is parsed: the parser's cost grows with the number of values, not the
// bytes (a 2 MB flow list of a million numbers costs it a gigabyte), so a file with more values (or lines)
// than MAX_YAML_VALUES is refused at once, at the place where it crosses the limit.
import { MAX_YAML_VALUES } from './bounds.js';

const NEWLINE = 10;
const COMMA = 44;
const OPEN_BRACKET = 91;
const OPEN_BRACE = 123;
const SPACE = 32;
const DASH = 45;
const COLON = 58;

/** The offset at which the text holds more than MAX_YAML_VALUES values or lines, or undefined. */
export function yamlTooLargeAt(text: string): number | undefined {
  // Cheap and generous: a line, a flow separator or an indicator ('- ', ': ') counts as one value.
  if (text.length < MAX_YAML_VALUES) return undefined;
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (
      c === NEWLINE ||
      c === COMMA ||
      c === OPEN_BRACKET ||
      c === OPEN_BRACE ||
      ((c === DASH || c === COLON) && text.charCodeAt(i + 1) === SPACE)
    ) {
      count++;
      if (count > MAX_YAML_VALUES) return i;
    }
  }
  return undefined;
}

export const YAML_TOO_LARGE = {
  // Digits grouped by hand: toLocaleString here, at load time, cost every start-up ~10 ms of ICU set-up.
  message: `this YAML file holds more than ${String(MAX_YAML_VALUES).replace(/\B(?=(\d{3})+$)/g, ',')} values or lines, the most ewsplay reads from one file`,
  hint: 'split it into several files (import_tasks, include_vars, vars_files, group_vars/ and host_vars/ directories)',
};
