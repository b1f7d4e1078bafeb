// What modules and the engine may ask of the templar, without importing it.
import type { Vars } from './model.js';

export interface TemplateApi {
  /** Renders every string inside `value` (deep) with `vars`. */
  render(value: unknown, vars: Vars): unknown;
  /** Evaluates a bare Jinja expression (`when:` style) to a value. */
  evaluate(expr: string, vars: Vars): unknown;
}
