/** Arithmetic mean; undefined for none. */
export function mean(xs: readonly number[]): number | undefined {
  if (xs.length === 0) return undefined;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/**
 * The p-quantile by the nearest-rank method (the smallest value with at least p of the values at
 * or below it): p90 of 10 values is the 9th smallest. Undefined for none.
 */
export function nearestRank(xs: readonly number[], p: number): number | undefined {
  if (xs.length === 0) return undefined;
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[rank - 1];
}

/** `part / whole`, undefined when there is no whole. */
export function ratio(part: number, whole: number): number | undefined {
  return whole > 0 ? part / whole : undefined;
}
