/**
 * Promise.all, except that when several fail, the error thrown is the first in input order rather than the
 * first in time: the same mistake (two vault files without a passphrase, say) is reported the same way on
 * every run.
 */
export async function allInOrder<const T extends readonly unknown[]>(
  promises: {
    readonly [K in keyof T]: Promise<T[K]>;
  },
): Promise<T> {
  const settled = await Promise.allSettled(promises as readonly Promise<unknown>[]);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
