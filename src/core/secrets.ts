// Every secret value is registered here at its source (vault, env, prompt, ansible_*password vars)
// and masked on every output path. Obvious encodings (base64, URL, JSON-escaped) are masked too.
export const MASK = '********';

export class Secrets {
  private readonly values = new Set<string>();
  private pattern: RegExp | undefined;

  add(value: unknown): void {
    if (typeof value !== 'string' && typeof value !== 'number') return;
    const s = String(value);
    // Very short values would mask innocent text everywhere; they are still never printed by
    // modules that know them to be secret, but they are not pattern-masked.
    if (s.length < 3) return;
    for (const v of [
      s,
      Buffer.from(s).toString('base64'),
      encodeURIComponent(s),
      JSON.stringify(s).slice(1, -1),
      // Inside single quotes, as the `quote` filter (Python's shlex.quote) and sh quoting write it.
      s.replace(/'/g, `'"'"'`),
      s.replace(/'/g, `'\\''`),
      // Each line of a multi-line secret (a key file) may be printed on its own (stdout_lines).
      ...s.split(/\r?\n/).filter((line) => s.includes('\n') && line.trim().length >= 8),
    ]) {
      if (!this.values.has(v)) {
        this.values.add(v);
        this.pattern = undefined;
      }
    }
  }

  has(value: string): boolean {
    return this.values.has(value);
  }

  get size(): number {
    return this.values.size;
  }

  mask(text: string): string {
    if (this.values.size === 0 || !text) return text;
    if (!this.pattern) {
      const sorted = [...this.values].sort((a, b) => b.length - a.length);
      this.pattern = new RegExp(sorted.map(escapeRegExp).join('|'), 'g');
    }
    return text.replace(this.pattern, MASK);
  }

  /** Deep-masks strings inside any JSON-like value. */
  maskDeep<T>(value: T): T {
    if (this.values.size === 0) return value;
    return maskValue(value, (s) => this.mask(s)) as T;
  }
}

function maskValue(value: unknown, mask: (s: string) => string): unknown {
  if (typeof value === 'string') return mask(value);
  if (Array.isArray(value)) return value.map((v) => maskValue(v, mask));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = maskValue(v, mask);
    return out;
  }
  return value;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
