/** A template could not be rendered: an undefined variable, a failing filter, bad syntax. */
export class TemplateError extends Error {
  override name = 'TemplateError';
  /** 1-based line inside a multi-line template (the template module names the file). */
  line?: number;
  constructor(
    message: string,
    /** The undefined variable, as written (`result.stdout`), when that is the cause. */
    readonly variable?: string,
  ) {
    super(message);
  }
}
