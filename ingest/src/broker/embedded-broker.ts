import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { MAX_PAYLOAD_BYTES } from '@anlian/protocol';
import {
  type AttemptOutcome,
  FailureLimiter,
  type GatewayDirectory,
  type GatewayIdentity,
  StoreErrorCode,
} from '@anlian/store';
import {
  Aedes,
  type AuthenticateError,
  type Client,
  type ConnectPacket,
  type PublishPacket,
  type Subscription,
} from 'aedes';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { AuthFailureLog } from './auth-failure-log.js';
import { type BrokerMetrics, brokerMetrics } from './broker-metrics.js';
import type { InboundMessage, MessageHandler, MessageSource } from './message-source.js';
import { mayPublish, maySubscribe } from './topic-acl.js';

export interface EmbeddedBrokerOptions {
  /** Listen address; `0.0.0.0` to accept gateways from the network. Default `127.0.0.1`. */
  host?: string;
  /** TCP port; 0 picks a free one (read it back from `port`). Default 1883. */
  port?: number;
  directory: GatewayDirectory;
  logger: Logger;
  metrics: Registry;
  /**
   * Largest PUBLISH payload the broker accepts; a bigger one closes the connection. Default
   * 4 × the contract's MAX_PAYLOAD_BYTES: payloads between the two reach the pipeline, which
   * refuses them *with* a PUBACK, so a gateway with an oversized message does not loop on
   * redelivering it; above this bound the sender is treated as hostile.
   */
  maxPayloadBytes?: number;
  /** Milliseconds a new connection may take to send CONNECT (and, on mqtts, finish the TLS handshake). Default 10 000. */
  connectTimeoutMs?: number;
  /** Limits on failed CONNECTs; see `BrokerAuthLimits`. */
  authLimits?: Partial<BrokerAuthLimits>;
  /** Failed CONNECTs are logged as one line per gateway per this interval (after the first). Default 60 000. */
  authLogIntervalMs?: number;
  /**
   * A second listener for MQTT over TLS (mqtts): gateways across the internet connect here and
   * verify the county's certificate (the gateway's `county.caFile`). Same authentication and ACL
   * as the plain listener.
   */
  tls?: EmbeddedBrokerTls;
}

export interface EmbeddedBrokerTls {
  /** Listen address. Default: the plain listener's `host`. */
  host?: string;
  /** TCP port; 0 picks a free one (read it back from `tlsPort`). Default 8883. */
  port?: number;
  /** PEM certificate chain the broker presents (the server certificate first). */
  cert: string | Buffer;
  /** PEM private key of the certificate. */
  key: string | Buffer;
}

/**
 * Failed CONNECTs allowed per source address and per gateway id within `windowMs`, counting
 * those still being verified. An address with no failure in the window may have
 * `burstPerAddress` CONNECTs in flight (many gateways behind one NAT, all reconnecting after a
 * broker restart). Over the address limit a CONNECT is refused before any lookup;
 * over the gateway limit only a secret verified recently (the directory's cache) passes, so the
 * gateway itself, connected before, still gets in while its id is under attack, and the guesses
 * cost no scrypt.
 */
export interface BrokerAuthLimits {
  perAddress: number;
  burstPerAddress: number;
  perGateway: number;
  windowMs: number;
}

export const DEFAULT_BROKER_AUTH_LIMITS: Readonly<BrokerAuthLimits> = Object.freeze({
  perAddress: 20,
  burstPerAddress: 100,
  perGateway: 10,
  windowMs: 60_000,
});

/** MQTT 3.1.1 CONNACK return codes [MQTT-3.2.2-3], as aedes takes them on an authenticate error. */
const CONNACK = {
  IDENTIFIER_REJECTED: 2,
  SERVER_UNAVAILABLE: 3,
  BAD_USERNAME_OR_PASSWORD: 4,
  NOT_AUTHORIZED: 5,
} as const;

type AuthFailureReason =
  | 'missing_credentials'
  | 'client_id_mismatch'
  | 'unknown_gateway'
  | 'disabled'
  | 'bad_secret'
  | 'bad_will'
  | 'directory_error'
  | 'rate_limited_address'
  | 'rate_limited_gateway'
  | 'busy'
  | 'abandoned';

class AuthFailure extends Error {
  constructor(
    readonly reason: AuthFailureReason,
    readonly returnCode: (typeof CONNACK)[keyof typeof CONNACK],
    message: string,
  ) {
    super(message);
  }
}

/** Resolves when the socket has handed all buffered writes to the OS, closed, or `timeoutMs` passed. */
function flushed(socket: Socket, timeoutMs: number): Promise<void> {
  if (socket.writableLength === 0 || socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    socket.once('drain', done);
    socket.once('close', done);
  });
}

/** Listens and resolves with the port bound (the given one, or the one picked for 0). */
function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}
const hasStoreCode = (err: unknown, code: string): boolean =>
  typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;

/** Ids and usernames come from the wire: bound what goes into a log line. */
const clip = (s: string | undefined): string | undefined =>
  s === undefined || s.length <= 80 ? s : `${s.slice(0, 80)}…`;

/**
 * The single-node county broker: aedes in-process, gateways authenticated against the
 * `GatewayDirectory`, every PUBLISH and SUBSCRIBE checked against the topic ACL.
 *
 * ## What a PUBACK means here
 * Messages reach the pipeline from inside aedes' `authorizePublish` hook, and the hook calls
 * back only when the handler has settled. That is the only hook that runs before the PUBACK:
 * for QoS 1 aedes writes the PUBACK *first* and routes the message to subscribers afterwards
 * (aedes 1.2 lib/handlers/publish.js, `enqueuePublish`, case 1: `write(client, new PubAck(packet), …
 * client.broker.publish(…))`), so an in-process `broker.subscribe()` or the `published` hook
 * would acknowledge before the pipeline has the message. With the hook:
 *
 * - handler resolved ⇒ PUBACK (QoS 1) / PUBREC (QoS 2) is written: **PUBACK ⇒ handler accepted**.
 * - handler rejected ⇒ the hook errors, aedes closes the connection without acknowledging
 *   (lib/client.js `_onError`) and the gateway redelivers after it reconnects [MQTT-4.4.0-1].
 * - The same path carries the last will: aedes authorizes a will with this hook before
 *   publishing it when a connection drops without DISCONNECT (lib/client.js `close` → `finish`).
 *   If the handler fails for a will, the will is lost (there is nobody to redeliver it); logged.
 *
 * ## What a denial means here
 * MQTT 3.1.1 (all aedes speaks) cannot refuse a PUBLISH: the server must acknowledge it or close
 * the connection [MQTT-3.3.5-2]. aedes closes the connection whenever `authorizePublish` errors
 * (docs/Aedes.md "Handler: authorizePublish"; there is no ack-and-drop, moscajs/aedes#210).
 * A gateway that keeps a denied QoS 1 message in its outgoing store will resend it on every
 * reconnect and be disconnected every time: a misconfigured gateway fails loudly (counted in
 * `anlian_broker_publish_denied_total`, logged with topic and gateway) instead of silently.
 * mosquitto, in contrast, acknowledges and drops a denied PUBLISH.
 * A denied SUBSCRIBE is answered with SUBACK 0x80 for that filter and the connection stays up.
 *
 * Gateway messages are processed as aedes parses them: a socket read chunk is dispatched
 * concurrently and the next chunk is read when all of it has settled (lib/client.js `enqueue` /
 * `nextBatch`), so a slow pipeline slows the gateway's socket instead of queueing unboundedly.
 */
/** Publish and subscribe inside the broker's process (structurally alerting's `CommandTransport`). */
export interface InProcessMqtt {
  publish(topic: string, payload: Buffer): Promise<void>;
  subscribe(filter: string, onMessage: (topic: string, payload: Buffer) => void): Promise<() => Promise<void>>;
}

export class EmbeddedBroker implements MessageSource {
  readonly #o: EmbeddedBrokerOptions;
  readonly #log: Logger;
  #aedes: Aedes | undefined;
  #server: Server | undefined;
  #tlsServer: Server | undefined;
  #port: number | undefined;
  #tlsPort: number | undefined;
  #handler: MessageHandler | undefined;
  #metrics: BrokerMetrics | undefined;
  #stopping = false;
  readonly #sockets = new Set<Socket>();
  readonly #identities = new WeakMap<Client, GatewayIdentity>();
  readonly #wills = new WeakMap<Client, NonNullable<ConnectPacket['will']>>();
  readonly #inflight = new Set<Promise<void>>();
  /** One per CONNECT being authenticated: aborted when its socket closes or the broker stops. */
  readonly #authenticating = new Set<AbortController>();
  readonly #byAddress: FailureLimiter;
  readonly #byGateway: FailureLimiter;
  readonly #failureLog: AuthFailureLog;

  constructor(opts: EmbeddedBrokerOptions) {
    this.#o = opts;
    this.#log = opts.logger.child({ module: 'embedded-broker' });
    const limits = { ...DEFAULT_BROKER_AUTH_LIMITS, ...opts.authLimits };
    this.#byAddress = new FailureLimiter({
      max: limits.perAddress,
      burst: Math.max(limits.burstPerAddress, limits.perAddress),
      windowMs: limits.windowMs,
    });
    this.#byGateway = new FailureLimiter({ max: limits.perGateway, windowMs: limits.windowMs });
    this.#failureLog = new AuthFailureLog({
      logger: this.#log,
      ...(opts.authLogIntervalMs ? { intervalMs: opts.authLogIntervalMs } : {}),
    });
  }

  async start(handler: MessageHandler): Promise<void> {
    if (this.#aedes) throw new Error('EmbeddedBroker already started');
    this.#handler = handler;
    this.#stopping = false;
    const metrics = brokerMetrics(this.#o.metrics);
    this.#metrics = metrics;

    const aedes = await Aedes.createBroker({
      connectTimeout: this.#o.connectTimeoutMs ?? 10_000,
      // Only matters for MQTT 3.1 clients; gateway ids are up to 64 characters (protocol SegmentId).
      maxClientsIdLength: 64,
      preConnect: (client, packet, callback) => {
        if (packet.will) this.#wills.set(client, packet.will);
        callback(null, true);
      },
      authenticate: (client, username, password, done) => {
        this.#authenticate(client, username, password).then(
          (identity) => {
            this.#identities.set(client, identity);
            done(null, true);
          },
          (err: unknown) => {
            const failure =
              err instanceof AuthFailure
                ? err
                : new AuthFailure('directory_error', CONNACK.SERVER_UNAVAILABLE, 'server unavailable');
            if (!(err instanceof AuthFailure)) this.#log.error({ err }, 'gateway directory failed during CONNECT');
            metrics.authFailures.inc({ reason: failure.reason });
            // Aggregated: one line per gateway per interval, however many attempts an attack makes.
            this.#failureLog.record({
              gateway: clip(username),
              reason: failure.reason,
              remote: (client.conn as Socket).remoteAddress,
              message: failure.message,
            });
            const error = Object.assign(new Error(failure.message), { returnCode: failure.returnCode });
            done(error as AuthenticateError, false);
          },
        );
      },
      authorizePublish: (client, packet, callback) => this.#authorizePublish(client, packet, callback),
      authorizeSubscribe: (client, sub, callback) => callback(null, this.#authorizeSubscribe(client, sub)),
    });
    this.#aedes = aedes;
    this.#failureLog.start();

    aedes.on('client', (client) => {
      metrics.clientsConnected.inc();
      this.#log.info({ gateway: client.id, remote: (client.conn as Socket).remoteAddress }, 'gateway connected');
    });
    aedes.on('clientDisconnect', (client) => {
      metrics.clientsConnected.dec();
      this.#log.info({ gateway: client.id }, 'gateway disconnected');
    });
    aedes.on('clientError', (client, err) => {
      this.#log.debug({ gateway: client.id, err: err.message }, 'gateway connection closed on error');
    });
    aedes.on('connectionError', (_client, err) => {
      this.#log.debug({ err: err.message }, 'connection error before CONNECT completed');
    });

    const accept = (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
      aedes.handle(socket);
    };
    const server = createServer(accept);
    this.#server = server;
    const tlsOpts = this.#o.tls;
    // TLS 1.2 at least (RFC 8996 deprecates 1.0 and 1.1); a stalled handshake is dropped as a
    // stalled CONNECT is.
    const tlsServer = tlsOpts
      ? createTlsServer(
          {
            cert: tlsOpts.cert,
            key: tlsOpts.key,
            minVersion: 'TLSv1.2',
            handshakeTimeout: this.#o.connectTimeoutMs ?? 10_000,
          },
          accept,
        )
      : undefined;
    this.#tlsServer = tlsServer;
    // Connections still in their TLS handshake are not aedes' yet: track them so stop() can close them.
    tlsServer?.on('connection', (raw: Socket) => {
      this.#sockets.add(raw);
      raw.once('close', () => this.#sockets.delete(raw));
    });
    try {
      this.#port = await listen(server, this.#o.port ?? 1883, this.#o.host ?? '127.0.0.1');
      if (tlsServer && tlsOpts) {
        this.#tlsPort = await listen(tlsServer, tlsOpts.port ?? 8883, tlsOpts.host ?? this.#o.host ?? '127.0.0.1');
      }
    } catch (err) {
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      this.#failureLog.stop();
      this.#aedes = undefined;
      this.#server = undefined;
      this.#tlsServer = undefined;
      this.#port = undefined;
      this.#tlsPort = undefined;
      throw err;
    }
    server.on('error', (err) => this.#log.error({ err }, 'MQTT listener error'));
    tlsServer?.on('error', (err) => this.#log.error({ err }, 'MQTT over TLS listener error'));
    // A failed handshake (a gateway that does not trust the certificate, a port scanner) never
    // reaches aedes: count it with the refused CONNECTs.
    tlsServer?.on('tlsClientError', (err, socket) => {
      metrics.authFailures.inc({ reason: 'tls_handshake' });
      this.#log.warn({ err: err.message, remote: socket.remoteAddress }, 'TLS handshake failed');
    });
    this.#log.info({ listen: this.describe() }, 'embedded MQTT broker listening');
  }

  /**
   * The county's own link to the broker, in process (`anlian up`): publish commands to gateways
   * and subscribe to their replies without a TCP connection or credentials. aedes delivers what
   * `publish` sends to the gateways' subscriptions — queued for a gateway away with its persistent
   * session — and does not run it through `authorizePublish` (it is not a gateway's message).
   */
  countyLink(): InProcessMqtt {
    const aedes = () => {
      if (!this.#aedes) throw new Error('EmbeddedBroker not started');
      return this.#aedes;
    };
    return {
      publish: (topic, payload) =>
        new Promise<void>((resolve, reject) => {
          aedes().publish({ cmd: 'publish', topic, payload, qos: 1, retain: false, dup: false }, (err) =>
            err ? reject(err) : resolve(),
          );
        }),
      subscribe: (filter, onMessage) =>
        new Promise((resolve) => {
          const deliver = (packet: { topic: string; payload: string | Buffer }, cb: () => void) => {
            onMessage(packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload));
            cb();
          };
          const broker = aedes();
          broker.subscribe(filter, deliver, () =>
            resolve(
              () =>
                new Promise<void>((done) => {
                  if (!this.#aedes) return done();
                  broker.unsubscribe(filter, deliver, () => done());
                }),
            ),
          );
        }),
    };
  }

  /** The TCP port actually listened on (useful with `port: 0`). */
  get port(): number {
    if (this.#port === undefined) throw new Error('EmbeddedBroker not started');
    return this.#port;
  }

  /** The mqtts port actually listened on; undefined without a TLS listener. */
  get tlsPort(): number | undefined {
    return this.#tlsPort;
  }

  describe(): string {
    const host = this.#o.host ?? '127.0.0.1';
    const plain = `mqtt://${host}:${this.#port ?? this.#o.port ?? 1883}`;
    const tls = this.#o.tls;
    const secure = tls ? ` and mqtts://${tls.host ?? host}:${this.#tlsPort ?? tls.port ?? 8883}` : '';
    return `${plain}${secure} (embedded aedes)`;
  }

  connected(): boolean {
    return this.#server?.listening === true && !this.#stopping;
  }

  /**
   * Stops accepting connections, lets in-flight handlers settle (so their PUBACKs go out),
   * then closes every client and aedes. Wills are not delivered during shutdown: the county
   * broker going away is not every gateway failing, and each gateway publishes `online` again
   * when it reconnects. Messages arriving meanwhile are refused without PUBACK and redelivered
   * by their gateway to the next broker.
   */
  async stop(): Promise<void> {
    const aedes = this.#aedes;
    const server = this.#server;
    if (!aedes || !server) return;
    this.#stopping = true;
    const tlsServer = this.#tlsServer;
    const serverClosed = Promise.all(
      [server, tlsServer].map((s) => (s ? new Promise<void>((resolve) => s.close(() => resolve())) : undefined)),
    );
    // CONNECTs still being authenticated are dropped, not waited for: a queue of guesses must
    // not hold the shutdown (their scrypt has not started; the few running finish on their own).
    for (const c of this.#authenticating) c.abort();
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
    // The PUBACKs of those handlers are written but not yet sent: mqtt-packet corks the socket
    // and uncorks on the next tick, and aedes closes a client with `conn.destroy()`, which
    // discards buffered writes. Let them reach the kernel first.
    await new Promise((resolve) => setImmediate(resolve));
    await Promise.all([...this.#sockets].map((s) => flushed(s, 1000)));
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    // Connections that never completed CONNECT are not aedes clients: close them here.
    for (const socket of this.#sockets) socket.destroy();
    await serverClosed;
    this.#failureLog.stop();
    this.#aedes = undefined;
    this.#server = undefined;
    this.#tlsServer = undefined;
    this.#handler = undefined;
    this.#log.info('embedded MQTT broker stopped');
  }

  async #authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<GatewayIdentity> {
    const conn = client.conn as Socket;
    const remote = conn.remoteAddress ?? 'unknown';
    // Refused before anything else costs: an address that has failed too often.
    if (!this.#byAddress.allows(remote)) {
      throw new AuthFailure(
        'rate_limited_address',
        CONNACK.SERVER_UNAVAILABLE,
        'too many failed CONNECTs from this address; try again later',
      );
    }
    if (!username || !password || password.length === 0) {
      this.#byAddress.begin(remote);
      this.#byAddress.end(remote, 'failed');
      throw new AuthFailure('missing_credentials', CONNACK.BAD_USERNAME_OR_PASSWORD, 'username and password required');
    }
    // A gateway's client id is its id, so one gateway cannot take over (or plant) another's
    // session; any other id is rejected with 0x02 Identifier rejected [MQTT-3.1.3-8].
    if (client.id !== username) {
      this.#byAddress.begin(remote);
      this.#byAddress.end(remote, 'failed');
      throw new AuthFailure('client_id_mismatch', CONNACK.IDENTIFIER_REJECTED, 'client id must equal the username');
    }
    // Gateway ids are at most 64 characters (protocol SegmentId): a longer username is nobody's,
    // and must not become a key of the per-gateway limiter.
    if (username.length > 64) {
      this.#byAddress.begin(remote);
      this.#byAddress.end(remote, 'failed');
      throw new AuthFailure('unknown_gateway', CONNACK.BAD_USERNAME_OR_PASSWORD, 'bad username or password');
    }
    const gatewayLimited = !this.#byGateway.allows(username);
    const controller = new AbortController();
    const abandon = () => controller.abort();
    conn.once('close', abandon);
    this.#authenticating.add(controller);
    this.#byAddress.begin(remote);
    this.#byGateway.begin(username);
    let outcome: AttemptOutcome = 'failed';
    try {
      // The client may have gone while its CONNECT waited to be read.
      if (conn.destroyed || this.#stopping) controller.abort();
      let identity: GatewayIdentity | null;
      try {
        identity = await this.#o.directory.verifyGateway(username, password.toString('utf8'), {
          signal: controller.signal,
          cachedOnly: gatewayLimited,
        });
      } catch (err) {
        if (controller.signal.aborted) {
          outcome = 'abandoned';
          throw new AuthFailure('abandoned', CONNACK.SERVER_UNAVAILABLE, 'connection closed before verification');
        }
        if (hasStoreCode(err, StoreErrorCode.BUSY)) {
          outcome = 'abandoned';
          throw new AuthFailure(
            'busy',
            CONNACK.SERVER_UNAVAILABLE,
            'too many CONNECTs being verified; try again later',
          );
        }
        throw err;
      }
      if (!identity && gatewayLimited) {
        throw new AuthFailure(
          'rate_limited_gateway',
          CONNACK.SERVER_UNAVAILABLE,
          'too many failed CONNECTs for this gateway; try again later',
        );
      }
      if (!identity) {
        // Only for the metric and the log: the CONNACK says the same for all three.
        const known = await this.#o.directory.getGateway(username);
        const reason: AuthFailureReason = !known ? 'unknown_gateway' : !known.enabled ? 'disabled' : 'bad_secret';
        throw new AuthFailure(reason, CONNACK.BAD_USERNAME_OR_PASSWORD, 'bad username or password');
      }
      if (identity.id !== username || !identity.enabled) {
        throw new AuthFailure('disabled', CONNACK.NOT_AUTHORIZED, 'not authorized');
      }
      const will = this.#wills.get(client);
      if (will) {
        // Refuse a will the ACL would refuse later anyway, while we can still say so in the CONNACK.
        const acl = mayPublish(identity, will.topic);
        if (!acl.allowed) throw new AuthFailure('bad_will', CONNACK.NOT_AUTHORIZED, `last will refused: ${acl.detail}`);
      }
      outcome = 'succeeded';
      return identity;
    } catch (err) {
      // The directory failing is the county's fault, not a guess by the client.
      if (!(err instanceof AuthFailure)) outcome = 'abandoned';
      throw err;
    } finally {
      conn.off('close', abandon);
      this.#authenticating.delete(controller);
      this.#byAddress.end(remote, outcome);
      this.#byGateway.end(username, outcome);
    }
  }

  #authorizePublish(client: Client | null, packet: PublishPacket, callback: (error?: Error | null) => void): void {
    const metrics = this.#metrics;
    const handler = this.#handler;
    if (!metrics || !handler) {
      callback(new Error('broker not started'));
      return;
    }
    const refuse = (reason: string, detail: string, level: 'warn' | 'info' = 'warn') => {
      metrics.publishDenied.inc({ reason });
      this.#log[level]({ gateway: client?.id, topic: clip(packet.topic), reason }, `PUBLISH refused: ${detail}`);
      callback(new Error(`PUBLISH refused (${reason}): ${detail}`));
    };
    if (client === null) {
      // A will left in persistence by another broker instance (aedes' `_clearWills`). With the
      // in-memory persistence of a single node there are none; without the client there is no
      // authenticated identity to check it against, so it is not delivered.
      refuse('no_client', 'will of a client of another broker instance');
      return;
    }
    // aedes authorizes a will from Client.close(), i.e. after it has marked the client closed.
    const isWill = client.closed;
    if (this.#stopping) {
      refuse('stopping', isWill ? 'last will during broker shutdown' : 'broker shutting down', 'info');
      return;
    }
    const identity = this.#identities.get(client);
    if (!identity) {
      refuse('not_authenticated', 'no identity for this client');
      return;
    }
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload, 'utf8') : packet.payload;
    const max = this.#o.maxPayloadBytes ?? 4 * MAX_PAYLOAD_BYTES;
    if (payload.length > max) {
      refuse('too_large', `payload of ${payload.length} bytes exceeds ${max}`);
      return;
    }
    const acl = mayPublish(identity, packet.topic);
    if (!acl.allowed) {
      refuse(acl.reason, acl.detail);
      return;
    }
    const msg: InboundMessage = {
      topic: packet.topic,
      payload,
      qos: packet.qos,
      retain: packet.retain,
      clientId: client.id,
    };
    // Through a promise chain so that a handler that throws synchronously is a rejection too.
    const delivery = Promise.resolve()
      .then(() => handler(msg))
      .then(
        () => {
          metrics.delivered.inc({ source: 'embedded', outcome: 'accepted' });
          callback(null);
        },
        (err: unknown) => {
          metrics.delivered.inc({ source: 'embedded', outcome: 'failed' });
          this.#log.error(
            { err, gateway: client.id, topic: packet.topic, will: isWill },
            isWill
              ? 'pipeline failed on a last will: the will is lost'
              : 'pipeline failed: closing the connection without PUBACK so the gateway redelivers',
          );
          callback(err instanceof Error ? err : new Error(String(err)));
        },
      )
      .catch((err: unknown) => this.#log.error({ err, gateway: client.id }, 'aedes publish callback threw'))
      .finally(() => this.#inflight.delete(delivery));
    this.#inflight.add(delivery);
  }

  #authorizeSubscribe(client: Client, sub: Subscription): Subscription | null {
    const identity = this.#identities.get(client);
    const acl = identity
      ? maySubscribe(identity, sub.topic)
      : ({ allowed: false, reason: 'not_authenticated', detail: 'no identity for this client' } as const);
    if (acl.allowed) return sub;
    this.#metrics?.subscribeDenied.inc({ reason: acl.reason });
    this.#log.warn(
      { gateway: client.id, filter: clip(sub.topic), reason: acl.reason },
      `SUBSCRIBE refused: ${acl.detail}`,
    );
    // null → SUBACK 0x80 for this filter, connection kept (docs/Aedes.md "Handler: authorizeSubscribe").
    return null;
  }
}
