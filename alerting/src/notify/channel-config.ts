import { issuesWithPositions } from '@anlian/protocol';
import { z } from 'zod';
import { AlertingError, AlertingErrorCode } from '../errors.js';
import { Severity } from '../rules/rule-schema.js';

/**
 * How a channel treats drill notifications: `send` pushes them with the [演练] marker, `skip`
 * never pushes them, `only` pushes nothing else (a drill group or the drill recipients' bot).
 */
export const DrillPolicy = z.enum(['send', 'skip', 'only']);
export type DrillPolicy = z.infer<typeof DrillPolicy>;

const ChannelId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'letters, digits, "_", "." and "-" (it is part of delivery ids)');

const HttpUrl = z.url({ protocol: /^https?$/ });

const common = {
  id: ChannelId,
  enabled: z.boolean().default(true),
  drill: DrillPolicy.default('send'),
  /** Notifications below this severity are recorded as skipped on this channel. */
  minSeverity: Severity.optional(),
  /**
   * Per-request timeout. A hanging endpoint costs one attempt this long, then a retry; the
   * vendor bots answer within a second, so 5 s is generous without pinning a concurrency slot.
   */
  timeoutMs: z.number().int().min(50).max(60_000).default(5_000),
};

/** WeCom (企业微信) group bot: `…/cgi-bin/webhook/send?key=…`. */
export const WecomChannelConfig = z
  .object({
    ...common,
    type: z.literal('wecom'),
    webhookUrl: HttpUrl,
    /** `text` supports `mentioned_mobile_list` (the phone rings); `markdown` mentions by userid only. */
    msgtype: z.enum(['text', 'markdown']).default('text'),
  })
  .strict();

/** DingTalk (钉钉) custom robot: `…/robot/send?access_token=…`, optionally with 加签 signing. */
export const DingtalkChannelConfig = z
  .object({
    ...common,
    type: z.literal('dingtalk'),
    webhookUrl: HttpUrl,
    /** The robot's 加签 secret (`SEC…`). */
    secret: z.string().min(1).optional(),
    msgtype: z.enum(['text', 'markdown']).default('markdown'),
  })
  .strict();

/** Feishu (飞书) custom bot: `…/open-apis/bot/v2/hook/…`, optionally with 签名校验. */
export const FeishuChannelConfig = z
  .object({
    ...common,
    type: z.literal('feishu'),
    webhookUrl: HttpUrl,
    secret: z.string().min(1).optional(),
  })
  .strict();

/** A generic signed JSON webhook (county systems, 119 linkage gateways, tests). */
export const WebhookChannelConfig = z
  .object({
    ...common,
    type: z.literal('webhook'),
    url: HttpUrl,
    /** HMAC-SHA256 key of `X-Anlian-Signature`. */
    secret: z.string().min(16, 'use a secret of at least 16 characters'),
    headers: z.record(z.string().min(1), z.string()).optional(),
  })
  .strict();

/**
 * SMS through Aliyun Dysms `SendSms` (API version 2017-05-25), one request per phone. The
 * template must be approved in the console; its variables are the ones `smsTemplateParams` fills.
 */
export const SmsChannelConfig = z
  .object({
    ...common,
    type: z.literal('sms'),
    provider: z.literal('aliyun'),
    accessKeyId: z.string().min(1),
    accessKeySecret: z.string().min(1),
    /** 短信签名, e.g. `安联网`. */
    signName: z.string().min(1),
    templateCode: z.string().min(1),
    /** A separate approved template for drills (its text says 演练); the normal one otherwise. */
    drillTemplateCode: z.string().min(1).optional(),
    endpoint: HttpUrl.default('https://dysmsapi.aliyuncs.com'),
  })
  .strict();

/** The in-process stream the dashboard's socket.io relays to the wall screen and manager view. */
export const StreamChannelConfig = z
  .object({
    ...common,
    type: z.literal('stream'),
  })
  .strict();

export const ChannelConfig = z.discriminatedUnion('type', [
  WecomChannelConfig,
  DingtalkChannelConfig,
  FeishuChannelConfig,
  WebhookChannelConfig,
  SmsChannelConfig,
  StreamChannelConfig,
]);
export type ChannelConfig = z.infer<typeof ChannelConfig>;
export type ChannelConfigInput = z.input<typeof ChannelConfig>;
export type ChannelType = ChannelConfig['type'];

export type WecomChannelConfig = z.infer<typeof WecomChannelConfig>;
export type DingtalkChannelConfig = z.infer<typeof DingtalkChannelConfig>;
export type FeishuChannelConfig = z.infer<typeof FeishuChannelConfig>;
export type WebhookChannelConfig = z.infer<typeof WebhookChannelConfig>;
export type SmsChannelConfig = z.infer<typeof SmsChannelConfig>;
export type StreamChannelConfig = z.infer<typeof StreamChannelConfig>;

/** A list of channels; ids are unique because they are part of every delivery id. */
export const ChannelConfigList = z.array(ChannelConfig).superRefine((list, ctx) => {
  const seen = new Set<string>();
  list.forEach((c, i) => {
    if (seen.has(c.id))
      ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `channel id "${c.id}" is used twice` });
    seen.add(c.id);
  });
});

/** Parses channel configuration at boot; throws `ANL_ALERT_CONFIG_INVALID` with every issue. */
export function parseChannelConfigs(input: unknown): ChannelConfig[] {
  const parsed = ChannelConfigList.safeParse(input);
  if (!parsed.success) {
    const issues = issuesWithPositions(parsed.error.issues);
    throw new AlertingError(
      AlertingErrorCode.CONFIG_INVALID,
      `invalid notification channels: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      issues,
    );
  }
  return parsed.data;
}
