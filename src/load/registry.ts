// The modules the loader and the schema generator know. The real registry is the default; tests may pass
// their own.
import { moduleKeys, modules, resolveModule } from '../modules/index.js';
import type { Module } from '../modules/module.js';

export interface ModuleRegistry {
  modules: ReadonlyMap<string, Module>;
  /** A task key to its module (aliases like ansible.builtin.copy included). */
  resolve(key: string): Module | undefined;
  /** Every key a task may use as its module (canonical names and aliases). */
  keys(): string[];
}

export const defaultRegistry: ModuleRegistry = { modules, resolve: resolveModule, keys: moduleKeys };

/** A registry of exactly these modules, without aliases (for tests and tools). */
export function registryOf(list: Module[]): ModuleRegistry {
  const map = new Map(list.map((m) => [m.name, m]));
  return { modules: map, resolve: (key) => map.get(key), keys: () => [...map.keys()] };
}
