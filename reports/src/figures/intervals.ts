/** A half-open stretch of time `[from, to)`, epoch ms. */
export type Interval = readonly [from: number, to: number];

/** The union of intervals clipped to `[lo, hi)`, sorted and without overlaps. */
export function unionClipped(intervals: Iterable<Interval>, lo: number, hi: number): Interval[] {
  const clipped: [number, number][] = [];
  for (const [a, b] of intervals) {
    const from = Math.max(a, lo);
    const to = Math.min(b, hi);
    if (to > from) clipped.push([from, to]);
  }
  clipped.sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const iv of clipped) {
    const last = out[out.length - 1];
    if (last && iv[0] <= last[1]) last[1] = Math.max(last[1], iv[1]);
    else out.push([iv[0], iv[1]]);
  }
  return out;
}

export function totalLength(intervals: readonly Interval[]): number {
  let sum = 0;
  for (const [a, b] of intervals) sum += b - a;
  return sum;
}

/**
 * The stretches in a `down`/`up` status history during which the subject was down: from each
 * change to a down state until the next change to an up state; still down at the end → until `end`.
 */
export function downIntervals(changes: readonly { at: number; down: boolean }[], end: number): Interval[] {
  const out: Interval[] = [];
  let downSince: number | undefined;
  for (const c of changes) {
    if (c.down && downSince === undefined) downSince = c.at;
    else if (!c.down && downSince !== undefined) {
      out.push([downSince, c.at]);
      downSince = undefined;
    }
  }
  if (downSince !== undefined) out.push([downSince, end]);
  return out;
}
