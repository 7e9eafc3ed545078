import { DeviceKind, SegmentId } from '@anlian/protocol';
import { z } from 'zod';
import { AlertStatus, Verdict } from '../lifecycle/alert.js';
import { Severity } from '../rules/rule-schema.js';

/**
 * The alerting API's request shapes, for the dashboard's routes (fastify + zod): parse at the
 * edge, then call `AlertingService`. Responses are the service's types (`Alert`,
 * `AlertTransition`, `DeliveryRecord`, `Silence`, `Drill`, `DrillReport`, `EscalationPolicy`).
 */
const csv = <T extends z.ZodType>(item: T) =>
  z.preprocess((v) => (typeof v === 'string' ? v.split(',').filter((s) => s !== '') : v), z.array(item));

export const AlertListQuery = z
  .object({
    institution: SegmentId.optional(),
    status: csv(AlertStatus).optional(),
    severity: csv(Severity).optional(),
    verdict: csv(Verdict).optional(),
    kind: z.union([DeviceKind, z.literal('gateway')]).optional(),
    rule: SegmentId.optional(),
    drill: z
      .enum(['true', 'false'])
      .transform((v) => v === 'true')
      .optional(),
    from: z.coerce.number().int().nonnegative().optional(),
    to: z.coerce.number().int().nonnegative().optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    /** Page: alerts opened before the one with this id. */
    before: z.string().max(64).optional(),
  })
  .strict();
export type AlertListQuery = z.infer<typeof AlertListQuery>;

const Note = z.string().trim().max(2000).optional();

export const AcknowledgeBody = z.object({ note: Note }).strict();
export const VerifyBody = z.object({ verdict: Verdict, note: Note }).strict();
export const CloseBody = z.object({ note: Note }).strict();
export type AcknowledgeBody = z.infer<typeof AcknowledgeBody>;
export type VerifyBody = z.infer<typeof VerifyBody>;
export type CloseBody = z.infer<typeof CloseBody>;

/** HTTP status for an alerting error code: the dashboard maps errors with it. */
export function httpStatusOf(code: string): number {
  switch (code) {
    case 'ANL_ALERT_NOT_FOUND':
      return 404;
    case 'ANL_ALERT_UNAUTHORIZED':
      return 401;
    case 'ANL_ALERT_UNAVAILABLE':
    case 'ANL_ALERT_NOT_OWNER':
      return 503;
    case 'ANL_ALERT_TRANSITION_INVALID':
      return 409;
    case 'ANL_ALERT_REQUEST_INVALID':
    case 'ANL_ALERT_CONFIG_INVALID':
    case 'ANL_ALERT_RULES_INVALID':
    case 'ANL_ALERT_OVERRIDE_INVALID':
      return 400;
    default:
      return 500;
  }
}
