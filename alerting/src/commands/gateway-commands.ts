import { randomBytes } from 'node:crypto';
import {
  type CommandName,
  type CommandPayload,
  CommandReplyPayload,
  type GatewayAddress,
  parseTopic,
  SCHEMA_VERSION,
  TOPIC_ROOT,
  topics,
} from '@anlian/protocol';
import type { Logger } from 'pino';
import { AlertingError, AlertingErrorCode } from '../errors.js';

/** Sends a county → gateway command (`…/cmd/{name}`) and resolves with the gateway's reply (design.md). */
export interface GatewayCommands {
  send(
    target: GatewayAddress,
    name: CommandName,
    args?: Record<string, unknown>,
    opts?: { timeoutMs?: number },
  ): Promise<CommandReplyPayload>;
}

/**
 * Publish and subscribe on the county broker, as a `GatewayCommands` needs them: an mqtt.js
 * client (`mqttCommandBus`), or the embedded broker in process (ingest's `EmbeddedBroker.commandBus()`).
 */
export interface CommandBus {
  /** Publishes at QoS 1, not retained: a command is for the gateway connected now. */
  publish(topic: string, payload: Buffer): Promise<void>;
  /** Subscribes at QoS 1; resolves with the function that unsubscribes. */
  subscribe(filter: string, listener: (topic: string, payload: Buffer) => void): Promise<() => Promise<void>>;
}

/** The filter for every gateway's command replies. */
export const COMMAND_REPLIES = `${TOPIC_ROOT}/+/+/+/cmd/+/reply`;

/** Default wait for a reply: a gateway answers a command within seconds, or not at all. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 10_000;

interface Pending {
  gateway: string;
  name: string;
  resolve: (reply: CommandReplyPayload) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * `GatewayCommands` on a `CommandBus`: one subscription to every gateway's replies, each command a
 * fresh id (`CommandPayload.id`) that its reply echoes. A reply from another gateway than the one
 * asked, or one that does not parse, is ignored (logged); no reply in time rejects with
 * `ANL_ALERT_COMMAND_TIMEOUT`. `start()` subscribes, `stop()` unsubscribes and rejects what waits.
 */
export class BusGatewayCommands implements GatewayCommands {
  readonly #bus: CommandBus;
  readonly #log: Logger;
  readonly #clock: () => number;
  readonly #pending = new Map<string, Pending>();
  #unsubscribe: (() => Promise<void>) | undefined;

  constructor(opts: { bus: CommandBus; logger: Logger; clock?: () => number }) {
    this.#bus = opts.bus;
    this.#log = opts.logger.child({ module: 'gateway-commands' });
    this.#clock = opts.clock ?? Date.now;
  }

  async start(): Promise<void> {
    if (this.#unsubscribe) return;
    this.#unsubscribe = await this.#bus.subscribe(COMMAND_REPLIES, (topic, payload) => this.#onReply(topic, payload));
  }

  async stop(): Promise<void> {
    const unsubscribe = this.#unsubscribe;
    this.#unsubscribe = undefined;
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      p.reject(
        new AlertingError(AlertingErrorCode.COMMAND_FAILED, `command ${p.name} to ${p.gateway} abandoned: stopping`),
      );
      this.#pending.delete(id);
    }
    await unsubscribe?.();
  }

  async send(
    target: GatewayAddress,
    name: CommandName,
    args?: Record<string, unknown>,
    opts: { timeoutMs?: number } = {},
  ): Promise<CommandReplyPayload> {
    if (!this.#unsubscribe) {
      throw new AlertingError(AlertingErrorCode.COMMAND_FAILED, 'gateway commands are not started');
    }
    const id = `c${randomBytes(8).toString('hex')}`;
    const cmd: CommandPayload = { v: SCHEMA_VERSION, ts: this.#clock(), id, ...(args ? { args } : {}) };
    const timeoutMs = opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    const reply = new Promise<CommandReplyPayload>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(
          new AlertingError(
            AlertingErrorCode.COMMAND_TIMEOUT,
            `no reply from ${target.gateway} to ${name} within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      timer.unref();
      this.#pending.set(id, { gateway: target.gateway, name, resolve, reject, timer });
    });
    try {
      await this.#bus.publish(topics.command(target, name), Buffer.from(JSON.stringify(cmd)));
    } catch (err) {
      const p = this.#pending.get(id);
      if (p) clearTimeout(p.timer);
      this.#pending.delete(id);
      reply.catch(() => {});
      throw new AlertingError(
        AlertingErrorCode.COMMAND_FAILED,
        `command ${name} to ${target.gateway} not published: ${(err as Error).message}`,
      );
    }
    return reply;
  }

  #onReply(topic: string, payload: Buffer): void {
    const t = parseTopic(topic);
    if (t?.type !== 'command-reply') return;
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      this.#log.warn({ topic }, 'command reply is not JSON; ignored');
      return;
    }
    const parsed = CommandReplyPayload.safeParse(body);
    if (!parsed.success) {
      this.#log.warn(
        { topic, issues: parsed.error.issues.length },
        'command reply does not match the contract; ignored',
      );
      return;
    }
    const p = this.#pending.get(parsed.data.id);
    if (!p) return;
    if (p.gateway !== t.gateway || p.name !== t.name) {
      // Only the gateway asked answers for it (its ACL lets it publish under its own prefix only).
      this.#log.warn({ topic, expected: p.gateway }, 'command reply from another gateway or command; ignored');
      return;
    }
    clearTimeout(p.timer);
    this.#pending.delete(parsed.data.id);
    p.resolve(parsed.data);
  }
}

/** What `mqttCommandBus` needs of an mqtt.js 5 client (structural, so this package needs no mqtt import). */
export interface MqttLikeClient {
  publishAsync(topic: string, payload: Buffer, opts: { qos: 1; retain: false }): Promise<unknown>;
  subscribeAsync(filter: string, opts: { qos: 1 }): Promise<unknown>;
  unsubscribeAsync(filter: string): Promise<unknown>;
  on(event: 'message', listener: (topic: string, payload: Buffer) => void): unknown;
  off(event: 'message', listener: (topic: string, payload: Buffer) => void): unknown;
}

/**
 * A `CommandBus` on an mqtt.js client connected to the county broker with the right to publish
 * `…/cmd/+` and read `…/cmd/+/reply` (the production form: alerting as a broker client).
 */
export function mqttCommandBus(client: MqttLikeClient): CommandBus {
  return {
    async publish(topic, payload) {
      await client.publishAsync(topic, payload, { qos: 1, retain: false });
    },
    async subscribe(filter, listener) {
      const onMessage = (topic: string, payload: Buffer) => {
        if (parseTopic(topic)?.type === 'command-reply') listener(topic, payload);
      };
      client.on('message', onMessage);
      await client.subscribeAsync(filter, { qos: 1 });
      return async () => {
        client.off('message', onMessage);
        await client.unsubscribeAsync(filter);
      };
    },
  };
}
