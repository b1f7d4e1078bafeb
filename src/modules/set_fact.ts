// set_fact: sets variables on the host for the rest of the run (above play and task vars, below extra vars).
// Ansible reports it ok, never changed.
import type { Module } from './module.js';

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
    const { cacheable: _cacheable, ...facts } = args;
    return { changed: false, facts };
  },
};
