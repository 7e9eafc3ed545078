import { SegmentId } from '@anlian/protocol';
import { z } from 'zod';

/**
 * How a drill's alerts reach people: `marker` — the usual recipients and channels, every push
 * prefixed with [演练]; `drill-channels` — only channels configured to take drills (`drill: only`
 * or `send`), so real recipients are not woken by an exercise.
 */
export const DrillRecipients = z.enum(['marker', 'drill-channels']);
export type DrillRecipients = z.infer<typeof DrillRecipients>;

export const NewDrill = z
  .object({
    name: z.string().trim().min(1).max(200),
    institutions: z.array(SegmentId).min(1).max(1000),
    startsAt: z.number().int().positive().optional(),
    endsAt: z.number().int().positive(),
    recipients: DrillRecipients.default('marker'),
  })
  .strict();
export type NewDrill = z.input<typeof NewDrill>;

/** An emergency drill (应急演练): alerts of these institutions in this window are tagged and scored. */
export interface Drill {
  id: string;
  name: string;
  institutions: string[];
  startsAt: number;
  endsAt: number;
  recipients: DrillRecipients;
  author: string;
  createdAt: number;
  endedAt?: number;
  endedBy?: string;
}

export function drillActive(d: Drill, at: number): boolean {
  return d.startsAt <= at && at < (d.endedAt ?? d.endsAt);
}
