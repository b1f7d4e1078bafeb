import { describe, expect, it } from 'vitest';
import { allInOrder } from '../../../src/util/all-in-order.js';

const later = <T>(ms: number, value: T, fail = false): Promise<T> =>
  new Promise((resolve, reject) =>
    setTimeout(() => (fail ? reject(new Error(String(value))) : resolve(value)), ms),
  );

describe('allInOrder', () => {
  it('resolves like Promise.all, in input order', async () => {
    expect(await allInOrder([later(20, 'a'), later(1, 'b'), Promise.resolve(3)])).toEqual(['a', 'b', 3]);
  });

  it('of several failures throws the first in input order, even when another failed sooner', async () => {
    await expect(
      allInOrder([later(30, 'first', true), later(1, 'second', true), later(5, 'ok')]),
    ).rejects.toThrow('first');
  });
});
