import { z } from 'zod';

/**
 * Retries of one delivery: exponential backoff from `baseMs` doubling to `maxMs`, each wait
 * shortened by up to `jitter` (0–1) at random so retries of a burst do not arrive together.
 * A vendor's Retry-After lengthens a wait, up to `maxRetryAfterMs`. Eight attempts span about
 * two minutes by default; by then escalation has moved to the next level and its own pushes.
 */
export const DeliveryRetryConfig = z
  .object({
    maxAttempts: z.number().int().min(1).max(50).default(8),
    baseMs: z.number().int().min(1).default(1_000),
    maxMs: z.number().int().min(1).default(60_000),
    jitter: z.number().min(0).max(1).default(0.2),
    maxRetryAfterMs: z.number().int().min(0).default(300_000),
  })
  .strict();
export type DeliveryRetryConfig = z.infer<typeof DeliveryRetryConfig>;

/** Tuning of `NotificationDispatcher`; every field has a default. */
export const DispatcherConfig = z
  .object({
    retry: DeliveryRetryConfig.default(DeliveryRetryConfig.parse({})),
    /**
     * Requests in flight per channel and lane. Critical pushes have their own slots, so a slow
     * or hanging endpoint busy with non-critical traffic never holds a fire alarm back.
     */
    concurrency: z
      .object({
        critical: z.number().int().min(1).default(32),
        normal: z.number().int().min(1).default(4),
      })
      .strict()
      .default({ critical: 32, normal: 4 }),
    /** Non-critical deliveries waiting per channel and institution; beyond it new ones are given up (logged). */
    maxQueuedPerInstitution: z.number().int().min(1).default(20_000),
    /** How long `stop()` lets requests in flight finish before aborting them. */
    drainMs: z.number().int().min(0).default(3_000),
    /** Alerts whose sent delivery ids are remembered (to drop repeats); the oldest are forgotten first. */
    rememberAlerts: z.number().int().min(1).default(10_000),
  })
  .strict();
export type DispatcherConfig = z.infer<typeof DispatcherConfig>;
export type DispatcherConfigInput = z.input<typeof DispatcherConfig>;

/** The wait before the next attempt, after `attempts` attempts have failed. */
export function retryDelayMs(
  retry: DeliveryRetryConfig,
  attempts: number,
  random: () => number,
  retryAfterMs?: number,
): number {
  const exponential = Math.min(retry.maxMs, retry.baseMs * 2 ** Math.max(0, attempts - 1));
  const jittered = exponential * (1 - retry.jitter * random());
  const wait =
    retryAfterMs === undefined ? jittered : Math.max(jittered, Math.min(retryAfterMs, retry.maxRetryAfterMs));
  return Math.max(0, Math.round(wait));
}
