/**
 * Promise.all for reads sent at once: when several fail, the error is the first one in the
 * order given, not the first to arrive (over HTTP/2 that order is chance), so a command that is
 * denied two lists names the same one every time.
 */
export async function allInOrder<T extends readonly unknown[] | []>(values: T): Promise<{ -readonly [P in keyof T]: Awaited<T[P]> }> {
  const settled = (await Promise.allSettled(values)) as PromiseSettledResult<unknown>[];
  for (const s of settled) if (s.status === 'rejected') throw s.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as { -readonly [P in keyof T]: Awaited<T[P]> };
}
