import type { ChannelConfig } from '../channel-config.js';
import { type HttpAttemptOutcome, httpAttempt, jsonHeaders } from '../http-attempt.js';
import { type ChannelPolicy, channelPolicy } from '../notification-channel.js';
import type { ChannelDeps } from './channel-deps.js';

/**
 * What the channels that POST one JSON document per notification share (WeCom, DingTalk, Feishu,
 * the generic webhook): their id and policy from the configuration, the injected fetch and clock,
 * and one attempt with the channel's timeout.
 */
export abstract class JsonPostChannel<C extends ChannelConfig> {
  readonly fanOut = 'channel' as const;
  readonly id: string;
  readonly policy: ChannelPolicy;

  constructor(
    protected readonly config: C,
    protected readonly deps: ChannelDeps = {},
  ) {
    this.id = config.id;
    this.policy = channelPolicy(config);
  }

  protected get clock(): () => number {
    return this.deps.clock ?? Date.now;
  }

  /** One POST of `body` (already JSON) to `url`, bounded by the channel's timeout. */
  protected post(
    url: string | URL,
    body: string,
    signal: AbortSignal,
    headers: Record<string, string> = {},
  ): Promise<HttpAttemptOutcome> {
    return httpAttempt(
      this.deps.fetch ?? fetch,
      { url, headers: jsonHeaders(headers), body, timeoutMs: this.config.timeoutMs, signal },
      this.clock,
    );
  }
}
