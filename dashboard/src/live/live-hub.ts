import type { IngestEvent, MediaStoredMessage } from '@anlian/protocol';
import type { Logger } from 'pino';
import type { Server, Socket } from 'socket.io';
import { mediaUrl, type SnapshotNotice } from '../alerts/alert-snapshot.js';
import type { AlertChange, AlertsPort } from '../alerts/alerts-port.js';
import { canSeeInstitution, type Principal } from '../auth/principal.js';
import { DashboardErrorCode } from '../errors.js';
import { startOfDay } from '../time/start-of-day.js';
import type { CountyLiveModel } from './county-live-model.js';
import type { InstitutionLive } from './institution-status.js';
import type { CountyDelta, DeviceLive, InstitutionDelta, SnapshotAnswer, TickerItem } from './live-wire.js';
import { SubscribeRequest } from './live-wire.js';
import { joinPrincipalRooms } from './principal-rooms.js';

export interface LiveHubOptions {
  io: Server;
  model: CountyLiveModel;
  alerts: AlertsPort;
  /** Ingest's events: `(listener) => unsubscribe`. */
  subscribeIngest: (listener: (event: IngestEvent) => void) => () => void;
  /**
   * Pictures stored by an ingest of another process (the production form's county bus,
   * `MediaBus.onStored`): `(listener) => unsubscribe`. In the all-in-one they come with ingest's
   * events instead.
   */
  subscribeMedia?: (listener: (stored: MediaStoredMessage) => void) => () => void;
  /** Who a connecting socket is; undefined refuses it. */
  authenticate: (socket: Socket) => Promise<Principal | undefined>;
  logger: Logger;
  clock?: () => number;
  /** Device values and ticker items are batched for this long. */
  flushMs?: number;
  /** Headline figures and panels are recomputed this often. */
  statsMs?: number;
}

/**
 * socket.io rooms per county and per institution, with snapshot-then-deltas: a client asks for a
 * room (`subscribe`), the answer is the room's snapshot and sequence number, and every later
 * change in the room is a `delta` numbered one higher. socket.io's connection state recovery
 * replays deltas missed during a short disconnection; after a longer one the client asks again
 * and gets a fresh snapshot, so a reconnecting wall screen is never stale.
 */
export class LiveHub {
  readonly #o: LiveHubOptions;
  readonly #log: Logger;
  readonly #clock: () => number;
  readonly #seq = new Map<string, number>();
  readonly #lastInstitution = new Map<string, string>();
  readonly #dirtyDevices = new Map<string, Set<string>>();
  readonly #pendingTicker = new Map<string, TickerItem[]>();
  readonly #lastStats = new Map<string, string>();
  readonly #unsubscribe: (() => void)[] = [];
  readonly #timers: NodeJS.Timeout[] = [];
  #summaryTimer: NodeJS.Timeout | undefined;

  constructor(opts: LiveHubOptions) {
    this.#o = opts;
    this.#log = opts.logger.child({ module: 'live-hub' });
    this.#clock = opts.clock ?? Date.now;
  }

  async start(): Promise<void> {
    const { io, alerts, model } = this.#o;
    model.loadAlerts(await alerts.openAlerts());
    await this.#refreshSummaries();
    for (const id of this.#allInstitutions()) this.#lastInstitution.set(id, JSON.stringify(model.institutionLive(id)));

    io.use((socket, next) => {
      this.#o.authenticate(socket).then(
        (p) => {
          if (!p) return next(new Error(DashboardErrorCode.UNAUTHENTICATED));
          socket.data.principal = p;
          next();
        },
        (err: unknown) => {
          this.#log.warn({ err }, 'socket authentication failed');
          next(new Error(DashboardErrorCode.UNAUTHENTICATED));
        },
      );
    });
    io.on('connection', (socket) => this.#onConnection(socket));

    this.#unsubscribe.push(alerts.onChange((c) => this.#safely('alert change', () => this.#onAlert(c))));
    this.#unsubscribe.push(this.#o.subscribeIngest((e) => this.#safely('ingest event', () => this.#onIngest(e))));
    if (this.#o.subscribeMedia) {
      this.#unsubscribe.push(this.#o.subscribeMedia((m) => this.#safely('stored picture', () => this.#onSnapshot(m))));
    }
    const flush = setInterval(() => this.#safely('flush', () => this.#flush()), this.#o.flushMs ?? 1000);
    const stats = setInterval(() => this.#safely('stats', () => this.#emitStats(0)), this.#o.statsMs ?? 5000);
    const summaries = setInterval(() => this.#scheduleSummary(), 60_000);
    this.#timers.push(flush, stats, summaries);
  }

  async stop(): Promise<void> {
    for (const u of this.#unsubscribe.splice(0)) u();
    for (const t of this.#timers.splice(0)) clearInterval(t);
    if (this.#summaryTimer) clearTimeout(this.#summaryTimer);
    this.#summaryTimer = undefined;
  }

  /** The room's current sequence number (tests, diagnostics). */
  seq(room: string): number {
    return this.#seq.get(room) ?? 0;
  }

  #onConnection(socket: Socket): void {
    const p = socket.data.principal as Principal;
    // So that signing out, a password change or a revoked kiosk token can end it at once.
    joinPrincipalRooms(socket, p);
    socket.on('subscribe', (raw: unknown, ack: unknown) => {
      if (typeof ack !== 'function') return;
      const answer = this.#safelyAnswer(() => this.#subscribe(socket, p, raw));
      (ack as (a: SnapshotAnswer) => void)(answer);
    });
    socket.on('unsubscribe', (raw: unknown) => {
      const parsed = SubscribeRequest.safeParse(raw);
      if (parsed.success) void socket.leave(parsed.data.room);
    });
  }

  /** Joins the room and builds its snapshot in the same tick: no delta can fall between them. */
  #subscribe(socket: Socket, p: Principal, raw: unknown): SnapshotAnswer {
    const parsed = SubscribeRequest.safeParse(raw);
    if (!parsed.success)
      return {
        ok: false,
        code: DashboardErrorCode.BAD_REQUEST,
        message: 'room must be county:<id> or institution:<id>',
      };
    const { room } = parsed.data;
    const [kind, id = ''] = room.split(':') as ['county' | 'institution', string];
    const { model } = this.#o;
    if (kind === 'county') {
      if (p.role === 'institution_manager' || id !== p.county) return forbidden(room);
      if (!model.hasCounty(id)) return { ok: false, code: DashboardErrorCode.NOT_FOUND, message: `no county ${id}` };
      void socket.join(room);
      return { ok: true, room, seq: this.seq(room), snapshot: model.countySnapshot(id) };
    }
    if (model.countyOf(id) !== p.county || !canSeeInstitution(p, id)) return forbidden(room);
    const snapshot = model.institutionSnapshot(id);
    if (!snapshot) return { ok: false, code: DashboardErrorCode.NOT_FOUND, message: `no institution ${id}` };
    void socket.join(room);
    return { ok: true, room, seq: this.seq(room), snapshot };
  }

  #emit(room: string, delta: CountyDelta | InstitutionDelta): void {
    const seq = (this.#seq.get(room) ?? 0) + 1;
    this.#seq.set(room, seq);
    // To this node's clients only: every dashboard node hears every message and every alert
    // change itself (its own broker subscription) and numbers its rooms' deltas itself, so a
    // delta sent through the cross-node adapter would reach other nodes' clients twice, out of
    // their sequence. The adapter carries what one node does to another's clients.
    this.#o.io.local.to(room).emit('delta', { ...delta, room, seq });
  }

  /**
   * Reloads the open alerts from alerting and sends every room's clients what changed: after
   * the link that carries alert changes was down (a broker outage), changes may have been missed.
   */
  async reloadAlerts(): Promise<void> {
    try {
      const { model } = this.#o;
      const before = new Map(model.openAlerts().map((a) => [a.id, a]));
      const now = await this.#o.alerts.openAlerts();
      const seen = new Set<string>();
      for (const a of now) {
        seen.add(a.id);
        const was = before.get(a.id);
        if (!was || JSON.stringify(was) !== JSON.stringify(a))
          this.#onAlert({ type: was ? 'updated' : 'raised', alert: a });
      }
      for (const [id, a] of before) {
        if (!seen.has(id)) this.#onAlert({ type: 'cleared', alert: a });
      }
      this.#log.info({ open: now.length }, 'open alerts reloaded from alerting');
    } catch (err) {
      this.#log.warn({ err }, 'could not reload open alerts from alerting; keeping what this node has');
    }
  }

  #onAlert(change: AlertChange): void {
    const { model } = this.#o;
    const a = change.alert;
    const item = model.applyAlert(change);
    const countyRoom = `county:${a.county}`;
    const instRoom = `institution:${a.institution}`;
    // Alarms go out at once, ahead of any batching (GB 26875.1: the alarm path comes first).
    this.#emit(countyRoom, { type: 'alert', data: { change: change.type, alert: a } });
    this.#emit(instRoom, { type: 'alert', data: { change: change.type, alert: a } });
    this.#institutionChanged(a.institution);
    if (change.type !== 'updated' || a.status !== 'open') this.#queueTicker(a.county, item);
    if (a.device) this.#markDirty(a.institution, `${a.gateway}/${a.device}`);
    this.#scheduleSummary();
  }

  #onIngest(e: IngestEvent): void {
    const { model } = this.#o;
    if (e.type === 'snapshot') {
      const { width, height } = e.payload;
      this.#onSnapshot({
        key: e.media,
        county: e.county,
        institution: e.institution,
        gateway: e.gateway,
        device: e.device,
        cause: e.payload.cause,
        shot: e.payload.shot,
        ts: e.payload.ts,
        ...(width ? { width } : {}),
        ...(height ? { height } : {}),
      });
      return;
    }
    if (e.type === 'telemetry' || e.type === 'event') {
      // A simulation run's readings are not live (design.md, Simulated time): not on the screens.
      if (e.payload.simRun !== undefined) return;
      if (e.confirmed) this.#markDirty(e.institution, `${e.gateway}/${e.device}`);
      if (e.type === 'event') {
        const item = model.tickerFor(e);
        if (item) this.#queueTicker(e.county, item);
      }
      return;
    }
    if (e.type === 'status') {
      const item = model.tickerFor(e);
      if (item) this.#queueTicker(e.county, item);
      this.#emit(`institution:${e.institution}`, { type: 'gateway', data: model.gatewayLive(e.gateway) });
      this.#institutionChanged(e.institution);
    }
  }

  /**
   * Video review (视频复核): a stored picture pushed at once, like the alarm it documents — heard
   * from ingest in-process (all-in-one) or on the county bus (production form), the same notice
   * either way. The picture itself is fetched by the client over HTTP (authorised per
   * institution); only the notice travels here.
   */
  #onSnapshot(
    s: Pick<
      MediaStoredMessage,
      'key' | 'county' | 'institution' | 'gateway' | 'device' | 'cause' | 'shot' | 'ts' | 'width' | 'height'
    >,
  ): void {
    const cameraName = this.#o.model.deviceName(s.gateway, s.device);
    const notice: SnapshotNotice = {
      institution: s.institution,
      detector: s.cause.device,
      causeTs: s.cause.ts,
      camera: s.device,
      ...(cameraName ? { cameraName } : {}),
      shot: s.shot,
      ts: s.ts,
      ...(s.width ? { width: s.width } : {}),
      ...(s.height ? { height: s.height } : {}),
      url: mediaUrl(s.key),
    };
    this.#emit(`county:${s.county}`, { type: 'snapshot', data: notice });
    this.#emit(`institution:${s.institution}`, { type: 'snapshot', data: notice });
  }

  #institutionChanged(id: string): void {
    const live: InstitutionLive = this.#o.model.institutionLive(id);
    const json = JSON.stringify(live);
    if (this.#lastInstitution.get(id) === json) return;
    this.#lastInstitution.set(id, json);
    const county = this.#o.model.countyOf(id);
    if (county) this.#emit(`county:${county}`, { type: 'institution', data: live });
    this.#emit(`institution:${id}`, { type: 'institution', data: live });
  }

  #markDirty(institution: string, key: string): void {
    let set = this.#dirtyDevices.get(institution);
    if (!set) {
      set = new Set();
      this.#dirtyDevices.set(institution, set);
    }
    set.add(key);
  }

  #queueTicker(county: string, item: TickerItem): void {
    let list = this.#pendingTicker.get(county);
    if (!list) {
      list = [];
      this.#pendingTicker.set(county, list);
    }
    list.push(item);
  }

  #flush(): void {
    const rooms = this.#o.io.sockets.adapter.rooms;
    for (const [institution, keys] of this.#dirtyDevices) {
      const room = `institution:${institution}`;
      // Nobody watches: the next subscriber gets a snapshot with these values anyway.
      if ((rooms.get(room)?.size ?? 0) === 0) continue;
      const devices: DeviceLive[] = [];
      for (const k of keys) {
        const d = this.#o.model.deviceLive(k);
        if (d) devices.push(d);
      }
      if (devices.length > 0) this.#emit(room, { type: 'devices', data: devices });
    }
    this.#dirtyDevices.clear();
    for (const [county, items] of this.#pendingTicker) {
      if (items.length > 0) this.#emit(`county:${county}`, { type: 'ticker', data: items.reverse() });
    }
    this.#pendingTicker.clear();
  }

  /** `walkAgeMs`: how old a device walk may be reused (0: walk afresh). */
  #emitStats(walkAgeMs: number): void {
    const { model } = this.#o;
    for (const county of this.#counties()) {
      const room = `county:${county}`;
      const data = model.figures(county, walkAgeMs);
      const json = JSON.stringify(data);
      if (this.#lastStats.get(county) === json) continue;
      this.#lastStats.set(county, json);
      this.#emit(room, { type: 'stats', data });
    }
    // Status can change without an event: a gateway's state ages, a registry reload adds institutions.
    for (const id of this.#allInstitutions()) this.#institutionChanged(id);
  }

  /** Alert figures come from the port (async): refreshed shortly after changes, batched. */
  #scheduleSummary(): void {
    if (this.#summaryTimer) return;
    this.#summaryTimer = setTimeout(() => {
      this.#summaryTimer = undefined;
      this.#refreshSummaries().then(
        () => this.#emitStats(Number.POSITIVE_INFINITY),
        (err: unknown) => this.#log.warn({ err }, 'alert summary failed'),
      );
    }, 250);
  }

  async #refreshSummaries(): Promise<void> {
    const now = this.#clock();
    for (const county of this.#counties()) {
      const since = startOfDay(now, this.#o.model.countyTimezone(county));
      this.#o.model.setSummary(county, await this.#o.alerts.summary(county, since));
    }
  }

  #counties(): string[] {
    const out = new Set<string>();
    for (const id of this.#allInstitutions()) {
      const c = this.#o.model.countyOf(id);
      if (c) out.add(c);
    }
    return [...out];
  }

  #allInstitutions(): string[] {
    return this.#o.model.allInstitutionIds();
  }

  #safely(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      // One bad update must not stop the live feed (CONVENTIONS.md §6).
      this.#log.error({ err, what }, 'live update failed');
    }
  }

  #safelyAnswer(fn: () => SnapshotAnswer): SnapshotAnswer {
    try {
      return fn();
    } catch (err) {
      this.#log.error({ err }, 'snapshot failed');
      return { ok: false, code: 'ANL_DASH_INTERNAL', message: 'snapshot failed' };
    }
  }
}

function forbidden(room: string): SnapshotAnswer {
  return { ok: false, code: DashboardErrorCode.FORBIDDEN, message: `not allowed to watch ${room}` };
}
