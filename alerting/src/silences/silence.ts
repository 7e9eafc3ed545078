import { SegmentId } from '@anlian/protocol';
import { z } from 'zod';
import type { AlertSubject } from '../engine/alert-signal.js';

/** What a silence covers; every given field must match, and at least one is given. */
export const SilenceScope = z
  .object({
    institution: SegmentId.optional(),
    gateway: SegmentId.optional(),
    device: SegmentId.optional(),
    rule: SegmentId.optional(),
  })
  .strict()
  .refine((s) => Object.values(s).some((v) => v !== undefined), {
    message: 'a silence needs a scope: institution, gateway, device and/or rule',
  })
  .refine((s) => s.device === undefined || s.gateway !== undefined, {
    message: 'device ids are unique per gateway: give the gateway with the device',
    path: ['gateway'],
  });
export type SilenceScope = z.infer<typeof SilenceScope>;

export const NewSilence = z
  .object({
    scope: SilenceScope,
    startsAt: z.number().int().positive().optional(),
    endsAt: z.number().int().positive(),
    reason: z.string().trim().min(1).max(500),
  })
  .strict();
export type NewSilence = z.infer<typeof NewSilence>;

/**
 * A maintenance window: alerts in scope are recorded and shown, but pushed to nobody and not
 * escalated. Never applies to fire alarms' recording, only to their pushes.
 */
export interface Silence {
  id: string;
  scope: SilenceScope;
  startsAt: number;
  endsAt: number;
  reason: string;
  author: string;
  createdAt: number;
  expiredAt?: number;
  expiredBy?: string;
}

export function silenceActive(s: Silence, at: number): boolean {
  return s.expiredAt === undefined && s.startsAt <= at && at < s.endsAt;
}

export function silenceCovers(s: Silence, rule: string, subject: AlertSubject): boolean {
  const { scope } = s;
  if (scope.rule !== undefined && scope.rule !== rule) return false;
  if (scope.institution !== undefined && scope.institution !== subject.institution) return false;
  if (scope.gateway !== undefined && scope.gateway !== subject.gateway) return false;
  if (scope.device !== undefined && (subject.type !== 'device' || scope.device !== subject.device)) return false;
  return true;
}
