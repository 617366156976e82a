/**
 * Whether a write failure is the database or network being away (retry the same batch
 * later, never dead-letter for it) rather than something wrong with the data.
 */
export function isTransientFailure(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  if (typeof code !== 'string') return true; // socket errors, timeouts, pool exhaustion
  if (/^E[A-Z]+$/.test(code)) return true; // ECONNREFUSED, ECONNRESET, ETIMEDOUT…
  // connection exceptions, insufficient resources, operator intervention, serialization/deadlock
  return code.startsWith('08') || code.startsWith('53') || code.startsWith('57') || code === '40001' || code === '40P01';
}
