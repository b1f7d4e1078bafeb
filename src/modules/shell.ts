// shell: runs a command line through /bin/sh (or `executable`) on the host, so pipes, redirections and
// variables work. Check mode predicts only through creates/removes.
import { shq } from '../core/shell-quote.js';
import type { Module } from './module.js';
import { commandSpec, GUARD_PROPERTIES, runCommandTask } from './run-command.js';

export const shellModule: Module = {
  name: 'shell',
  summary: 'Run a command line through the shell on the host (creates, removes, chdir, stdin)',
  freeForm: 'cmd',
  commandLine: true,
  args: {
    type: 'object',
    additionalProperties: false,
    required: ['cmd'],
    properties: {
      cmd: { type: 'string', minLength: 1, description: 'The shell command line' },
      executable: {
        type: 'string',
        minLength: 1,
        description: 'The shell to run the command with (absolute path), instead of /bin/sh',
      },
      ...GUARD_PROPERTIES,
    },
  },
  check: 'probe',
  async run(ctx, args) {
    const cmd = String(args.cmd);
    const executable = typeof args.executable === 'string' ? args.executable : undefined;
    // The connection runs scripts with /bin/sh -c already; another shell gets the line as its -c argument.
    const script = executable ? `exec ${shq(executable)} -c ${shq(cmd)}` : cmd;
    return runCommandTask(ctx, commandSpec(args, script, cmd));
  },
};
