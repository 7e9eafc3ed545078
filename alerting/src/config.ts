import { z } from 'zod';

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v));

/**
 * Alerting configuration, from the environment; parsed once at boot. The rules, channel and
 * escalation defaults themselves are data: files (rules, channels) and the store (policies).
 */
export const AlertingConfigSchema = z.object({
  ANLIAN_ALERT_RULES_FILE: optionalString.describe('YAML/JSON rule file extending and overriding the default rules'),
  ANLIAN_ALERT_CHANNELS_FILE: optionalString.describe(
    'YAML/JSON notification channel file (WeCom, DingTalk, Feishu, webhook, SMS)',
  ),
  ANLIAN_PUBLIC_URL: optionalString.describe('the dashboard’s public base URL, for links in pushes'),
  ANLIAN_ALERT_TICK_MS: z.coerce
    .number()
    .int()
    .min(50)
    .max(60_000)
    .default(1000)
    .describe('how often time-based rules and escalations are evaluated'),
  ANLIAN_ALERT_SILENCE_MAX_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 366)
    .default(168)
    .describe('longest silence the API accepts, in hours (a maintenance window, not a way to switch a site off)'),
  ANLIAN_DUTY_CHECK_EVERY_H: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 7)
    .optional()
    .describe(
      'scheduled duty checks (查岗, GB 25506: the fire control room staffed around the clock) every N hours at every institution — one without a fire panel is recorded as not applicable, with no alert; unset: operator checks only',
    ),
});

export interface AlertingConfig {
  rulesFile: string | undefined;
  channelsFile: string | undefined;
  publicUrl: string | undefined;
  tickMs: number;
  /** Longest silence the API accepts, in hours; 168 (7 days) when left out. */
  silenceMaxHours?: number;
  /** Scheduled duty checks every this many hours; none when left out (operators start them). */
  dutyCheckEveryH?: number | undefined;
}

/** Reads the environment; throws a ZodError naming every bad variable. */
export function loadAlertingConfig(env: NodeJS.ProcessEnv = process.env): AlertingConfig {
  const e = AlertingConfigSchema.parse(env);
  return Object.freeze({
    rulesFile: e.ANLIAN_ALERT_RULES_FILE,
    channelsFile: e.ANLIAN_ALERT_CHANNELS_FILE,
    publicUrl: e.ANLIAN_PUBLIC_URL,
    tickMs: e.ANLIAN_ALERT_TICK_MS,
    silenceMaxHours: e.ANLIAN_ALERT_SILENCE_MAX_HOURS,
    dutyCheckEveryH: e.ANLIAN_DUTY_CHECK_EVERY_H,
  });
}
