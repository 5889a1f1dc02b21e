/** Share of the delay that jitter may add or remove, so retrying agents do not stay in step. */
export const BACKOFF_JITTER = 0.2;

/**
 * Computes the delay before retry number `attempt` (1 for the first retry): `initialBackoffMs`
 * doubled per attempt, ±20% jitter, capped at `maxBackoffMs`. A `Retry-After` delay is a floor,
 * but the cap wins over it, so an absurd header cannot stall delivery beyond `maxBackoffMs`.
 */
export function computeBackoffMs(
  attempt: number,
  settings: { initialBackoffMs: number; maxBackoffMs: number },
  retryAfterMs: number | null = null,
  random: () => number = Math.random
): number {
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  // 2 ** 1024 is Infinity, so a long outage still lands on the cap, never on NaN.
  const base = Math.min(settings.initialBackoffMs * 2 ** exponent, settings.maxBackoffMs);
  const jittered = base * (1 - BACKOFF_JITTER + 2 * BACKOFF_JITTER * random());
  const floor = retryAfterMs ?? 0;
  return Math.round(Math.min(Math.max(jittered, floor), settings.maxBackoffMs));
}
