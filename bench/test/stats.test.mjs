import { describe, expect, it } from 'vitest';
import { median, percentile, summarize } from '../lib/stats.mjs';

describe('stats', () => {
  it('median of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('percentile by nearest rank', () => {
    const values = Array.from({ length: 200 }, (_, index) => 200 - index);
    expect(percentile(values, 99)).toBe(198);
    expect(percentile(values, 50)).toBe(100);
    expect(percentile(values, 100)).toBe(200);
  });

  it('percentile keeps infinite samples', () => {
    const values = [...Array.from({ length: 99 }, () => 1), Number.POSITIVE_INFINITY];
    expect(percentile(values, 99)).toBe(1);
    expect(percentile(values, 100)).toBe(Number.POSITIVE_INFINITY);
  });

  it('summarize gives median, min, max', () => {
    expect(summarize([5, 1, 3])).toEqual({ median: 3, min: 1, max: 5, runs: [5, 1, 3] });
  });

  it('rejects empty input', () => {
    expect(() => median([])).toThrow('no values');
    expect(() => percentile([1], 0)).toThrow('(0, 100]');
  });
});
