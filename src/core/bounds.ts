// The limits that keep hostile or mistaken input from exhausting the control node: each is far above what a
// real playbook or inventory needs, and each is reported as a user mistake (exit 2) where it is met.
// The README's "Bounds" table lists them; change both together.

/** Largest playbook, task, vars, inventory, state or -e @file ewsplay reads (10 MiB). */
export const MAX_INPUT_FILE_BYTES = 10 * 1024 * 1024;

/** Most values YAML aliases (`*name`, `<<: *name`) may add to one document, counted as expanded. */
export const MAX_ALIAS_EXPANSION = 100_000;

/** Deepest nesting of lists and mappings in one YAML document. */
export const MAX_YAML_DEPTH = 1_000;

/** Most hosts one host range (`web[1:100]`) may name. */
export const MAX_RANGE_HOSTS = 100_000;

/** Most hosts of one inventory (all its files and ranges together). */
export const MAX_INVENTORY_HOSTS = 100_000;

/** Most items one task may loop over. */
export const MAX_LOOP_ITEMS = 100_000;

/** Longest string one template render may produce (16 Mi characters). */
export const MAX_TEMPLATE_STRING = 16 * 1024 * 1024;

/** Most items of a list a template builds (range(), list, filters). */
export const MAX_TEMPLATE_LIST = 1_000_000;

/** Most loop iterations and macro calls of one template render (a for loop inside a for loop adds up). */
export const MAX_TEMPLATE_STEPS = 2_500_000;

/** 10485760 -> "10 MiB", for messages. */
export function sizeText(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB`;
  if (bytes >= 1024) return `${Math.round((bytes / 1024) * 10) / 10} KiB`;
  return `${bytes} bytes`;
}

/**
 * Most values (or lines) of one YAML file: the YAML parser needs about a kilobyte and some microseconds per
 * value, so a dense 10 MiB file would take over a gigabyte and many seconds. Counted before parsing.
 */
export const MAX_YAML_VALUES = 250_000;
