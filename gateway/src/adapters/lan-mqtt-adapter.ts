import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes, type AuthenticateError, type Client, type PublishPacket } from 'aedes';
import type { Logger } from 'pino';
import type { LanMqttAdapterConfig } from '../config/gateway-config.js';
import type { AdapterDeps, DeviceAdapter } from './device-adapter.js';
import type { DeviceReading, ReadingRejectReason } from './device-reading.js';
import { LanTopicMatcher } from './lan-topic-matcher.js';

/** A refused sensor message, as logged, counted and reported on the reject topic. */
export interface LanReject {
  topic: string;
  clientId: string | undefined;
  reason: ReadingRejectReason;
  detail: string;
}

export interface LanMqttAdapterEvents {
  reject: [LanReject];
}

/** Largest sensor message; the contract's payloads are at most 16 KiB. */
const MAX_LAN_PAYLOAD = 64 * 1024;
/** CONNACK 0x04 bad user name or password [MQTT-3.2.2-3]. */
const BAD_CREDENTIALS = 4;

/**
 * Wireless and IP sensors on the institution's LAN publish to an embedded aedes broker; each
 * message that matches a topic mapping becomes a reading.
 *
 * Acknowledgement: aedes calls `authorizePublish` before it writes the PUBACK, and writes it only
 * when the callback runs, so the sensor's PUBACK means "in the gateway's queue" (events fsync'd).
 * If the queue cannot take it, the callback errors and aedes closes the connection without a
 * PUBACK: the sensor redelivers [MQTT-4.4.0-1].
 *
 * A malformed message is acknowledged and dropped (MQTT 3.1.1 cannot refuse a PUBLISH with a
 * reason [MQTT-3.3.5-2], and closing the connection would make a sensor resend it forever): its
 * reason is logged, counted, and published on `rejectTopic` for installers watching the LAN.
 */
export class LanMqttAdapter extends EventEmitter<LanMqttAdapterEvents> implements DeviceAdapter {
  readonly name: string;
  readonly #c: LanMqttAdapterConfig;
  readonly #d: AdapterDeps;
  readonly #log: Logger;
  readonly #matcher: LanTopicMatcher;
  #aedes: Aedes | undefined;
  #server: Server | undefined;
  #port: number | undefined;
  readonly #sockets = new Set<Socket>();
  #accepted = 0;
  readonly #rejected = new Map<ReadingRejectReason, number>();
  #lastReject: LanReject | undefined;

  constructor(config: LanMqttAdapterConfig, deps: AdapterDeps) {
    super();
    this.name = config.name;
    this.#c = config;
    this.#d = deps;
    this.#log = deps.logger.child({ module: 'lan-mqtt', adapter: config.name });
    this.#matcher = new LanTopicMatcher(config.mappings);
  }

  /** The port listened on (with `port: 0`, the one the OS chose). */
  get port(): number | undefined {
    return this.#port;
  }

  get counts(): { accepted: number; rejected: Record<string, number> } {
    return { accepted: this.#accepted, rejected: Object.fromEntries(this.#rejected) };
  }

  async start(): Promise<void> {
    const auth = this.#c.auth;
    const aedes = await Aedes.createBroker({
      authenticate: (_client, username, password, done) => {
        if (!auth) return done(null, true);
        if (username === auth.username && password?.toString('utf8') === auth.password) return done(null, true);
        this.#log.warn({ username }, 'sensor login refused');
        done(
          Object.assign(new Error('bad username or password'), { returnCode: BAD_CREDENTIALS }) as AuthenticateError,
          false,
        );
      },
      authorizePublish: (client, packet, callback) => this.#onPublish(client, packet, callback),
    });
    const server = createServer((socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
      aedes.handle(socket);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.#c.port, this.#c.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      throw err;
    }
    server.on('error', (err) => this.#log.error({ err }, 'LAN listener error'));
    aedes.on('clientError', (client, err) =>
      this.#log.debug({ clientId: client.id, err: err.message }, 'sensor connection error'),
    );
    this.#aedes = aedes;
    this.#server = server;
    const address = server.address();
    this.#port = typeof address === 'object' && address ? address.port : this.#c.port;
    this.#log.info(
      { host: this.#c.host, port: this.#port, mappings: this.#c.mappings.length },
      'LAN MQTT broker listening',
    );
  }

  async stop(): Promise<void> {
    const aedes = this.#aedes;
    const server = this.#server;
    this.#aedes = undefined;
    this.#server = undefined;
    if (!aedes || !server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
    this.#log.info('LAN MQTT broker stopped');
  }

  health(): { name: string; ok: boolean; detail?: string } {
    const ok = this.#server?.listening === true;
    const rejected = [...this.#rejected.values()].reduce((a, b) => a + b, 0);
    const parts = [`${this.#aedes?.connectedClients ?? 0} sensors connected`, `${this.#accepted} accepted`];
    if (rejected > 0)
      parts.push(`${rejected} rejected (last: ${this.#lastReject?.reason} on ${this.#lastReject?.topic})`);
    return { name: this.name, ok, detail: (ok ? parts.join(', ') : 'not listening').slice(0, 500) };
  }

  #onPublish(client: Client | null, packet: PublishPacket, callback: (error?: Error | null) => void): void {
    // Wills of departed sensors, our own reject reports, broker-internal topics: pass through.
    if (client === null || packet.topic === this.#c.rejectTopic || packet.topic.startsWith('$')) {
      callback(null);
      return;
    }
    const reject = (reason: ReadingRejectReason, detail: string) => {
      this.#reject({ topic: packet.topic, clientId: client.id, reason, detail });
      callback(null);
    };
    const match = this.#matcher.match(packet.topic);
    if (!match) {
      reject('unmapped_topic', 'no topic mapping matches');
      return;
    }
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    if (payload.length > MAX_LAN_PAYLOAD) {
      reject('bad_reading', `payload of ${payload.length} bytes exceeds ${MAX_LAN_PAYLOAD}`);
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch (err) {
      reject('bad_json', (err as Error).message);
      return;
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      reject('bad_json', 'not a JSON object');
      return;
    }
    const fields: Record<string, unknown> = {};
    const renames = match.mapping.fields;
    for (const [k, v] of Object.entries(body)) fields[renames?.[k] ?? k] = v;
    const ts = fields.ts;
    delete fields.ts;
    if (ts !== undefined && (typeof ts !== 'number' || !Number.isFinite(ts))) {
      reject('bad_reading', 'ts: expected ms since the epoch');
      return;
    }
    const reading: DeviceReading = {
      device: match.device,
      message: match.mapping.message,
      fields,
      ...(typeof ts === 'number' ? { ts } : {}),
    };
    let outcome: ReturnType<AdapterDeps['sink']['submit']>;
    try {
      outcome = this.#d.sink.submit(reading);
    } catch (err) {
      // The queue could not take it: no PUBACK, the sensor sends it again.
      this.#log.error({ err, topic: packet.topic }, 'reading not queued: closing the sensor connection without PUBACK');
      callback(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (!outcome.ok && outcome.reason === 'queue_error') {
      // The queue could not take it: no PUBACK, the sensor sends it again [MQTT-4.4.0-1].
      this.#log.error(
        { topic: packet.topic, detail: outcome.detail },
        'reading not queued: closing the sensor connection without PUBACK',
      );
      callback(new Error(outcome.detail));
      return;
    }
    if (!outcome.ok) {
      reject(outcome.reason, outcome.detail);
      return;
    }
    outcome.durable.then(
      () => {
        this.#accepted++;
        callback(null);
      },
      (err: unknown) => {
        this.#log.error(
          { err, topic: packet.topic },
          'reading not durable: closing the sensor connection without PUBACK',
        );
        callback(err instanceof Error ? err : new Error(String(err)));
      },
    );
  }

  #reject(r: LanReject): void {
    this.#rejected.set(r.reason, (this.#rejected.get(r.reason) ?? 0) + 1);
    this.#lastReject = r;
    this.#log.warn(
      { topic: r.topic, clientId: r.clientId, reason: r.reason, detail: r.detail },
      'sensor message rejected',
    );
    this.emit('reject', r);
    this.#aedes?.publish(
      {
        cmd: 'publish',
        topic: this.#c.rejectTopic,
        payload: Buffer.from(JSON.stringify({ ...r, ts: this.#d.clock.now() })),
        qos: 0,
        retain: false,
        dup: false,
      },
      (err) => {
        if (err) this.#log.debug({ err }, 'could not report a rejection on the LAN');
      },
    );
  }
}
