import { LatestStateCache } from '@anlian/bus';
import type { SequenceWindow } from '@anlian/protocol';
import { type DeviceKind, decodeMessage, isFireAlarm, primeDecoders, type SnapshotPayload } from '@anlian/protocol';
import type { Logger } from '@anlian/runtime';
import { hasCode } from '@anlian/runtime';
import type { LineStore } from '@anlian/timeseries';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { InboundMessage } from '../broker/message-source.js';
import type { IngestEvent, IngestEventListener } from './ingest-event.js';
import { eventLine, heartbeatLine, type PointContext, statusLine, statusTime, telemetryLine } from './line-protocol.js';
import type { RegistryCache } from './registry-cache.js';

/** One store write: every message in it shares its one promise (no promise per message). */
interface PendingBatch {
  lines: string[];
  /** Gateway and sequence number of each line, for a redelivery that arrives before the write ends. */
  gateways: string[];
  seqs: number[];
  done: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}
type PendingGroup = Record<'event' | 'telemetry', PendingBatch>;

function pendingBatch(): PendingBatch {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Nobody may be waiting on a batch's promise any more when it fails (a redelivery's `.catch`
  // is attached per message): handled here so that it is never an unhandled rejection.
  done.catch(() => {});
  return { lines: [], gateways: [], seqs: [], done, resolve, reject };
}

/** Why a message was refused, the `reason` label of `anlian_ingest_rejected_total`. */
export type IngestRejectReason =
  | 'bad_topic'
  | 'too_large'
  | 'bad_utf8'
  | 'bad_json'
  | 'bad_schema'
  | 'unknown_gateway'
  | 'gateway_mismatch'
  | 'client_mismatch'
  | 'kind_mismatch'
  | 'spool_full'
  /** A simulation run's message (protocol `simRun`) where the county refuses them (`ANLIAN_SIM_RUNS=refuse`). */
  | 'sim_run'
  /** A snapshot where the county has no media store. */
  | 'no_media_store';

/** The `sim_run` tag of points from an unmarked gateway dated too far ahead of the county's clock. */
export const CLOCK_AHEAD_RUN = 'clock-ahead';

/** Where video-review snapshots go (the county's media store); resolves with the picture's key once durable. */
export interface SnapshotSink {
  put(
    meta: {
      county: string;
      institution: string;
      gateway: string;
      device: string;
      payload: Omit<SnapshotPayload, 'data'>;
    },
    jpeg: Buffer,
  ): Promise<string>;
}

export interface IngestPipelineOptions {
  registry: RegistryCache;
  store: LineStore;
  cache: LatestStateCache;
  window: SequenceWindow;
  logger: Logger;
  metrics: Registry;
  /**
   * Retention policy for device events and gateway status changes: the original records of
   * abnormal events are kept ≥ 1 year (seed 001; ARCHITECTURE.md Storage). Unset: the default policy.
   */
  eventRetentionPolicy?: string;
  /** Rejection log lines per reason per 10 s before they are summarised. */
  rejectLogBurst?: number;
  /**
   * Simulated time (design.md; issue 13). `runs`: a simulation run's messages (`simRun`) are kept
   * apart — stored with the InfluxDB tag `sim_run`, left out of the latest state — or refused
   * (acknowledged, counted as `sim_run`). `maxClockAheadMs`: an unmarked point dated further ahead
   * of the county's clock is stored apart too (tag `sim_run` = `clock-ahead`), and still goes to the
   * alarm path and the latest state at its arrival. Default: keep, 300 s.
   */
  simulation?: { runs: 'keep' | 'refuse'; maxClockAheadMs: number };
  /** The media store for video-review snapshots; without one they are refused (`no_media_store`). */
  snapshots?: SnapshotSink;
  now?: () => number;
}

/**
 * Turns broker messages into stored points, latest state and events:
 * decode → authorise against the registry → drop QoS 1 duplicates → emit → store durably.
 *
 * `handle` resolves when the message is durably stored or deliberately refused; the broker
 * acknowledges (PUBACK) only then. It rejects only when storage failed, so that the publisher
 * redelivers.
 */
export type { LineStore };

export class IngestPipeline {
  readonly #o: IngestPipelineOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #listeners = new Set<IngestEventListener>();
  readonly #accepted: Counter<'type'>;
  /** `#accepted` per type, bound once: `inc({ type })` hashes its labels object on every call. */
  readonly #acceptedBy = new Map<string, { inc(): void }>();
  readonly #rejected: Counter<'reason'>;
  readonly #duplicates: Counter;
  readonly #outOfWindow: Counter;
  readonly #unconfirmed: Counter;
  readonly #listenerErrors: Counter;
  readonly #storeSeconds: Histogram;
  readonly #keptApart: Counter<'reason'>;
  readonly #lag: Histogram<'type'>;
  /** `#lag` per type, bound once. */
  readonly #lagBy = new Map<string, { observe(v: number): void }>();
  readonly #rejectLog = new Map<string, { windowStart: number; logged: number; suppressed: number }>();
  #group: PendingGroup | undefined;
  /**
   * Spool writes under way (and the batch being gathered), for redeliveries that arrive meanwhile.
   * Searched only on a duplicate, which is rare: no per-message key or map entry.
   */
  readonly #inflight = new Set<PendingBatch>();

  constructor(opts: IngestPipelineOptions) {
    this.#o = opts;
    // Before the first message: the first fire alarm does not wait for zod to compile (issue 12).
    primeDecoders();
    this.#log = opts.logger.child({ module: 'pipeline' });
    this.#now = opts.now ?? Date.now;
    const registers = [opts.metrics];
    this.#accepted = new Counter({
      name: 'anlian_ingest_messages_total',
      help: 'Messages accepted, by topic type',
      labelNames: ['type'],
      registers,
    });
    this.#rejected = new Counter({
      name: 'anlian_ingest_rejected_total',
      help: 'Messages refused, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.#duplicates = new Counter({
      name: 'anlian_ingest_duplicates_total',
      help: 'QoS 1 redeliveries dropped by sequence number',
      registers,
    });
    this.#outOfWindow = new Counter({
      name: 'anlian_ingest_sequence_out_of_window_total',
      help: 'Messages accepted whose sequence number was too far behind to check for duplicates',
      registers,
    });
    this.#unconfirmed = new Counter({
      name: 'anlian_ingest_unconfirmed_device_messages_total',
      help: 'Messages from devices not in the registry (stored and recorded as unconfirmed)',
      registers,
    });
    this.#listenerErrors = new Counter({
      name: 'anlian_ingest_listener_errors_total',
      help: 'Errors thrown by event listeners (alerting, dashboard)',
      registers,
    });
    this.#keptApart = new Counter({
      name: 'anlian_ingest_kept_apart_total',
      help: 'Messages stored apart from live data (InfluxDB tag sim_run): of a simulation run, or dated too far ahead',
      labelNames: ['reason'],
      registers,
    });
    this.#storeSeconds = new Histogram({
      name: 'anlian_ingest_store_seconds',
      help: 'Time from arrival to durable acceptance in the spool',
      buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.#lag = new Histogram({
      name: 'anlian_ingest_receive_lag_seconds',
      help: 'Device time to county receive time, by topic type (a backlog being replayed, or a skewed device clock)',
      labelNames: ['type'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600],
      registers,
    });
  }

  /** Listens to every accepted message; returns the function that stops listening. */
  onEvent(listener: IngestEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async handle(msg: InboundMessage): Promise<void> {
    const receivedAt = this.#now();
    const decoded = decodeMessage(msg.topic, msg.payload);
    if (!decoded.ok) return this.#reject(decoded.reason, msg.topic, decoded.detail);
    const m = decoded.message;
    const { topic } = m;
    // Commands are ours, on their way to a gateway; nothing to ingest.
    if (m.type === 'command') return;

    const gw = this.#o.registry.gateway(topic.gateway);
    if (!gw?.enabled) {
      return this.#reject('unknown_gateway', msg.topic, `gateway ${topic.gateway} is not registered or is disabled`);
    }
    if (gw.county !== topic.county || gw.institution !== topic.institution) {
      return this.#reject(
        'gateway_mismatch',
        msg.topic,
        `gateway ${gw.id} belongs to ${gw.county}/${gw.institution}, not ${topic.county}/${topic.institution}`,
      );
    }
    if (msg.clientId !== undefined && msg.clientId !== topic.gateway) {
      return this.#reject('client_mismatch', msg.topic, `client ${msg.clientId} published as ${topic.gateway}`);
    }
    const county = topic.county;
    const institution = topic.institution;
    const gateway = topic.gateway;

    // Simulated time (design.md): a simulation run never enters a county's live history.
    const simulation = this.#o.simulation ?? { runs: 'keep', maxClockAheadMs: 300_000 };
    const simRun = m.payload.simRun;
    if (simRun !== undefined && simulation.runs === 'refuse') {
      return this.#reject('sim_run', msg.topic, `simulation run ${simRun}: this county takes no simulated data`);
    }
    // A gateway replaying hours of queued messages after an outage sends old times: real history,
    // stored as it is. A time far *ahead* of the county's clock is a device clock that is wrong, or
    // an accelerated simulator that does not say so: stored apart, so charts never join it to live data.
    let apart = simRun;
    if (apart === undefined && m.payload.ts - receivedAt > simulation.maxClockAheadMs) {
      apart = CLOCK_AHEAD_RUN;
      this.#logLimited(
        'clock_ahead',
        { topic: msg.topic, aheadS: Math.round((m.payload.ts - receivedAt) / 1000) },
        'point dated ahead of the county clock: stored apart (sim_run=clock-ahead)',
      );
    }
    if (apart !== undefined) this.#keptApart.inc({ reason: simRun === undefined ? 'clock_ahead' : 'sim_run' });
    // Values and times of a simulation run are not the device's latest state; its gateway being
    // connected is (it reached the broker now), so gateway presence is kept, at the arrival time.
    const live = simRun === undefined;

    // Status documents are idempotent and not deduplicated; `online` may announce a restarted counter.
    if (m.type === 'status') {
      if (m.payload.state === 'online' && this.#o.window.restart(topic.gateway, m.payload.seq)) {
        this.#log.warn({ gateway: topic.gateway, seq: m.payload.seq }, 'gateway sequence restarted');
      }
    } else {
      const seen = this.#o.window.check(topic.gateway, m.payload.seq);
      if (seen === 'duplicate') {
        this.#duplicates.inc();
        // A redelivery that overtakes its original's spool write must not be acknowledged before
        // it: if that write fails, the original is not acknowledged either, and the copy is all
        // the publisher would otherwise have resent.
        return this.#pendingWrite(topic.gateway, m.payload.seq)?.catch((err: unknown) => {
          // The original was refused (and acknowledged) for a full spool: so is the copy.
          if (!hasCode(err, 'ANL_ERR_SPOOL_FULL')) throw err;
        });
      }
      if (seen === 'out-of-window') this.#outOfWindow.inc();
    }

    if (m.type === 'snapshot')
      return this.#snapshot(m.payload, { county, institution, gateway, device: m.topic.device }, receivedAt, msg.topic);

    let event: IngestEvent;
    let line: string | undefined;
    let priority: 'event' | 'telemetry' = 'telemetry';
    switch (m.type) {
      case 'telemetry':
      case 'event': {
        const device = m.topic.device;
        // One key for the registry and the latest-state cache (its hash is computed once).
        const key = LatestStateCache.key(topic.gateway, device);
        const known = this.#o.registry.deviceByKey(key);
        if (known && known.kind !== m.payload.kind) {
          this.#o.window.forget(topic.gateway, m.payload.seq);
          return this.#reject(
            'kind_mismatch',
            msg.topic,
            `device ${device} is registered as ${known.kind}, not ${m.payload.kind}`,
          );
        }
        const confirmed = known !== undefined;
        if (!confirmed) {
          this.#unconfirmed.inc();
          this.#o.registry.sighted({
            gatewayId: topic.gateway,
            deviceId: device,
            kind: m.payload.kind,
            seenAt: receivedAt,
          });
        }
        // Once per message: one plain literal, both the point context and the cache's device id.
        const ctx: PointContext & { device: string; kind: DeviceKind } = {
          county,
          institution,
          gateway,
          device,
          kind: m.payload.kind,
          confirmed,
          receivedAt,
          simRun: apart,
        };
        const id = ctx;
        if (m.type === 'telemetry') {
          const t = m.payload;
          line = telemetryLine(ctx, device, t);
          if (live) this.#o.cache.updateTelemetry(id, t.ts, receivedAt, t, key);
          event = { type: 'telemetry', county, institution, gateway, device, confirmed, receivedAt, payload: t };
        } else {
          const e = m.payload;
          line = eventLine(ctx, device, e);
          priority = 'event';
          if (live)
            this.#o.cache.updateEvent(
              id,
              {
                event: e.event,
                ts: e.ts,
                ...(e.zone ? { zone: e.zone } : {}),
                ...(e.detail ? { detail: e.detail } : {}),
              },
              receivedAt,
            );
          event = { type: 'event', county, institution, gateway, device, confirmed, receivedAt, payload: e };
          if (isFireAlarm(e)) {
            this.#log.warn({ county, institution, gateway, device, zone: e.zone, seq: e.seq }, 'fire alarm received');
          }
        }
        break;
      }
      case 'status': {
        const s = m.payload;
        const ctx = { county, institution, gateway, receivedAt, confirmed: true, simRun: apart };
        line = statusLine(ctx, s);
        priority = 'event';
        this.#o.cache.updateGateway({
          county,
          institution,
          gateway,
          state: s.state,
          since: live ? statusTime(ctx, s) : receivedAt,
          receivedAt,
        });
        event = { type: 'status', county, institution, gateway, receivedAt, payload: s };
        break;
      }
      case 'heartbeat': {
        const h = m.payload;
        line = heartbeatLine({ county, institution, gateway, receivedAt, confirmed: true, simRun: apart }, h);
        this.#o.cache.updateHeartbeat(
          { county, institution, gateway },
          {
            ts: live ? h.ts : receivedAt,
            uptimeS: h.uptimeS,
            queueDepth: h.queueDepth,
            adaptersOk: h.adapters.filter((a) => a.ok).length,
            adaptersTotal: h.adapters.length,
          },
          receivedAt,
        );
        event = { type: 'heartbeat', county, institution, gateway, receivedAt, payload: h };
        break;
      }
      case 'command-reply':
        event = {
          type: 'command-reply',
          county,
          institution,
          gateway,
          name: m.topic.name,
          receivedAt,
          payload: m.payload,
        };
        break;
      default: {
        const never: never = m;
        throw new Error(`unhandled topic type ${(never as { type: string }).type}`);
      }
    }

    // The alarm path never waits on the storage path (ARCHITECTURE.md): emit first.
    this.#emit(event);
    let accepted = this.#acceptedBy.get(m.type);
    if (!accepted) {
      accepted = this.#accepted.labels(m.type);
      this.#acceptedBy.set(m.type, accepted);
    }
    accepted.inc();
    if (m.type !== 'status' && m.type !== 'command-reply') {
      let lag = this.#lagBy.get(m.type);
      if (!lag) {
        lag = this.#lag.labels(m.type);
        this.#lagBy.set(m.type, lag);
      }
      lag.observe(Math.max(0, receivedAt - m.payload.ts) / 1000);
    }
    if (line === undefined) return;

    return this.#stored(
      this.#store(line, priority, gateway, m.payload.seq),
      receivedAt,
      gateway,
      m.payload.seq,
      msg.topic,
    );
  }

  /**
   * What happens once the spool has the line. Only scalars wait for it, not the message: at
   * 10,000 msg/s a message waits for its write long enough to survive two scavenges, and a
   * decoded payload, its topic parts and its line kept that long were promoted to the old
   * generation at ~19 MB/s (bench:ingest with a sampling heap profile), most of ingest's heap
   * growth and its major GCs.
   */
  async #stored(stored: Promise<void>, receivedAt: number, gateway: string, seq: number, topic: string): Promise<void> {
    try {
      await stored;
      this.#storeSeconds.observe((this.#now() - receivedAt) / 1000);
    } catch (err) {
      if (hasCode(err, 'ANL_ERR_SPOOL_FULL')) {
        // Refused, loudly: acknowledging keeps the gateway's in-flight window free for fire alarms,
        // which the spool still accepts beyond its bound.
        return this.#reject('spool_full', topic, 'the InfluxDB spool is full; telemetry refused');
      }
      // Not stored: let the publisher redeliver, and do not count the redelivery as a duplicate.
      this.#o.window.forget(gateway, seq);
      throw err;
    }
  }

  /**
   * A video-review snapshot: into the media store, then emitted with its key (alerting attaches it
   * to the fire alert). Acknowledged only once stored, so a failed write is redelivered. Never on
   * the alarm path: the fire event it documents was handled on its own.
   */
  async #snapshot(
    payload: SnapshotPayload,
    at: { county: string; institution: string; gateway: string; device: string },
    receivedAt: number,
    topic: string,
  ): Promise<void> {
    const known = this.#o.registry.deviceByKey(LatestStateCache.key(at.gateway, at.device));
    if (known && known.kind !== 'camera') {
      this.#o.window.forget(at.gateway, payload.seq);
      return this.#reject('kind_mismatch', topic, `device ${at.device} is registered as ${known.kind}, not camera`);
    }
    const store = this.#o.snapshots;
    if (!store) return this.#reject('no_media_store', topic, 'no media store for snapshots is configured');
    const { data, ...meta } = payload;
    const jpeg = Buffer.from(data, 'base64');
    let media: string;
    try {
      media = await store.put({ ...at, payload: meta }, jpeg);
    } catch (err) {
      this.#o.window.forget(at.gateway, payload.seq);
      this.#log.error({ err, topic }, 'snapshot could not be stored');
      throw err;
    }
    this.#emit({
      type: 'snapshot',
      ...at,
      confirmed: known !== undefined,
      receivedAt,
      payload: meta,
      media,
      bytes: jpeg.length,
    });
    this.#accepted.inc({ type: 'snapshot' });
  }

  /** The write under way of the latest line with this gateway and sequence number, if any. */
  #pendingWrite(gateway: string, seq: number): Promise<void> | undefined {
    let found: Promise<void> | undefined;
    for (const batch of this.#inflight) {
      const { gateways, seqs } = batch;
      for (let i = seqs.length - 1; i >= 0; i--) {
        if (seqs[i] === seq && gateways[i] === gateway) {
          found = batch.done;
          break;
        }
      }
    }
    return found;
  }

  #emit(event: IngestEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (err) {
        this.#listenerErrors.inc();
        this.#log.error({ err, type: event.type, gateway: event.gateway }, 'event listener failed');
      }
    }
  }

  /**
   * Group commit: the lines of every message handled in one turn of the event loop go to the
   * store in one write per priority. Events and telemetry are written separately so that a
   * full spool refuses only telemetry.
   */
  #store(line: string, priority: 'event' | 'telemetry', gateway: string, seq: number): Promise<void> {
    if (!this.#group) {
      const group: PendingGroup = { event: pendingBatch(), telemetry: pendingBatch() };
      this.#group = group;
      this.#inflight.add(group.event);
      this.#inflight.add(group.telemetry);
      setImmediate(() => {
        this.#group = undefined;
        this.#commit(group, 'event');
        this.#commit(group, 'telemetry');
      });
    }
    const batch = this.#group[priority];
    batch.lines.push(line);
    batch.gateways.push(gateway);
    batch.seqs.push(seq);
    return batch.done;
  }

  #commit(group: PendingGroup, priority: 'event' | 'telemetry'): void {
    const batch = group[priority];
    if (batch.lines.length === 0) {
      this.#inflight.delete(batch);
      return;
    }
    const rp = priority === 'event' ? this.#o.eventRetentionPolicy : undefined;
    // Out of `#inflight` as the write settles: the waiters' continuations (acknowledgement, or
    // `forget` of a failed sequence number) run in the same microtask checkpoint, before any
    // further message can be handled.
    const { lines } = batch;
    // The store has the lines now (the spool encodes them at once); this batch keeps only what
    // finds a redelivery's original write.
    batch.lines = [];
    this.#o.store.write(lines, { priority, ...(rp ? { retentionPolicy: rp } : {}) }).then(
      () => {
        this.#inflight.delete(batch);
        batch.resolve();
      },
      (err: unknown) => {
        this.#inflight.delete(batch);
        batch.reject(err);
      },
    );
  }

  #reject(reason: IngestRejectReason, topic: string, detail: string): void {
    this.#rejected.inc({ reason });
    this.#logLimited(reason, { topic, reason, detail }, 'message rejected');
  }

  /** A warning per message, up to `rejectLogBurst` per `key` every 10 s; then a count of the rest. */
  #logLimited(key: string, fields: Record<string, unknown>, message: string): void {
    const now = this.#now();
    let state = this.#rejectLog.get(key);
    if (!state || now - state.windowStart >= 10_000) {
      if (state && state.suppressed > 0) {
        this.#log.warn(
          { key, suppressed: state.suppressed },
          `${message}: more not logged individually in the last 10 s`,
        );
      }
      state = { windowStart: now, logged: 0, suppressed: 0 };
      this.#rejectLog.set(key, state);
    }
    if (state.logged < (this.#o.rejectLogBurst ?? 20)) {
      state.logged++;
      this.#log.warn(fields, message);
    } else state.suppressed++;
  }
}
