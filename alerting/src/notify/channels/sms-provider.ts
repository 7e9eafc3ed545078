import type { SendResult } from '../notification-channel.js';

export interface SmsRequest {
  /** Mainland mobile number. */
  phone: string;
  templateCode: string;
  /** The template's variables (`smsTemplateParams`). */
  params: Record<string, string>;
  /** Our idempotency key, echoed by the provider in its delivery receipts (Aliyun `OutId`). */
  outId: string;
  signal: AbortSignal;
}

/**
 * One SMS gateway API. A provider makes one request and classifies its answer; the channel
 * picks the template and the recipient, the dispatcher retries. Aliyun's `SendSms` is not
 * idempotent itself, so the dispatcher's per-phone delivery id is what prevents duplicates.
 */
export interface SmsProvider {
  readonly name: string;
  send(req: SmsRequest): Promise<SendResult>;
}
