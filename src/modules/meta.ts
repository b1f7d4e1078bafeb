// meta: Ansible's engine actions (`meta: flush_handlers`, end_host, end_play ...). The engine carries them
// out for the batch; on a host the task only decides, through `when:`, whether the action applies there.
import type { Module } from './module.js';

export const META_ACTIONS = [
  'flush_handlers',
  'end_host',
  'end_batch',
  'end_play',
  'clear_host_errors',
  'noop',
] as const;

export type MetaAction = (typeof META_ACTIONS)[number];

export const metaModule: Module = {
  name: 'meta',
  summary: 'Engine actions: flush_handlers, end_host, end_batch, end_play, clear_host_errors, noop',
  freeForm: 'free_form',
  args: {
    type: 'object',
    additionalProperties: false,
    required: ['free_form'],
    properties: {
      free_form: {
        type: 'string',
        enum: [...META_ACTIONS],
        description:
          'flush_handlers: run the handlers notified so far; end_host: this host stops the play (not failed); ' +
          'end_batch: the batch stops (serial); end_play: the play stops for every host; clear_host_errors: ' +
          'failed hosts of the batch go on; noop: nothing',
      },
    },
  },
  check: 'full',
  async run(_ctx, args) {
    // The action happens in the engine once every host has answered; here the host only says "applies".
    return { changed: false, msg: String(args.free_form) };
  },
};
