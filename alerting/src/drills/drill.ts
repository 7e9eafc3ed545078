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

/**
 * What one gateway answered to a drill's `cmd/drill-start` or `cmd/drill-stop`: `sent` while
 * waiting, `confirmed` (replied ok), `refused` (replied not ok), `no_reply` (none in time, or the
 * command could not be sent).
 */
export const DrillGatewayState = z.enum(['sent', 'confirmed', 'refused', 'no_reply']);
export type DrillGatewayState = z.infer<typeof DrillGatewayState>;

export const DrillGatewayCommand = z.object({
  gateway: z.string(),
  institution: z.string(),
  command: z.enum(['drill-start', 'drill-stop']),
  state: DrillGatewayState,
  detail: z.string().optional(),
  at: z.number(),
});
export type DrillGatewayCommand = z.infer<typeof DrillGatewayCommand>;

/**
 * An emergency drill (应急演练) of these institutions in this window. Its alerts are the ones
 * raised by messages that carry its id (protocol `drillId`); they are tagged, pushed with [演练]
 * and scored. Its gateways are told to start and stop (`gateways`: what each answered).
 */
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
  /** The start and stop commands sent to its gateways, and their answers (none without a broker). */
  gateways?: DrillGatewayCommand[];
}

export function drillActive(d: Drill, at: number): boolean {
  return d.startsAt <= at && at < (d.endedAt ?? d.endsAt);
}
