// A channel's exit status is kept from the moment the channel opens: over a loaded machine, a quick command's
// exit-status arrived in the same read as the open confirmation, before listeners attached after `await`,
// and a Windows host's command that had printed its answer came back as rc 255.
import { EventEmitter } from 'node:events';
import type { Client, ClientChannel } from 'ssh2';
import { describe, expect, it } from 'vitest';
import { openExec } from '../../../src/connection/ssh-jobs.js';

describe('openExec', () => {
  it('is told the exit status that arrives with the open confirmation', async () => {
    const channel = new EventEmitter() as unknown as ClientChannel;
    const client = {
      exec(_command: string, cb: (err: Error | undefined, ch: ClientChannel) => void) {
        // ssh2 parses every packet of one read in one go: open confirmation, then exit-status.
        cb(undefined, channel);
        channel.emit('exit', 3);
      },
    } as unknown as Client;
    const codes: (number | null)[] = [];
    const opened = await openExec(client, 'echo pong', false, (code) => codes.push(code));
    expect(opened).toBe(channel);
    expect(codes).toEqual([3]);
  });

  it('rejects when the channel cannot be opened', async () => {
    const client = {
      exec(_command: string, cb: (err: Error | undefined) => void) {
        cb(new Error('open failed'));
      },
    } as unknown as Client;
    await expect(openExec(client, 'x', false, () => undefined)).rejects.toThrow('open failed');
  });
});
