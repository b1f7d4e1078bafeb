// Check mode's messages are predictions: the engine words a changed result's message as what would happen.
import { describe, expect, it } from 'vitest';
import { predicted } from '../../../src/engine/check-wording.js';
import { Scratch } from './harness.js';

describe('check-mode wording', () => {
  it.each([
    ['file created', 'file would be created'],
    ['directory created', 'directory would be created'],
    ['content changed, mode 0644 -> 0600', 'content would be changed, mode 0644 -> 0600'],
    ['symlink changed: a -> b', 'symlink would be changed: a -> b'],
    ['would create /x', 'would create /x'],
    ['mode 0644 -> 0600', 'mode 0644 -> 0600'],
  ])('%s', (msg, expected) => {
    expect(predicted(msg)).toBe(expected);
  });

  it('a run in check mode says "would be", the real run says what was done', async () => {
    const s = new Scratch(['a']);
    const play = `
- hosts: all
  gather_facts: false
  tasks:
    - name: dir
      file: { path: ${s.hostDir('a')}/d, state: directory }
    - name: new file under a directory that does not exist yet
      copy: { content: "hi\\n", dest: ${s.hostDir('a')}/d/f }
`;
    const checked = await s.run(play, { check: true, diff: true });
    expect(checked.events.resultOf('dir', 'a')?.msg).toBe('directory would be created');
    const copy = checked.events.resultOf('new file under a directory that does not exist yet', 'a');
    expect(copy?.diff?.[0]).toMatchObject({ before: '', after: 'hi\n' });
    const real = await s.run(play);
    expect(real.events.resultOf('dir', 'a')?.msg).toBe('directory created');
  });
});
