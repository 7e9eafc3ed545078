import { AlertingError, AlertingErrorCode } from '../../errors.js';
import type { ChannelConfig } from '../channel-config.js';
import type { NotificationChannel } from '../notification-channel.js';
import { AliyunSmsProvider } from './aliyun-sms-provider.js';
import type { ChannelDeps } from './channel-deps.js';
import { DingtalkChannel } from './dingtalk-channel.js';
import { FeishuChannel } from './feishu-channel.js';
import { SmsChannel } from './sms-channel.js';
import { StreamChannel } from './stream-channel.js';
import { WebhookChannel } from './webhook-channel.js';
import { WecomChannel } from './wecom-channel.js';

/** The channel for a parsed config. Throws `ANL_ALERT_CONFIG_INVALID` for a stream channel without a stream. */
export function createChannel(config: ChannelConfig, deps: ChannelDeps = {}): NotificationChannel {
  switch (config.type) {
    case 'wecom':
      return new WecomChannel(config, deps);
    case 'dingtalk':
      return new DingtalkChannel(config, deps);
    case 'feishu':
      return new FeishuChannel(config, deps);
    case 'webhook':
      return new WebhookChannel(config, deps);
    case 'sms':
      return new SmsChannel(
        config,
        new AliyunSmsProvider({
          accessKeyId: config.accessKeyId,
          accessKeySecret: config.accessKeySecret,
          signName: config.signName,
          endpoint: config.endpoint,
          timeoutMs: config.timeoutMs,
          ...(deps.fetch === undefined ? {} : { fetch: deps.fetch }),
          ...(deps.clock === undefined ? {} : { clock: deps.clock }),
          ...(deps.nonce === undefined ? {} : { nonce: deps.nonce }),
        }),
        deps.clock,
      );
    case 'stream':
      if (deps.stream === undefined) {
        throw new AlertingError(
          AlertingErrorCode.CONFIG_INVALID,
          `channel "${config.id}" is a stream channel but no NotificationStream was given`,
        );
      }
      return new StreamChannel(config, deps.stream, deps.clock);
    default: {
      const unknown: never = config;
      throw new AlertingError(AlertingErrorCode.CONFIG_INVALID, `unknown channel type in ${JSON.stringify(unknown)}`);
    }
  }
}
