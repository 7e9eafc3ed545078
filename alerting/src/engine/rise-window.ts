/** One telemetry sample: device time (ms) and value. */
export type Sample = [ts: number, value: number];

/**
 * Appends a sample (device time not before the newest; the caller drops late ones) and prunes
 * the buffer to the window plus one older anchor sample, capped at `maxSamples`.
 */
export function pushSample(samples: Sample[], sample: Sample, windowMs: number, maxSamples: number): void {
  samples.push(sample);
  const start = sample[0] - windowMs;
  // Keep the newest sample at or before the window start: it anchors the window's first value.
  let firstKept = 0;
  while (firstKept + 1 < samples.length && (samples[firstKept + 1]?.[0] ?? Number.POSITIVE_INFINITY) <= start) {
    firstKept++;
  }
  const excess = Math.max(firstKept, samples.length - maxSamples);
  if (excess > 0) samples.splice(0, excess);
}

/** Linear interpolation of the value at `t`, which lies within the samples' time span. */
function valueAt(samples: readonly Sample[], t: number): number {
  for (let i = 1; i < samples.length; i++) {
    const b = samples[i] as Sample;
    if (b[0] < t) continue;
    const a = samples[i - 1] as Sample;
    return b[0] === a[0] ? b[1] : a[1] + ((b[1] - a[1]) * (t - a[0])) / (b[0] - a[0]);
  }
  return (samples[samples.length - 1] as Sample)[1];
}

export interface RiseEvaluation {
  /** The samples reach back to the window start (an anchor at or before it). */
  covered: boolean;
  /** Every segment of the window holds at least one sample. */
  dense: boolean;
  /** Rise per minute over each segment, oldest first. */
  segmentRates: number[];
  /** Rise per minute over the whole window. */
  overallRate: number;
}

/**
 * The rise over the window that ends at the newest sample, split into `segments` equal parts.
 * A sustained rise shows in every part; a single spike shows in one (EN 54-5 class R).
 */
export function evaluateRise(samples: readonly Sample[], windowMs: number, segments: number): RiseEvaluation {
  const newest = samples[samples.length - 1];
  const oldest = samples[0];
  if (!newest || !oldest || samples.length < 2) {
    return { covered: false, dense: false, segmentRates: [], overallRate: 0 };
  }
  const end = newest[0];
  const start = end - windowMs;
  const covered = oldest[0] <= start;
  if (!covered) return { covered, dense: false, segmentRates: [], overallRate: 0 };
  const step = windowMs / segments;
  const perMin = 60_000 / step;
  const segmentRates: number[] = [];
  let dense = true;
  let prev = valueAt(samples, start);
  for (let i = 1; i <= segments; i++) {
    const lo = start + (i - 1) * step;
    const hi = i === segments ? end : start + i * step;
    if (!samples.some(([ts]) => ts > lo && ts <= hi)) dense = false;
    const v = i === segments ? newest[1] : valueAt(samples, hi);
    segmentRates.push((v - prev) * perMin);
    prev = v;
  }
  const overallRate = ((newest[1] - valueAt(samples, start)) * 60_000) / windowMs;
  return { covered, dense, segmentRates, overallRate };
}
