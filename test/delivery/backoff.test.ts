import { describe, expect, it } from 'vitest';
import { computeBackoffMs } from '../../src/delivery/backoff.js';
import { RateLimiter } from '../../src/delivery/rate-limiter.js';

const settings = { initialBackoffMs: 500, maxBackoffMs: 300_000 };
const middle = () => 0.5;

describe('computeBackoffMs', () => {
  it('doubles per attempt', () => {
    expect(
      [1, 2, 3, 4].map((attempt) => computeBackoffMs(attempt, settings, null, middle))
    ).toEqual([500, 1000, 2000, 4000]);
  });

  it('jitters within 20 percent', () => {
    expect(computeBackoffMs(3, settings, null, () => 0)).toBe(1600);
    expect(computeBackoffMs(3, settings, null, () => 1)).toBe(2400);
  });

  it('caps at maxBackoffMs', () => {
    expect(computeBackoffMs(30, settings, null, () => 1)).toBe(300_000);
    expect(computeBackoffMs(5000, settings, null, middle)).toBe(300_000);
  });

  it('keeps Retry-After as a floor', () => {
    expect(computeBackoffMs(1, settings, 7000, () => 0)).toBe(7000);
    expect(computeBackoffMs(5, settings, 1000, middle)).toBe(8000);
  });

  it('caps Retry-After at maxBackoffMs', () => {
    expect(computeBackoffMs(1, settings, 3_600_000, middle)).toBe(300_000);
  });
});

describe('RateLimiter', () => {
  it('spaces tokens by the interval', () => {
    const limiter = new RateLimiter(20);
    expect(limiter.tryTake(1000)).toBe(0);
    expect(limiter.tryTake(1010)).toBe(40);
    expect(limiter.tryTake(1050)).toBe(0);
    expect(limiter.tryTake(1100)).toBe(0);
  });

  it('applies a lower rate at once', () => {
    const limiter = new RateLimiter(1000);
    expect(limiter.tryTake(0)).toBe(0);
    limiter.setRate(2);
    // The one token the smaller bucket keeps goes first; the next waits for the new spacing.
    expect(limiter.tryTake(1)).toBe(0);
    expect(limiter.tryTake(2)).toBeCloseTo(499, 5);
  });

  it('allows a 10 ms burst at high rates', () => {
    const limiter = new RateLimiter(10_000);
    for (let index = 0; index < 100; index++) expect(limiter.tryTake(1000)).toBe(0);
    expect(limiter.tryTake(1000)).toBeCloseTo(0.1, 5);
    expect(limiter.tryTake(1001)).toBe(0);
  });

  it('rejects a zero rate', () => {
    expect(() => new RateLimiter(0)).toThrow(
      'delivery.maxRequestsPerSecond must be a positive number, got 0'
    );
  });

  it('holds the rate in real time', async () => {
    const limiter = new RateLimiter(50);
    const startedAt = performance.now();
    let taken = 0;
    while (taken < 6) {
      const waitMs = limiter.tryTake();
      if (waitMs === 0) taken++;
      else await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(95);
  });
});
