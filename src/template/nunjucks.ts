// nunjucks, loaded on first use (it costs ~10 ms to import, and most runs render few templates) and typed
// for the internals the templar drives directly: parser, compiler, nodes, Context and Frame.
import { createRequire } from 'node:module';

/** A node of the nunjucks template AST. Fields differ per type; `fields` lists them. */
export interface NjNode {
  typename: string;
  lineno: number;
  colno: number;
  fields: string[];
  [field: string]: unknown;
}

type NodeClass = new (lineno: number, colno: number, ...fields: unknown[]) => NjNode;

export interface NjContext {
  ctx: Record<string, unknown>;
}

export interface NjTemplate {
  blocks: Record<string, unknown>;
  rootRenderFunc(
    env: NjEnvironment,
    context: NjContext,
    frame: unknown,
    runtime: unknown,
    cb: (err: unknown, out: string) => void,
  ): void;
}

export interface NjEnvironment {
  addFilter(name: string, fn: (...args: never[]) => unknown): void;
  addTest(name: string, fn: (...args: never[]) => unknown): void;
  addGlobal(name: string, value: unknown): void;
  getFilter(name: string): (...args: unknown[]) => unknown;
  getTest(name: string): (...args: unknown[]) => unknown;
  filters: Record<string, unknown>;
  tests: Record<string, unknown>;
}

export interface NjRuntime {
  memberLookup(obj: unknown, val: unknown, ...rest: unknown[]): unknown;
  suppressValue(val: unknown, autoescape: boolean): unknown;
  Frame: new () => { topLevel: boolean };
}

export interface Nunjucks {
  Environment: new (loaders: null, opts: Record<string, unknown>) => NjEnvironment;
  Template: new (
    src: { type: 'code'; obj: unknown },
    env: NjEnvironment,
    path: string,
    eager: boolean,
  ) => NjTemplate;
  Context: new (
    ctx: Record<string, unknown>,
    blocks: Record<string, unknown>,
    env: NjEnvironment,
  ) => NjContext;
  runtime: NjRuntime;
  parser: { parse(src: string, extensions: unknown[], opts: Record<string, unknown>): NjNode };
  transformer: { transform(ast: NjNode, asyncFilters: string[], name: string): NjNode };
  compiler: {
    Compiler: new (
      name: string,
      throwOnUndefined: boolean,
    ) => { compile(ast: NjNode): void; getCode(): string };
  };
  nodes: Record<string, NodeClass>;
  lib: { TemplateError: new (...args: unknown[]) => Error };
  installJinjaCompat(): void;
}

let loaded: Nunjucks | undefined;

export function nunjucks(): Nunjucks {
  if (!loaded) {
    // The transformer (a compile step) is not re-exported by nunjucks' index. Each load is written
    // createRequire(import.meta.url)('name') so that scripts/bundle.mjs bundles it (see there).
    loaded = {
      ...createRequire(import.meta.url)('nunjucks'),
      transformer: createRequire(import.meta.url)('nunjucks/src/transformer'),
    } as Nunjucks;
  }
  return loaded;
}
