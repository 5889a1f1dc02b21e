/**
 * Token bucket for `delivery.maxRequestsPerSecond`. The bucket has room for one token, so requests
 * are spaced at least `1000 / rate` ms apart and no one-second window holds more than `rate + 1`.
 */
export class RateLimiter {
  private intervalMs: number;
  private lastTakenAt = Number.NEGATIVE_INFINITY;

  constructor(requestsPerSecond: number) {
    this.intervalMs = toIntervalMs(requestsPerSecond);
  }

  /** Changes the rate; the spacing after the last token taken follows the new rate at once. */
  setRate(requestsPerSecond: number): void {
    this.intervalMs = toIntervalMs(requestsPerSecond);
  }

  /** Takes a token and returns 0, or returns the ms to wait before one is available. */
  tryTake(now = performance.now()): number {
    const nextFreeAt = this.lastTakenAt + this.intervalMs;
    if (now < nextFreeAt) return nextFreeAt - now;
    this.lastTakenAt = now;
    return 0;
  }
}

function toIntervalMs(requestsPerSecond: number): number {
  if (!(requestsPerSecond > 0) || !Number.isFinite(requestsPerSecond)) {
    throw new RangeError(
      `delivery.maxRequestsPerSecond must be a positive number, got ${requestsPerSecond}`
    );
  }
  return 1000 / requestsPerSecond;
}
