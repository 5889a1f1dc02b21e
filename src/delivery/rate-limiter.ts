/** Time the bucket can save up, in ms: a burst never exceeds this many ms' worth of tokens. */
const BURST_WINDOW_MS = 10;

/**
 * Token bucket for `delivery.maxRequestsPerSecond`. It contains up to `max(1, rate / 100)` tokens, about
 * 10 ms' worth, refilled by the time elapsed, so no one-second window sees more than
 * `rate + capacity` requests. A one-token bucket would throttle high rates below their setting,
 * because Node rounds every timer up to at least 1 ms.
 */
export class RateLimiter {
  private ratePerMs: number;
  private capacity: number;
  private tokens: number;
  private updatedAt = Number.NEGATIVE_INFINITY;

  constructor(requestsPerSecond: number) {
    this.ratePerMs = toRatePerMs(requestsPerSecond);
    this.capacity = capacityFor(this.ratePerMs);
    this.tokens = this.capacity;
  }

  /** Changes the rate; tokens saved up beyond the new capacity are dropped at once. */
  setRate(requestsPerSecond: number): void {
    this.ratePerMs = toRatePerMs(requestsPerSecond);
    this.capacity = capacityFor(this.ratePerMs);
    this.tokens = Math.min(this.tokens, this.capacity);
  }

  /** Takes a token and returns 0, or returns the ms to wait before one is available. */
  tryTake(now = performance.now()): number {
    if (this.updatedAt !== Number.NEGATIVE_INFINITY) {
      this.tokens = Math.min(this.capacity, this.tokens + (now - this.updatedAt) * this.ratePerMs);
    }
    this.updatedAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return (1 - this.tokens) / this.ratePerMs;
  }
}

function capacityFor(ratePerMs: number): number {
  return Math.max(1, Math.floor(ratePerMs * BURST_WINDOW_MS));
}

function toRatePerMs(requestsPerSecond: number): number {
  if (!(requestsPerSecond > 0) || !Number.isFinite(requestsPerSecond)) {
    throw new RangeError(
      `delivery.maxRequestsPerSecond must be a positive number, got ${requestsPerSecond}`
    );
  }
  return requestsPerSecond / 1000;
}
