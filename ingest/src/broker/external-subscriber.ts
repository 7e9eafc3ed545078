import { SegmentId, TOPIC_ROOT, topics } from '@anlian/protocol';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient, type Packet } from 'mqtt';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { type BrokerMetrics, brokerMetrics } from './broker-metrics.js';
import type { InboundMessage, MessageHandler, MessageSource } from './message-source.js';

export interface ExternalSubscriberOptions {
  /** `mqtt://host:1883` or `mqtts://host:8883`. */
  url: string;
  username?: string;
  password?: string;
  /** Stable per replica: the broker keeps this replica's session (and its unacknowledged messages) under it. */
  clientId: string;
  /** MQTT 5 shared-subscription group [MQTT-4.8.2]; every ingest replica of a county uses the same. Default `ingest`. */
  shareGroup?: string;
  logger: Logger;
  metrics: Registry;
  /**
   * MQTT sessions this replica opens in the share group (client ids `{clientId}-{i}` when more
   * than one). Keep it constant across restarts of a replica: a session that is not resumed
   * keeps its queued share until it expires. Default 1.
   */
  sessions?: number;
  /**
   * MQTT 5 Receive Maximum (MQTT 5 §3.1.2.11.3): QoS 1 messages the broker may have in flight to one
   * session, i.e. handed to the pipeline and not yet acknowledged. This is the handler
   * concurrency per session and the backpressure bound: when ingest falls behind, messages wait
   * in the broker, not in our heap. 1 – 65535 (the broker may lower it further, e.g. mosquitto's
   * `max_inflight_messages`). Default 1000.
   */
  receiveMaximum?: number;
  /** How long the broker keeps a disconnected replica's session (MQTT 5 Session Expiry Interval). Default 3600 s. */
  sessionExpirySeconds?: number;
  /**
   * Reconnect backoff after a lost connection: doubles from `minMs` to `maxMs` (±20 % jitter).
   * Default 100 – 500 ms. Short, because the broker may come back without this replica's
   * subscriptions (mosquitto 2.0 does not persist shared subscriptions: see `#resubscribe`), and
   * until the replica has subscribed again the broker drops what the gateways publish for it. A
   * refused connection to a broker on the private network costs next to nothing.
   * After the pipeline failed (`pipelineFailureMaxMs`, default 30 000 ms) it grows further:
   * reconnecting then only has the broker redeliver what the store just refused.
   */
  reconnect?: { minMs?: number; maxMs?: number; pipelineFailureMaxMs?: number };
  /** `start()` fails if the first connection is not up within this time. Default 30 000 ms. */
  connectTimeoutMs?: number;
  /** TLS material for `mqtts://`. */
  tls?: Pick<IClientOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized' | 'servername'>;
}

/** A QoS 1 PUBLISH handed to the handler, whose PUBACK waits for the handler to resolve. */
interface PendingAck {
  messageId: number;
  accepted: boolean;
}

/**
 * The PUBACKs owed on one connection, in the order the PUBLISHes arrived [MQTT-4.6.0-2]. A PUBACK
 * leaves only when its handler and those of every earlier PUBLISH resolved. Bound to the stream:
 * once the connection is gone (or dropped because a handler failed) nothing more is sent on its
 * behalf; the broker resends the unacknowledged messages when the session resumes.
 */
interface AckQueue {
  stream: MqttClient['stream'];
  pending: PendingAck[];
  head: number;
  dead: boolean;
}

interface Session {
  clientId: string;
  client: MqttClient;
  /** This session's lane filters, once it first subscribed: subscribed again on every reconnect. */
  filters: string[] | undefined;
  acks: AckQueue | undefined;
  /** Consecutive connection losses without a message successfully handled in between. */
  failures: number;
  /** The last connection was dropped on purpose because the handler failed. */
  handlerFailed: boolean;
  /** When a received PUBLISH last rescheduled the keepalive (ms since epoch). */
  alive: number;
  /** Handlers running for this session. */
  active: number;
  /** The PUBLISH that found `active` at the bound, to be handled (and reading resumed) when a handler settles. */
  paused: (() => void) | undefined;
}

export const DEFAULT_RECEIVE_MAXIMUM = 1000;

/**
 * Passed to mqtt.js' `handleMessage` callback for a QoS 1 PUBLISH whose PUBACK we send
 * ourselves: on an error mqtt.js sends no PUBACK and just reads the next packet (publish.js case 1).
 */
const DEFERRED_PUBACK = new Error('PUBACK deferred until the handler resolves');

/** mqtt.js' internal packet writer (build/lib/client.js `_sendPacket`), used for deferred PUBACKs. */
interface PacketSender {
  _sendPacket(packet: Packet): void;
}

/** The URL without credentials, for logs and health output. */
function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(unparseable url)';
  }
}

/**
 * Ingest as a client of an external MQTT 5 broker (mosquitto 2, EMQX 5): one shared
 * subscription `$share/{group}/anlian/v1/+/+/+/#` per session, so that the replicas of a
 * county split the gateways' messages between them.
 *
 * ## What a PUBACK means here
 * mqtt.js 5 (checked against 5.16) processes the incoming packets of a connection strictly one
 * after the other: the next is taken only when the previous one's `done` ran (build/lib/client.js
 * `work` / `nextTickWork`). For a QoS 1 PUBLISH, `done` runs after the callback of
 * `client.handleMessage(packet, callback)` and the PUBACK written from it (build/lib/handlers/publish.js,
 * case 1: `client.handleMessage(packet, (err) => { if (err) return done(err); client._sendPacket({ cmd: 'puback' … }, done) })`).
 * Waiting for the pipeline there would allow one message in flight per connection, so one spool
 * write per message. Instead we decouple reading from acknowledging:
 *
 * - `handleMessage` hands the message to the handler and at once calls back with a marker error,
 *   which makes mqtt.js skip its own PUBACK and read the next packet;
 * - when the handler resolved, we send the PUBACK ourselves, in arrival order
 *   ({@link AckQueue}): **PUBACK ⇒ handler accepted** (for the pipeline: on disk in the spool);
 * - when a handler rejects, its message is never acknowledged: we drop the connection and
 *   reconnect with backoff, and the broker resends what is unacknowledged when the session
 *   resumes [MQTT-4.4.0-1] (`clean: false` + session expiry; MQTT 5 servers do not resend on a
 *   live connection). Handlers that resolve later on the dropped connection send nothing; their
 *   messages come back too and the pipeline drops them as duplicates.
 *
 * The MQTT 5 Receive Maximum (`receiveMaximum`) bounds how many messages the broker hands us
 * before the first PUBACK: that is the concurrency, and the backpressure when we fall behind.
 * QoS 2 (not subscribed to) keeps mqtt.js' one-at-a-time path.
 *
 * mosquitto checks ACLs on delivery: a replica's SUBSCRIBE is granted even where its `read`
 * ACL does not cover the filter, and messages it may not read are simply not delivered.
 */
export class ExternalSubscriber implements MessageSource {
  readonly #o: ExternalSubscriberOptions;
  readonly #log: Logger;
  #sessions: Session[] = [];
  #handler: MessageHandler | undefined;
  #metrics: BrokerMetrics | undefined;
  #stopping = false;
  readonly #inflight = new Set<Promise<void>>();

  constructor(opts: ExternalSubscriberOptions) {
    this.#o = opts;
    this.#log = opts.logger.child({ module: 'external-subscriber' });
  }

  /** The shared-subscription filter for everything the gateways publish [MQTT-4.8.2]. */
  get filter(): string {
    return `$share/${this.#o.shareGroup ?? 'ingest'}/${topics.allGateways()}`;
  }

  /**
   * The filters of each lane. Events (fire alarms), status and command replies come on a session
   * of their own, so that when ingest falls behind the telemetry waits in the broker while an
   * alarm does not wait behind it (GB 26875.1: fire alarms take priority; bench:alarm-latency).
   */
  get filters(): { bulk: string[]; alarm: string[] } {
    const share = `$share/${this.#o.shareGroup ?? 'ingest'}/${TOPIC_ROOT}/+/+/+`;
    return {
      // Video-review snapshots in the bulk lane: up to 124 KiB each, following the fire alarm they
      // document; they must never hold an alarm back, and are acknowledged once in the media store.
      bulk: [`${share}/device/+/telemetry`, `${share}/heartbeat`, `${share}/device/+/snapshot`],
      alarm: [`${share}/device/+/event`, `${share}/status`, `${share}/cmd/+/reply`],
    };
  }

  async start(handler: MessageHandler): Promise<void> {
    if (this.#sessions.length > 0) throw new Error('ExternalSubscriber already started');
    const group = this.#o.shareGroup ?? 'ingest';
    // A share name must not contain '/', '+' or '#' [MQTT-4.8.2-2]; ids of the contract never do.
    if (!SegmentId.safeParse(group).success) throw new Error(`invalid share group ${JSON.stringify(group)}`);
    const { bulk, alarm } = this.filters;
    const count = this.#o.sessions ?? 1;
    if (!Number.isInteger(count) || count < 1) throw new Error(`sessions must be a positive integer, got ${count}`);
    const rm = this.#o.receiveMaximum ?? DEFAULT_RECEIVE_MAXIMUM;
    if (!Number.isInteger(rm) || rm < 1 || rm > 65_535) {
      throw new Error(`receiveMaximum must be an integer from 1 to 65535, got ${rm}`);
    }
    this.#handler = handler;
    this.#stopping = false;
    this.#metrics = brokerMetrics(this.#o.metrics);
    const ids = count === 1 ? [this.#o.clientId] : Array.from({ length: count }, (_, i) => `${this.#o.clientId}-${i}`);
    const lanes = [...ids.map((id) => ({ id, filters: bulk })), { id: `${this.#o.clientId}-alarm`, filters: alarm }];
    this.#sessions = lanes.map((l) => this.#createSession(l.id));
    try {
      await Promise.all(this.#sessions.map((s, i) => this.#connectAndSubscribe(s, lanes[i]?.filters ?? bulk)));
    } catch (err) {
      await this.#endAll(true);
      this.#sessions = [];
      this.#handler = undefined;
      throw err;
    }
    this.#log.info({ broker: this.describe() }, 'subscribed to the external broker');
  }

  describe(): string {
    const ids = this.#sessions.length > 0 ? this.#sessions.map((s) => s.clientId) : [this.#o.clientId];
    return `${safeUrl(this.#o.url)} $share/${this.#o.shareGroup ?? 'ingest'}/${topics.allGateways()} as ${ids.join(', ')} (alarm lane: events, status)`;
  }

  connected(): boolean {
    return this.#sessions.length > 0 && !this.#stopping && this.#sessions.every((s) => s.client.connected);
  }

  /**
   * Lets in-flight handlers settle (their PUBACKs go out), refuses anything later (left
   * unacknowledged in the session, so the broker resends it when this replica comes back),
   * then disconnects. The DISCONNECT keeps the session for `sessionExpirySeconds`.
   */
  async stop(): Promise<void> {
    if (this.#sessions.length === 0) return;
    this.#stopping = true;
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
    await this.#endAll(false);
    for (const s of this.#sessions) this.#metrics?.externalConnected.set({ client_id: s.clientId }, 0);
    this.#sessions = [];
    this.#handler = undefined;
    this.#log.info('disconnected from the external broker');
  }

  #backoff(failures: number, pipelineFailed = false): number {
    const r = this.#o.reconnect;
    const min = r?.minMs ?? 100;
    const max = pipelineFailed ? Math.max(r?.maxMs ?? 500, r?.pipelineFailureMaxMs ?? 30_000) : (r?.maxMs ?? 500);
    const base = Math.min(max, min * 2 ** Math.min(failures, 20));
    return Math.max(1, Math.round(base * (0.8 + 0.4 * Math.random())));
  }

  #createSession(clientId: string): Session {
    const o = this.#o;
    const client = mqtt.connect(o.url, {
      ...o.tls,
      protocolVersion: 5,
      clientId,
      ...(o.username !== undefined ? { username: o.username } : {}),
      ...(o.password !== undefined ? { password: o.password } : {}),
      // Resume the session after a restart or a dropped connection: the broker keeps the
      // subscription and the unacknowledged messages for the Session Expiry Interval
      // [MQTT-3.1.2-4]; MQTT 5 §3.1.2.11.2.
      clean: false,
      properties: {
        sessionExpiryInterval: o.sessionExpirySeconds ?? 3600,
        receiveMaximum: o.receiveMaximum ?? DEFAULT_RECEIVE_MAXIMUM,
      },
      reconnectPeriod: this.#backoff(0),
      connectTimeout: o.connectTimeoutMs ?? 30_000,
      // Our own SUBSCRIBE after every reconnect (`#resubscribe`); mqtt.js would send one only when
      // the broker says it has no session.
      resubscribe: false,
      // The handleMessage override must be in place before the first PUBLISH can arrive.
      manualConnect: true,
    });
    const session: Session = {
      clientId,
      client,
      filters: undefined,
      acks: undefined,
      failures: 0,
      handlerFailed: false,
      active: 0,
      paused: undefined,
      alive: 0,
    };
    client.handleMessage = (packet, callback) => this.#onMessage(session, packet, callback);
    const metrics = this.#metrics;
    client.on('connect', (connack) => {
      metrics?.externalConnected.set({ client_id: clientId }, 1);
      const failures = session.failures;
      if (!session.handlerFailed) session.failures = 0;
      this.#log.info(
        { clientId, sessionPresent: connack.sessionPresent, ...(failures > 0 ? { failures } : {}) },
        'connected to the external broker',
      );
      // A reconnection (the first connection subscribes in `#connectAndSubscribe`).
      if (session.filters) this.#resubscribe(session, session.filters);
    });
    // Before mqtt.js' own 'close' listener, which arms the reconnect timer with `reconnectPeriod`.
    client.prependListener('close', () => {
      metrics?.externalConnected.set({ client_id: clientId }, 0);
      if (this.#stopping) return;
      session.failures++;
      client.options.reconnectPeriod = this.#backoff(session.failures, session.handlerFailed);
      // Retried twice a second while the broker is away: the first loss and every tenth retry
      // at warn, the others at debug.
      this.#log[this.#loud(session) ? 'warn' : 'debug'](
        { clientId, retryInMs: client.options.reconnectPeriod, failures: session.failures },
        'connection to the external broker lost',
      );
    });
    client.on('reconnect', () => metrics?.externalReconnects.inc({ client_id: clientId }));
    client.on('error', (err) =>
      this.#log[this.#loud(session) ? 'warn' : 'debug']({ clientId, err: err.message }, 'external broker client error'),
    );
    return session;
  }

  #loud(session: Session): boolean {
    return session.failures <= 1 || session.failures % 10 === 0;
  }

  /**
   * Subscribes a reconnected session to its lane's filters again. The broker should have kept
   * them with the session [MQTT-3.1.2-4], and says so (session present), so mqtt.js sends no
   * SUBSCRIBE; but mosquitto 2.0 (2.0.11 here) saves only ordinary subscriptions in its
   * persistence file, not shared ones: after a broker restart the replica's session comes back
   * without its `$share/…` subscriptions and nothing more was delivered to ingest — ever — while
   * the gateways' messages were acknowledged and dropped (bin/test/production-faults.int.test.ts).
   * Subscribing again to a filter the session has replaces that subscription [MQTT-3.8.4-3]:
   * harmless on a broker that kept it.
   */
  #resubscribe(session: Session, filters: string[]): void {
    const { client, clientId } = session;
    client.subscribe(filters, { qos: 1, rh: 2 }, (err, granted) => {
      // A connection lost before the SUBACK subscribes again on the next connect.
      if (err) {
        this.#log.warn({ clientId, err: err.message }, 'subscribing again after a reconnect failed');
        return;
      }
      const refused = (granted ?? []).filter((g) => (g.qos & 0x80) !== 0);
      if (refused.length > 0) {
        this.#log.error(
          { clientId, refused: refused.map((g) => g.topic) },
          'the external broker refused the subscription after a reconnect',
        );
      } else this.#log.info({ clientId, filters }, 'subscribed again after a reconnect');
    });
  }

  async #connectAndSubscribe(session: Session, filters: string[]): Promise<void> {
    const { client, clientId } = session;
    const timeoutMs = this.#o.connectTimeoutMs ?? 30_000;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no connection to ${safeUrl(this.#o.url)} as ${clientId} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onConnect = () => {
        cleanup();
        resolve();
      };
      const onError = (err: Error & { code?: unknown }) => {
        // A refused CONNACK (bad credentials, not authorized) is final: mqtt.js stops reconnecting.
        // Socket errors are not; mqtt.js retries until the timeout above.
        if (typeof err.code === 'number') {
          cleanup();
          reject(new Error(`external broker refused ${clientId}: ${err.message}`, { cause: err }));
        }
      };
      const cleanup = () => {
        clearTimeout(timer);
        client.off('connect', onConnect);
        client.off('error', onError);
      };
      client.on('connect', onConnect);
      client.on('error', onError);
      client.connect();
    });
    // Also on a resumed session: harmless, and the SUBACK tells us the broker accepts the filter.
    // Retain handling 2, "do not send retained messages" [MQTT-3.3.1-11]: mosquitto 2.0 replays
    // every retained status to each session that subscribes to a shared filter (checked against
    // 2.0.11 in the tests), which would feed the pipeline stale statuses on every (re)start; the
    // embedded broker never does that either.
    const granted = await client.subscribeAsync(filters, { qos: 1, rh: 2 });
    const refused = granted.filter((g) => (g.qos & 0x80) !== 0);
    if (refused.length > 0) {
      throw new Error(
        `external broker refused the subscription ${refused.map((g) => g.topic).join(', ')} for ${clientId}`,
      );
    }
    // A session resumed from before the lanes still holds the single catch-all filter; drop it, or
    // this session would receive every message twice (the duplicates would be dropped by sequence).
    await client.unsubscribeAsync(this.filter).catch((err: unknown) => {
      this.#log.debug({ err, clientId }, 'no old catch-all subscription to drop');
    });
    session.filters = filters;
    // From now on a refused CONNACK (credentials rotated, broker reconfigured) is retried with
    // backoff like any other outage instead of leaving the replica disconnected for good.
    client.options.reconnectOnConnackError = true;
  }

  #onMessage(
    session: Session,
    packet: IPublishPacket,
    callback: (error?: Error) => void,
    arrivedOn: MqttClient['stream'] = session.client.stream,
  ): void {
    const handler = this.#handler;
    const metrics = this.#metrics;
    if (this.#stopping || !handler || !metrics || arrivedOn !== session.client.stream) {
      // Also a message that waited for a slot while its connection was lost: its packet id means
      // nothing on the new connection, and the broker sends it again there.
      // No PUBACK: the message stays in this replica's session and comes back when it resumes.
      callback(new Error('subscriber stopping'));
      return;
    }
    // A PUBLISH proves the broker alive as much as a PINGRESP does. mqtt.js 5.16 only reschedules
    // its keepalive on acks and PINGRESP, which a pure subscriber rarely receives; under a backlog
    // its PINGRESP waits behind thousands of PUBLISHes and the keepalive timeout dropped the
    // connection. Reschedule at most once a second.
    const now = Date.now();
    if (now - session.alive >= 1000) {
      session.alive = now;
      session.client.reschedulePing(true);
    }
    const msg: InboundMessage = {
      topic: packet.topic,
      payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
      qos: packet.qos,
      retain: packet.retain,
    };
    // QoS 1: acknowledge later, read on now. QoS 0 needs no PUBACK; QoS 2 keeps mqtt.js' path.
    let ack: PendingAck | undefined;
    let acks: AckQueue | undefined;
    if (session.active >= this.#receiveMaximum) {
      // The broker should never send more than Receive Maximum unacknowledged PUBLISHes
      // [MQTT-3.3.4-9], but mosquitto 2.0.11 was seen exceeding it once PUBACKs flow. Keep our
      // bound regardless: this message waits for a free slot and mqtt.js reads nothing more
      // meanwhile (TCP backpressure then keeps the rest in the broker).
      session.paused = () => this.#onMessage(session, packet, callback, arrivedOn);
      return;
    }
    session.active++;
    if (packet.qos === 1 && packet.messageId !== undefined) {
      acks = this.#ackQueue(session);
      ack = { messageId: packet.messageId, accepted: false };
      acks.pending.push(ack);
      callback(DEFERRED_PUBACK);
    } else if (packet.qos === 0) {
      callback();
    }
    this.#deliver(session, metrics, Promise.resolve(msg).then(handler), packet.qos, callback, ack, acks);
  }

  /**
   * Acknowledges (or not) once the handler settles. Its own function, so that its closures share
   * a context with scalars only: in `#onMessage` they would keep the packet and the message alive
   * until the write to the spool, long enough at 10,000 msg/s to be promoted to the old
   * generation (bench:ingest with a sampling heap profile).
   */
  #deliver(
    session: Session,
    metrics: BrokerMetrics,
    handled: Promise<void>,
    qos: number,
    callback: (error?: Error) => void,
    ack: PendingAck | undefined,
    acks: AckQueue | undefined,
  ): void {
    const delivery = handled
      .then(
        () => {
          metrics.delivered.inc({ source: 'external', outcome: 'accepted' });
          session.failures = 0;
          session.handlerFailed = false;
          if (ack && acks) {
            ack.accepted = true;
            this.#sendAcks(session, acks);
          } else if (qos !== 0) callback();
        },
        (err: unknown) => {
          metrics.delivered.inc({ source: 'external', outcome: 'failed' });
          session.handlerFailed = true;
          this.#log.error(
            { err, clientId: session.clientId },
            'pipeline failed: reconnecting without PUBACK so the broker redelivers',
          );
          if (acks) acks.dead = true;
          else if (qos !== 0) callback(err instanceof Error ? err : new Error(String(err)));
          // MQTT 5 brokers resend unacknowledged messages only when the session resumes.
          if (!this.#stopping && (!acks || session.client.stream === acks.stream)) session.client.stream.destroy();
        },
      )
      .catch((err: unknown) => this.#log.error({ err, clientId: session.clientId }, 'mqtt.js message callback threw'))
      .finally(() => {
        this.#inflight.delete(delivery);
        session.active--;
        const paused = session.paused;
        if (paused) {
          session.paused = undefined;
          paused();
        }
      });
    this.#inflight.add(delivery);
  }

  get #receiveMaximum(): number {
    return this.#o.receiveMaximum ?? DEFAULT_RECEIVE_MAXIMUM;
  }

  /** The PUBACK queue of the session's current connection. */
  #ackQueue(session: Session): AckQueue {
    const stream = session.client.stream;
    let acks = session.acks;
    if (acks?.stream !== stream) {
      if (acks) acks.dead = true;
      acks = { stream, pending: [], head: 0, dead: false };
      session.acks = acks;
    }
    return acks;
  }

  /** Sends the PUBACKs at the head of `acks` whose handlers resolved, in arrival order. */
  #sendAcks(session: Session, acks: AckQueue): void {
    const { client } = session;
    const { pending } = acks;
    let head = acks.head;
    while (head < pending.length) {
      const next = pending[head] as PendingAck;
      if (!next.accepted) break;
      head++;
      // Never on another connection: the broker may have reused the packet id there.
      if (acks.dead || client.stream !== acks.stream || !client.connected) continue;
      (client as unknown as PacketSender)._sendPacket({ cmd: 'puback', messageId: next.messageId, reasonCode: 0 });
    }
    if (head === pending.length) {
      pending.length = 0;
      acks.head = 0;
    } else if (head > 4096 && head * 2 > pending.length) {
      acks.pending = pending.slice(head);
      acks.head = 0;
    } else acks.head = head;
  }

  async #endAll(force: boolean): Promise<void> {
    await Promise.all(
      this.#sessions.map((s) =>
        s.client.endAsync(force || !s.client.connected).catch((err: unknown) => {
          this.#log.warn({ err, clientId: s.clientId }, 'error while disconnecting from the external broker');
        }),
      ),
    );
  }
}
