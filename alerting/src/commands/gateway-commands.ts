import {
  type CommandName,
  type CommandPayload,
  type CommandReplyPayload,
  decodeMessage,
  encodePayload,
  type GatewayAddress,
  SCHEMA_VERSION,
  topics,
} from '@anlian/protocol';
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { AlertingError, AlertingErrorCode } from '../errors.js';
import { newId } from '../service/new-id.js';

/** Which gateway a command goes to. */
export type GatewayTarget = GatewayAddress;

/**
 * The county's commands to its gateways (`…/cmd/{name}`, protocol README), answered on
 * `…/cmd/{name}/reply`. Duty checks (查岗) use it; drills (drill-start, drill-stop) too.
 */
export interface GatewayCommands {
  /** Publishes the command (QoS 1) and resolves with the gateway's reply; rejects after `timeoutMs` (default 30 s). */
  send(
    target: GatewayTarget,
    name: CommandName,
    args?: Record<string, unknown>,
    opts?: { timeoutMs?: number },
  ): Promise<CommandReplyPayload>;
}

/**
 * How commands reach the broker: an MQTT client ({@link mqttCommandTransport}), or the embedded
 * broker's in-process publish/subscribe in `anlian up` (ingest `EmbeddedBroker.countyLink`).
 */
export interface CommandTransport {
  publish(topic: string, payload: Buffer): Promise<void>;
  /** Subscribes `filter`; resolves with the function that unsubscribes. */
  subscribe(filter: string, onMessage: (topic: string, payload: Buffer) => void): Promise<() => Promise<void>>;
}

/** A transport over an mqtt.js client the caller connected (its own credentials on the broker). */
export function mqttCommandTransport(client: MqttClient): CommandTransport {
  return {
    async publish(topic, payload) {
      await client.publishAsync(topic, payload, { qos: 1 });
    },
    async subscribe(filter, onMessage) {
      const listener = (topic: string, payload: Buffer) => onMessage(topic, payload);
      client.on('message', listener);
      await client.subscribeAsync(filter, { qos: 1 });
      return async () => {
        client.off('message', listener);
        await client.unsubscribeAsync(filter);
      };
    },
  };
}

interface Waiting {
  resolve: (reply: CommandReplyPayload) => void;
  timer: NodeJS.Timeout;
}

export const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;

/**
 * {@link GatewayCommands} over a {@link CommandTransport}: one subscription to every reply of the
 * county (`anlian/v1/{county}/+/+/cmd/+/reply`), replies matched to their command by `id`.
 */
export class TransportGatewayCommands implements GatewayCommands {
  readonly #transport: CommandTransport;
  readonly #log: Logger;
  readonly #county: string;
  readonly #clock: () => number;
  readonly #waiting = new Map<string, Waiting>();
  #unsubscribe: (() => Promise<void>) | undefined;

  constructor(opts: { transport: CommandTransport; county: string; logger: Logger; clock?: () => number }) {
    this.#transport = opts.transport;
    this.#county = opts.county;
    this.#log = opts.logger.child({ module: 'gateway-commands' });
    this.#clock = opts.clock ?? Date.now;
  }

  async start(): Promise<void> {
    if (this.#unsubscribe) return;
    this.#unsubscribe = await this.#transport.subscribe(`anlian/v1/${this.#county}/+/+/cmd/+/reply`, (topic, payload) =>
      this.#onReply(topic, payload),
    );
  }

  async stop(): Promise<void> {
    const unsubscribe = this.#unsubscribe;
    this.#unsubscribe = undefined;
    for (const w of this.#waiting.values()) clearTimeout(w.timer);
    this.#waiting.clear();
    await unsubscribe?.();
  }

  async send(
    target: GatewayTarget,
    name: CommandName,
    args?: Record<string, unknown>,
    opts: { timeoutMs?: number } = {},
  ): Promise<CommandReplyPayload> {
    if (!this.#unsubscribe) await this.start();
    const now = this.#clock();
    const command: CommandPayload = { v: SCHEMA_VERSION, ts: now, id: newId('cmd', now), ...(args ? { args } : {}) };
    const timeoutMs = opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    const reply = new Promise<CommandReplyPayload>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(command.id);
        reject(
          new AlertingError(
            AlertingErrorCode.COMMAND_TIMEOUT,
            `${name} to gateway ${target.gateway}: no reply within ${Math.round(timeoutMs / 1000)} s`,
          ),
        );
      }, timeoutMs);
      this.#waiting.set(command.id, { resolve, timer });
    });
    try {
      await this.#transport.publish(topics.command(target, name), Buffer.from(encodePayload('command', command)));
    } catch (err) {
      const w = this.#waiting.get(command.id);
      if (w) clearTimeout(w.timer);
      this.#waiting.delete(command.id);
      throw err;
    }
    this.#log.info({ gateway: target.gateway, name, id: command.id }, 'command sent to gateway');
    return reply;
  }

  #onReply(topic: string, payload: Buffer): void {
    const decoded = decodeMessage(topic, payload);
    if (!decoded.ok || decoded.message.type !== 'command-reply') {
      this.#log.warn({ topic, reason: decoded.ok ? decoded.message.type : decoded.reason }, 'reply refused');
      return;
    }
    const reply = decoded.message.payload;
    const w = this.#waiting.get(reply.id);
    if (!w) return;
    clearTimeout(w.timer);
    this.#waiting.delete(reply.id);
    w.resolve(reply);
  }
}
