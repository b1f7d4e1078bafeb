// command: runs a program with arguments, without a shell (as Ansible's command): the command line is split
// like shlex and every word is quoted, so `;`, `|`, `>`, `$VAR` and globs reach the program literally.
import { shq } from '../core/shell-quote.js';
import { fail } from './kit.js';
import type { Module } from './module.js';
import { commandSpec, GUARD_PROPERTIES, runCommandTask, shlexSplit } from './run-command.js';

export const commandModule: Module = {
  name: 'command',
  summary: 'Run a program with arguments on the host, without a shell (creates, removes, chdir, stdin)',
  freeForm: 'cmd',
  commandLine: true,
  args: {
    type: 'object',
    additionalProperties: false,
    // Exactly one of cmd and argv. (Subschemas declare what they require, for Ajv's strict mode.)
    oneOf: [
      { properties: { cmd: true }, required: ['cmd'] },
      { properties: { argv: true }, required: ['argv'] },
    ],
    properties: {
      cmd: {
        type: 'string',
        minLength: 1,
        description:
          'The command line, split into words like a shell would but never run by one: no pipes, redirections or variables',
      },
      argv: {
        type: 'array',
        minItems: 1,
        items: { type: 'string' },
        description: 'The program and its arguments as a list (no splitting or quoting needed)',
      },
      ...GUARD_PROPERTIES,
    },
  },
  check: 'probe',
  async run(ctx, args) {
    const argv = Array.isArray(args.argv) ? args.argv.map(String) : shlexSplit(String(args.cmd));
    if (argv.length === 0) return fail('the command line is empty');
    return runCommandTask(ctx, commandSpec(args, `exec ${argv.map(shq).join(' ')}`, argv));
  },
};
