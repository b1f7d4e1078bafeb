// set_fact: sets variables on the host for the rest of the run (above play and task vars, below extra vars).
// Ansible reports it ok, never changed.
import type { Module } from './module.js';

const BOOLEAN_WORDS = new Set(['true', 'false', 'yes', 'no']);

export const setFactModule: Module = {
  name: 'set_fact',
  summary: 'Set variables on the host for the rest of the run',
  args: {
    type: 'object',
    minProperties: 1,
    // Any variable name; `cacheable` is Ansible's fact-cache switch, accepted and ignored (there is no cache).
    propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
    properties: {
      cacheable: { type: 'boolean', description: 'Accepted for Ansible compatibility; ignored' },
    },
    additionalProperties: true,
  },
  check: 'full',
  async run(_ctx, args) {
    const { cacheable: _cacheable, ...given } = args;
    // As Ansible's set_fact: a string that reads as a boolean becomes one (`enabled=yes`, "{{ 'true' }}").
    const facts = Object.fromEntries(
      Object.entries(given).map(([k, v]) => [
        k,
        typeof v === 'string' && BOOLEAN_WORDS.has(v.toLowerCase()) ? /^(true|yes)$/i.test(v) : v,
      ]),
    );
    return { changed: false, facts };
  },
};
