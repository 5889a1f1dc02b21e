// Summary statistics for the benchmark: medians over runs and latency percentiles.

/** Returns the median of `values` (the mean of the two middle values for an even count). */
export function median(values) {
  if (values.length === 0) throw new Error('median: no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * Returns the `p`-th percentile (0 < p <= 100) of `values` by the nearest-rank method, so the
 * result is always one of the samples: p99 of 200 samples is the 198th smallest.
 */
export function percentile(values, p) {
  if (values.length === 0) throw new Error('percentile: no values');
  if (!(p > 0 && p <= 100)) throw new Error(`percentile: p must be in (0, 100], got ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[rank - 1];
}

/** Returns `{ median, min, max, runs }` of the per-run values of one figure. */
export function summarize(values) {
  return {
    median: median(values),
    min: Math.min(...values),
    max: Math.max(...values),
    runs: [...values],
  };
}
