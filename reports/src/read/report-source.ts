import { z } from 'zod';

/**
 * Which data a report reads (design.md, Simulated time): the county's live data, or one
 * simulation run's (a generated month of history, an accelerated simulator run), never a mix.
 */
export const ReportSource = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('live') }).strict(),
  z
    .object({
      kind: z.literal('simulation'),
      runId: z
        .string()
        .min(1)
        .max(64)
        .regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/),
    })
    .strict(),
]);
export type ReportSource = z.infer<typeof ReportSource>;

export const LIVE_SOURCE: ReportSource = Object.freeze({ kind: 'live' });

/** The `sim_run` a query filters on: undefined for live data. */
export function simRunOf(source: ReportSource): string | undefined {
  return source.kind === 'simulation' ? source.runId : undefined;
}

/** A stable key for the archive: `live` or `sim:<id>`. */
export function sourceKey(source: ReportSource): string {
  return source.kind === 'live' ? 'live' : `sim:${source.runId}`;
}
