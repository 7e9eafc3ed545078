import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import {
  CommandName,
  type CommandPayload,
  type CommandReplyPayload,
  decodeMessage,
  encodePayload,
  type GatewayAddress,
  type HeartbeatPayload,
  SCHEMA_VERSION,
  type StatusPayload,
  topics,
} from '@anlian/protocol';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { GatewayConfig } from '../config/gateway-config.js';
import type { SequenceCounter } from '../queue/sequence-counter.js';
import type { QosOnePublisher } from './replay-pump.js';

export type CountyLink = GatewayConfig['county'];

/** What a command handler answers; becomes the `…/cmd/{name}/reply` payload. */
export interface CommandOutcome {
  ok: boolean;
  detail?: string;
  result?: Record<string, unknown>;
}
export type CommandHandler = (name: CommandName, command: CommandPayload) => Promise<CommandOutcome>;

export interface CountyUplinkOptions {
  address: GatewayAddress;
  link: CountyLink;
  seq: SequenceCounter;
  clock: Clock;
  logger: Logger;
  onCommand: CommandHandler;
  /** mqtt.js `connect`, replaceable in tests. */
  connect?: (url: string, opts: IClientOptions) => MqttClient;
  /** Random number in [0, 1) for the backoff jitter. */
  random?: () => number;
}

export interface UplinkEvents {
  up: [];
  down: [];
  /** A reconnect attempt is scheduled after `delayMs`. */
  retry: [delayMs: number];
}

export interface UplinkStats {
  connected: boolean;
  connects: number;
  attempts: number;
  /** Delay before the next attempt, while reconnecting. */
  nextAttemptMs?: number;
  lastError?: string;
}

/** Command ids remembered to drop QoS 1 redeliveries of a command [MQTT-4.3.2]. */
const RECENT_COMMANDS = 256;
const STOP_PUBLISH_TIMEOUT_MS = 2000;

/**
 * The connection to the county broker. One mqtt.js client per connection attempt, with
 * automatic reconnection off: we reconnect with exponential backoff and jitter ourselves, and a
 * fresh client carries a fresh last will (its `seq` and `ts`).
 *
 * - Persistent session (clean session off, client id = gateway id), so county commands sent
 *   while the gateway is away wait at the broker [MQTT-3.1.2-4]. The link counts as up once the
 *   command subscription is acknowledged, so that nothing sent on seeing `online` is lost.
 * - Last will: retained `offline` with reason `will`; on connect a retained `online` that carries
 *   a fresh `seq` (protocol README: the county's duplicate window).
 * - Commands on `…/cmd/+`, each answered on `…/cmd/{name}/reply`.
 */
export class CountyUplink extends EventEmitter<UplinkEvents> implements QosOnePublisher {
  readonly #o: CountyUplinkOptions;
  readonly #log: Logger;
  #link: CountyLink;
  #client: MqttClient | undefined;
  #up = false;
  #running = false;
  #attempt = 0;
  #connects = 0;
  #attempts = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  /** While a connection waits for its command subscription's SUBACK. */
  #subackTimer: NodeJS.Timeout | undefined;
  #nextAttemptMs: number | undefined;
  #lastError: string | undefined;
  readonly #recentCommands: string[] = [];

  constructor(opts: CountyUplinkOptions) {
    super();
    this.#o = opts;
    this.#link = opts.link;
    this.#log = opts.logger.child({ module: 'uplink' });
  }

  get connected(): boolean {
    return this.#up;
  }

  stats(): UplinkStats {
    return {
      connected: this.#up,
      connects: this.#connects,
      attempts: this.#attempts,
      ...(this.#nextAttemptMs === undefined ? {} : { nextAttemptMs: this.#nextAttemptMs }),
      ...(this.#lastError === undefined ? {} : { lastError: this.#lastError }),
    };
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#attempt = 0;
    this.#connect();
  }

  /**
   * Clean stop: a retained `offline` with reason `shutdown`, then DISCONNECT, so the broker
   * does not publish the will [MQTT-3.1.2-10].
   */
  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    clearTimeout(this.#subackTimer);
    this.#subackTimer = undefined;
    const client = this.#client;
    this.#client = undefined;
    if (!client) return;
    if (this.#up) {
      try {
        await withTimeout(
          client.publishAsync(topics.status(this.#o.address), this.#status('offline', 'shutdown'), {
            qos: 1,
            retain: true,
          }),
          STOP_PUBLISH_TIMEOUT_MS,
        );
      } catch (err) {
        this.#log.warn({ err }, 'could not publish offline status on stop');
      }
    }
    this.#setDown();
    await withTimeout(client.endAsync(), STOP_PUBLISH_TIMEOUT_MS).catch((err: unknown) => {
      this.#log.warn({ err }, 'clean disconnect failed');
      client.end(true);
    });
  }

  /** New link settings (on reload): reconnect if they changed. */
  reconfigure(link: CountyLink): void {
    const changed = JSON.stringify(link) !== JSON.stringify(this.#link);
    this.#link = link;
    if (!changed || !this.#running) return;
    this.#log.info({ url: link.url }, 'county link changed: reconnecting');
    this.#drop();
    clearTimeout(this.#retryTimer);
    this.#attempt = 0;
    this.#connect();
  }

  publish(topic: string, payload: Buffer, done: (err?: Error) => void): void {
    const client = this.#client;
    if (!client || !this.#up) {
      done(new Error('county link is down'));
      return;
    }
    client.publish(topic, payload, { qos: 1 }, (err) => done(err ?? undefined));
  }

  /** A heartbeat, straight to the county (not queued: a stale heartbeat says nothing). */
  sendHeartbeat(body: Omit<HeartbeatPayload, 'v' | 'ts' | 'seq'>): boolean {
    const client = this.#client;
    if (!client || !this.#up) return false;
    const payload = encodePayload('heartbeat', {
      v: SCHEMA_VERSION,
      ts: this.#o.clock.now(),
      seq: this.#o.seq.next(),
      ...body,
    });
    client.publish(topics.heartbeat(this.#o.address), payload, { qos: 1 }, (err) => {
      if (err) this.#log.debug({ err: err.message }, 'heartbeat not acknowledged');
    });
    return true;
  }

  #status(state: StatusPayload['state'], reason: NonNullable<StatusPayload['reason']>): string {
    return encodePayload('status', {
      v: SCHEMA_VERSION,
      ts: this.#o.clock.now(),
      seq: this.#o.seq.next(),
      state,
      reason,
    });
  }

  #connect(): void {
    if (!this.#running) return;
    this.#attempts++;
    this.#nextAttemptMs = undefined;
    const { address } = this.#o;
    const link = this.#link;
    const opts: IClientOptions = {
      clientId: address.gateway,
      username: address.gateway,
      password: link.password,
      clean: false,
      protocolVersion: 4,
      keepalive: link.keepaliveS,
      connectTimeout: link.connectTimeoutMs,
      reconnectPeriod: 0,
      // mqtt-packet (mqtt.js's and aedes's encoder, one module) otherwise builds a cache of 65,536
      // two-byte Buffers for packet ids on the first packet either of them writes: ~7 MB of heap
      // for ever, a tenth of the gateway's memory. The switch is the module's, so it also covers
      // the LAN broker, provided this client exists before aedes writes (buildGateway's start()).
      writeCache: false,
      will: {
        topic: topics.status(address),
        payload: Buffer.from(this.#status('offline', 'will')),
        qos: 1,
        retain: true,
      },
      ...(link.caFile ? { ca: readFileSync(link.caFile) } : {}),
    };
    const connect = this.#o.connect ?? mqtt.connect;
    const client = connect(link.url, opts);
    this.#client = client;
    client.on('connect', () => {
      if (this.#client !== client) return;
      this.#attempt = 0;
      this.#connects++;
      this.#lastError = undefined;
      // The link is up — `online` published, `up` emitted — once the broker has acknowledged the
      // command subscription (SUBACK): a county that answers `online` with a command (a duty
      // check) would otherwise send it before the subscription of a first session exists, and the
      // broker would drop it [MQTT-3.8.4-1: the subscription takes effect with its SUBACK]. A
      // broker that does not answer within the connect timeout does not hold back the alarms.
      let up = false;
      const goUp = (why: string | undefined) => {
        // A late callback of a client let go must not touch the current one's timer.
        if (up || this.#client !== client) return;
        clearTimeout(this.#subackTimer);
        this.#subackTimer = undefined;
        up = true;
        if (why) this.#log.warn({ why }, 'county commands unavailable on this connection (retried on the next)');
        // Before any queued message on this connection: the county sees the gateway back first.
        client.publish(topics.status(address), this.#status('online', 'connect'), { qos: 1, retain: true }, (err) => {
          if (err) this.#log.debug({ err: err.message }, 'online status not acknowledged');
        });
        this.#up = true;
        this.#log.info({ url: link.url, connects: this.#connects }, 'county link up');
        this.emit('up');
      };
      clearTimeout(this.#subackTimer);
      this.#subackTimer = setTimeout(
        () => goUp(`no SUBACK for the command subscription within ${link.connectTimeoutMs} ms`),
        link.connectTimeoutMs,
      );
      client.subscribe(topics.commandsOf(address), { qos: 1 }, (err) =>
        goUp(err ? `command subscription refused: ${err.message}` : undefined),
      );
    });
    client.on('message', (topic, payload) => this.#onMessage(client, topic, payload));
    client.on('error', (err) => {
      this.#lastError = err.message;
      this.#log.debug({ err: err.message }, 'county link error');
    });
    client.on('close', () => {
      if (this.#client !== client) return;
      this.#drop();
      this.#scheduleReconnect();
    });
  }

  #setDown(): void {
    if (!this.#up) return;
    this.#up = false;
    this.#log.warn({ lastError: this.#lastError }, 'county link down');
    this.emit('down');
  }

  /** Forgets the current client (its callbacks no longer count) and closes it. */
  #drop(): void {
    const client = this.#client;
    this.#client = undefined;
    clearTimeout(this.#subackTimer);
    this.#subackTimer = undefined;
    this.#setDown();
    if (client) {
      client.removeAllListeners('connect');
      client.removeAllListeners('message');
      client.removeAllListeners('close');
      client.on('error', () => {}); // a late socket error of a client we have let go
      client.end(true);
    }
  }

  #scheduleReconnect(): void {
    if (!this.#running || this.#retryTimer) return;
    const { initialMs, maxMs } = this.#link.reconnect;
    const base = Math.min(maxMs, initialMs * 2 ** Math.min(this.#attempt, 30));
    this.#attempt++;
    // ±20 % so that the gateways of a county do not all reconnect in the same instant.
    const delay = Math.round(base * (0.8 + 0.4 * (this.#o.random ?? Math.random)()));
    this.#nextAttemptMs = delay;
    this.#log.info(
      { delayMs: delay, attempt: this.#attempt, lastError: this.#lastError },
      'reconnecting to the county',
    );
    this.emit('retry', delay);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#connect();
    }, delay);
  }

  #onMessage(client: MqttClient, topic: string, payload: Buffer): void {
    const decoded = decodeMessage(topic, payload);
    if (!decoded.ok || decoded.message.type !== 'command') {
      this.#log.warn(
        {
          topic,
          reason: decoded.ok ? 'not a command' : decoded.reason,
          detail: decoded.ok ? undefined : decoded.detail,
        },
        'county message refused',
      );
      return;
    }
    const { name } = decoded.message.topic;
    const command = decoded.message.payload;
    if (this.#recentCommands.includes(command.id)) {
      this.#log.info({ name, id: command.id }, 'duplicate command ignored');
      return;
    }
    this.#recentCommands.push(command.id);
    if (this.#recentCommands.length > RECENT_COMMANDS) this.#recentCommands.shift();
    const known = CommandName.safeParse(name);
    const outcome: Promise<CommandOutcome> = known.success
      ? this.#o.onCommand(known.data, command).catch((err: unknown) => ({ ok: false, detail: (err as Error).message }))
      : Promise.resolve({ ok: false, detail: `unknown command ${name}` });
    void outcome.then((o) => {
      this.#log.info({ name, id: command.id, ok: o.ok, detail: o.detail }, 'county command');
      const reply: CommandReplyPayload = {
        v: SCHEMA_VERSION,
        ts: this.#o.clock.now(),
        seq: this.#o.seq.next(),
        id: command.id,
        ok: o.ok,
        ...(o.detail === undefined ? {} : { detail: o.detail.slice(0, 500) }),
        ...(o.result === undefined ? {} : { result: o.result }),
      };
      // On the current connection: a duty check answers minutes later, perhaps after a reconnect.
      // With none, on the client the command came in on (mqtt.js queues it); the county may ask again.
      const via = this.#up && this.#client ? this.#client : client;
      via.publish(topics.commandReply(this.#o.address, name), encodePayload('command-reply', reply), { qos: 1 });
    });
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
