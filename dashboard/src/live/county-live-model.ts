import type { LatestStateCache } from '@anlian/bus';
import type { IngestEvent, PressureMedium } from '@anlian/protocol';
import { alertLevel } from '../alerts/alert-level.js';
import type { Alert, AlertChange, AlertSummary } from '../alerts/alerts-port.js';
import type { RegistryView } from '../registry/registry-view.js';
import { type DeviceThresholds, electricalReading, pressureOutOfRange } from './device-thresholds.js';
import { type InstitutionLive, institutionLive, isAlarm, isUnacknowledgedFire } from './institution-status.js';
import type {
  CountySnapshot,
  DeviceLive,
  GatewayLive,
  InstitutionSnapshot,
  Panels,
  Stats,
  TickerItem,
} from './live-wire.js';

const TICKER_MAX = 60;
const PANEL_LIST_MAX = 10;

interface DeviceWalk {
  at: number;
  devices: number;
  devicesOnline: number;
  extinguishers: Panels['extinguishers'];
  kitchens: Panels['kitchens'];
  electrical: Panels['electrical'];
  cameras: Panels['cameras'];
}

const EVENT_TEXT: Record<string, { zh: string; en: string }> = {
  fire: { zh: '火警', en: 'fire alarm' },
  supervisory: { zh: '监管报警', en: 'supervisory' },
  disabled: { zh: '屏蔽', en: 'disabled' },
  fault: { zh: '故障', en: 'fault' },
  restore: { zh: '恢复', en: 'restored' },
  test: { zh: '测试', en: 'test' },
  tamper: { zh: '防拆报警', en: 'tamper' },
  low_pressure: { zh: '压力异常', en: 'pressure out of range' },
  moved: { zh: '移位', en: 'moved' },
  overheat: { zh: '高温', en: 'overheat' },
  leakage: { zh: '剩余电流报警', en: 'residual current alarm' },
  offline: { zh: '离线', en: 'offline' },
  gas: { zh: '燃气报警', en: 'gas' },
  signal_loss: { zh: '信号丢失', en: 'signal loss' },
  frozen: { zh: '画面冻结', en: 'frozen picture' },
  black: { zh: '黑屏', en: 'black picture' },
  occlusion: { zh: '遮挡', en: 'occlusion' },
  too_dark: { zh: '画面过暗', en: 'too dark' },
  too_bright: { zh: '画面过亮', en: 'too bright' },
  blurred: { zh: '画面模糊', en: 'blurred picture' },
};

/**
 * The live picture of a county, in memory: open alerts (kept current from the alert port's
 * changes), the latest device and gateway state (ingest's cache), the registry, and a ticker of
 * recent events. Everything a snapshot needs is here, so a snapshot is built synchronously and
 * no delta can slip between it and its sequence number.
 */
export class CountyLiveModel {
  readonly #registry: RegistryView;
  readonly #cache: LatestStateCache;
  readonly #t: DeviceThresholds;
  readonly #clock: () => number;
  /** Alerts that are not closed, by id. */
  readonly #open = new Map<string, Alert>();
  readonly #ticker: TickerItem[] = [];
  readonly #summaries = new Map<string, AlertSummary>();
  readonly #walks = new Map<string, DeviceWalk>();

  constructor(opts: {
    registry: RegistryView;
    cache: LatestStateCache;
    thresholds: DeviceThresholds;
    clock: () => number;
  }) {
    this.#registry = opts.registry;
    this.#cache = opts.cache;
    this.#t = opts.thresholds;
    this.#clock = opts.clock;
  }

  loadAlerts(alerts: readonly Alert[]): void {
    this.#open.clear();
    for (const a of alerts) if (a.status !== 'closed') this.#open.set(a.id, a);
  }

  /** Applies an alert change; returns the ticker item it makes. */
  applyAlert(change: AlertChange): TickerItem {
    const a = change.alert;
    if (a.status === 'closed') this.#open.delete(a.id);
    else this.#open.set(a.id, a);
    const verb =
      change.type === 'raised'
        ? { zh: '报警', en: 'raised' }
        : a.status === 'closed'
          ? { zh: '已关闭', en: 'closed' }
          : a.status === 'acknowledged'
            ? { zh: '已确认', en: 'acknowledged' }
            : a.status === 'verified'
              ? { zh: '已核实', en: 'verified' }
              : { zh: '更新', en: 'updated' };
    const item: TickerItem = {
      // When it happened: the transition's time (acknowledged, verified, closed), else the last occurrence.
      at: change.transition?.at ?? Math.max(a.lastSeenAt, a.closedAt ?? 0),
      institution: a.institution,
      kind: a.deviceKind ?? 'gateway',
      text: {
        zh: `${this.#instName(a.institution)} ${a.name.zh} ${verb.zh}`,
        en: `${this.#instName(a.institution)} ${a.name.en} ${verb.en}`,
      },
      // A raise carries the alert's level; acknowledging or closing it is news, not alarm.
      level: change.type === 'raised' ? alertLevel(a.severity) : 'info',
    };
    if (change.type !== 'updated' || a.status !== 'open') this.#pushTicker(item);
    return item;
  }

  /** A device event or gateway status change for the ticker; undefined for other messages. */
  tickerFor(e: IngestEvent): TickerItem | undefined {
    let item: TickerItem | undefined;
    if (e.type === 'event') {
      const text = EVENT_TEXT[e.payload.event] ?? { zh: '设备报告异常', en: 'device report' };
      // The zone the panel names, else the device's registered name: people read the ticker.
      const where = e.payload.zone ?? this.#registry.snapshot.devices.get(`${e.gateway}/${e.device}`)?.name ?? '';
      item = {
        at: e.receivedAt,
        institution: e.institution,
        kind: e.payload.kind,
        text: {
          zh: `${this.#instName(e.institution)} ${where} ${text.zh}`,
          en: `${this.#instName(e.institution)} ${where} ${text.en}`,
        },
        level:
          e.payload.event === 'fire'
            ? 'alarm'
            : e.payload.event === 'restore' || e.payload.event === 'test'
              ? 'info'
              : 'warning',
      };
    } else if (e.type === 'status') {
      const online = e.payload.state === 'online';
      const inst = this.#instName(e.institution);
      // Which of the institution's gateways, by its registered name (主楼网关), never its id: an
      // institution with two gateways otherwise reads as the same news twice.
      const label = this.#gatewayLabel(e.gateway, inst);
      item = {
        at: e.receivedAt,
        institution: e.institution,
        kind: 'gateway',
        text: {
          zh: `${inst} ${label ?? '网关'}${online ? '上线' : '离线'}`,
          en: `${inst} ${label ?? 'gateway'} ${online ? 'online' : 'offline'}`,
        },
        level: online ? 'info' : 'warning',
      };
    }
    if (item) this.#pushTicker(item);
    return item;
  }

  setSummary(county: string, s: AlertSummary): void {
    this.#summaries.set(county, s);
  }

  /**
   * Stats and panels. `maxWalkAgeMs` 0 walks the devices afresh (the periodic tick); snapshots and
   * alert-driven updates reuse the last walk (device values change slowly; alerts are counted fresh).
   */
  figures(county: string, maxWalkAgeMs = 0): { stats: Stats; panels: Panels } {
    return { stats: this.stats(county, maxWalkAgeMs), panels: this.panels(county, maxWalkAgeMs) };
  }

  openAlerts(filter?: { institution?: string; county?: string }): Alert[] {
    const out: Alert[] = [];
    for (const a of this.#open.values()) {
      if (filter?.institution !== undefined && a.institution !== filter.institution) continue;
      if (filter?.county !== undefined && a.county !== filter.county) continue;
      out.push(a);
    }
    // Worst first, then newest: what the operator must look at is on top.
    const rank = (a: Alert) =>
      isUnacknowledgedFire(a) ? 0 : isAlarm(a) ? 1 : alertLevel(a.severity) === 'warning' ? 2 : 3;
    return out.sort((x, y) => rank(x) - rank(y) || y.openedAt - x.openedAt);
  }

  institutionLive(id: string): InstitutionLive {
    const inst = this.#registry.snapshot.institutions.get(id);
    return institutionLive(
      id,
      inst?.gateways ?? [],
      (g) => this.#cache.gateway(g),
      this.openAlerts({ institution: id }),
    );
  }

  institutionIds(county: string): string[] {
    const ids: string[] = [];
    for (const i of this.#registry.snapshot.institutions.values()) if (i.county === county) ids.push(i.id);
    return ids;
  }

  allInstitutionIds(): string[] {
    return [...this.#registry.snapshot.institutions.keys()];
  }

  countyTimezone(county: string): string {
    return this.#registry.snapshot.counties.get(county)?.timezone ?? 'Asia/Shanghai';
  }

  countyOf(institution: string): string | undefined {
    return this.#registry.snapshot.institutions.get(institution)?.county;
  }

  hasCounty(county: string): boolean {
    return this.#registry.snapshot.counties.has(county);
  }

  countySnapshot(county: string): CountySnapshot {
    const snap = this.#registry.snapshot;
    const c = snap.counties.get(county);
    const institutions = this.institutionIds(county).map((id) => {
      const i = snap.institutions.get(id);
      return { ...this.institutionLive(id), name: i?.name ?? id, lng: i?.lng ?? 0, lat: i?.lat ?? 0 };
    });
    return {
      county: {
        id: county,
        name: c?.name ?? county,
        adcode: c?.adcode ?? '',
        timezone: c?.timezone ?? 'Asia/Shanghai',
        center: c?.center ?? null,
      },
      institutions,
      ...this.figures(county, 10_000),
      alerts: this.openAlerts({ county }),
      ticker: this.#ticker.filter((t) => this.countyOf(t.institution) === county),
    };
  }

  /** Headline figures; the device walk is reused while younger than `maxWalkAgeMs`. */
  stats(county: string, maxWalkAgeMs = 0): Stats {
    const walk = this.#walk(county, maxWalkAgeMs);
    const statusCounts = { alarm: 0, warning: 0, offline: 0, normal: 0 };
    let gateways = 0;
    let gatewaysOnline = 0;
    for (const id of this.institutionIds(county)) {
      const live = this.institutionLive(id);
      statusCounts[live.status]++;
      gateways += live.gatewaysTotal;
      gatewaysOnline += live.gatewaysOnline;
    }
    const s = this.#summaries.get(county);
    return {
      institutions: statusCounts.alarm + statusCounts.warning + statusCounts.offline + statusCounts.normal,
      devices: walk.devices,
      devicesOnline: walk.devicesOnline,
      deviceOnlineRate: walk.devices > 0 ? walk.devicesOnline / walk.devices : null,
      gateways,
      gatewaysOnline,
      openByKind: s?.openByKind ?? {},
      alarmsToday: s?.alarmsToday ?? 0,
      meanTimeToAcknowledgeMs: s?.meanTimeToAcknowledgeMs ?? null,
      statusCounts,
    };
  }

  panels(county: string, maxWalkAgeMs = 0): Panels {
    const walk = this.#walk(county, maxWalkAgeMs);
    const fireOpen = this.openAlerts({ county }).filter((a) => a.deviceKind === 'fire' && a.severity === 'critical');
    return {
      fire: { open: fireOpen.length, unacknowledged: fireOpen.filter((a) => a.status === 'open').length },
      extinguishers: walk.extinguishers,
      kitchens: walk.kitchens,
      electrical: walk.electrical,
      cameras: walk.cameras,
    };
  }

  /**
   * The part of the figures that walks every device of the county (~30 ms at 50k devices):
   * computed by the periodic tick, reused by snapshots and alert-driven updates in between, so a
   * burst of reconnecting wall screens or of alarms does not repeat it.
   */
  #walk(county: string, maxAgeMs: number): DeviceWalk {
    const now = this.#clock();
    const cached = this.#walks.get(county);
    if (cached && now - cached.at <= maxAgeMs) return cached;
    const snap = this.#registry.snapshot;
    const worst: Panels['extinguishers']['worst'] = [];
    const kitchens: Panels['kitchens'] = [];
    const faulty: Panels['cameras']['faulty'] = [];
    const circuits: (Panels['electrical']['circuits'][number] & { nearness: number })[] = [];
    let elecTotal = 0;
    let elecOut = 0;
    let devices = 0;
    let devicesOnline = 0;
    let extTotal = 0;
    let extOut = 0;
    let camTotal = 0;
    let camHealthy = 0;
    for (const id of this.institutionIds(county)) {
      for (const key of snap.devicesByInstitution.get(id) ?? []) {
        const d = snap.devices.get(key);
        if (!d) continue;
        devices++;
        if (this.#deviceOnline(key, now)) devicesOnline++;
        const st = this.#cache.device(d.gatewayId, d.deviceId);
        if (d.kind === 'extinguisher') {
          extTotal++;
          const p = st?.values.pressure;
          const medium = (
            typeof st?.values.medium === 'string' ? st.values.medium : (d.medium ?? 'dry_powder')
          ) as PressureMedium;
          if (typeof p === 'number' && pressureOutOfRange(this.#t, medium, p)) {
            extOut++;
            worst.push({ institution: id, device: d.deviceId, name: d.name, pressure: p, medium });
          }
        } else if (d.kind === 'kitchen') {
          const temp = st?.values.temperature;
          if (typeof temp === 'number') {
            const level = temp >= this.#t.kitchenAlarmC ? 'alarm' : temp > this.#t.kitchenWarnC ? 'warn' : 'ok';
            kitchens.push({ institution: id, device: d.deviceId, name: d.name, temperature: temp, level });
          }
        } else if (d.kind === 'electrical') {
          elecTotal++;
          const r = st ? electricalReading(this.#t, st.values) : undefined;
          if (r && st) {
            if (r.level !== 'ok') elecOut++;
            const { residualCurrent: ma, cableTemperature: c } = st.values;
            circuits.push({
              institution: id,
              device: d.deviceId,
              name: d.name,
              residualCurrent: typeof ma === 'number' ? ma : null,
              cableTemperature: typeof c === 'number' ? c : null,
              level: r.level,
              nearness: r.nearness,
            });
          }
        } else if (d.kind === 'camera') {
          camTotal++;
          const problem = this.#cameraProblem(key, now);
          if (problem) faulty.push({ institution: id, device: d.deviceId, name: d.name, problem });
          else camHealthy++;
        }
      }
    }
    worst.sort((a, b) => a.pressure - b.pressure);
    kitchens.sort((a, b) => b.temperature - a.temperature);
    circuits.sort((a, b) => b.nearness - a.nearness);
    const walk: DeviceWalk = {
      at: now,
      devices,
      devicesOnline,
      extinguishers: { total: extTotal, outOfRange: extOut, worst: worst.slice(0, PANEL_LIST_MAX) },
      kitchens: kitchens.slice(0, PANEL_LIST_MAX),
      electrical: {
        total: elecTotal,
        outOfRange: elecOut,
        circuits: circuits.slice(0, PANEL_LIST_MAX).map(({ nearness: _, ...c }) => c),
      },
      cameras: { total: camTotal, healthy: camHealthy, faulty: faulty.slice(0, PANEL_LIST_MAX) },
    };
    this.#walks.set(county, walk);
    return walk;
  }

  institutionSnapshot(id: string): InstitutionSnapshot | undefined {
    const snap = this.#registry.snapshot;
    const i = snap.institutions.get(id);
    if (!i) return undefined;
    const live = this.institutionLive(id);
    return {
      institution: { id, name: i.name, address: i.address, lng: i.lng, lat: i.lat, beds: i.beds, county: i.county },
      live,
      risk: live.risk,
      gateways: i.gateways.map((g) => this.gatewayLive(g)),
      devices: (snap.devicesByInstitution.get(id) ?? []).flatMap((k) => {
        const d = this.deviceLive(k);
        return d ? [d] : [];
      }),
      alerts: this.openAlerts({ institution: id }),
    };
  }

  gatewayLive(id: string): GatewayLive {
    const g = this.#registry.snapshot.gateways.get(id);
    const st = this.#cache.gateway(id);
    return {
      id,
      name: g?.name ?? null,
      state: st?.state ?? 'unknown',
      since: st?.since ?? null,
      lastHeartbeatAt: st?.lastHeartbeat?.ts ?? null,
      queueDepth: st?.lastHeartbeat?.queueDepth ?? null,
    };
  }

  /** A registered device's name (`主楼1F 走廊 摄像机`), what the screens show instead of its id. */
  deviceName(gateway: string, device: string): string | undefined {
    return this.#registry.snapshot.devices.get(`${gateway}/${device}`)?.name;
  }

  deviceLive(key: string): DeviceLive | undefined {
    const d = this.#registry.snapshot.devices.get(key);
    if (!d) return undefined;
    const st = this.#cache.device(d.gatewayId, d.deviceId);
    const now = this.#clock();
    const online = this.#deviceOnline(key, now);
    let state: DeviceLive['state'] = online ? 'ok' : 'offline';
    for (const a of this.#open.values()) {
      if (a.gateway === d.gatewayId && a.device === d.deviceId) {
        state = isAlarm(a) ? 'alarm' : state === 'alarm' ? 'alarm' : 'warn';
      }
    }
    if (state === 'ok' && st) {
      const p = st.values.pressure;
      const t = st.values.temperature;
      if (
        d.kind === 'extinguisher' &&
        typeof p === 'number' &&
        pressureOutOfRange(this.#t, d.medium ?? 'dry_powder', p)
      )
        state = 'warn';
      if (d.kind === 'kitchen' && typeof t === 'number' && t > this.#t.kitchenWarnC) state = 'warn';
      if (d.kind === 'camera' && this.#cameraProblem(key, now)) state = 'warn';
      if (d.kind === 'electrical' && (electricalReading(this.#t, st.values)?.level ?? 'ok') !== 'ok') state = 'warn';
    }
    return {
      key,
      gateway: d.gatewayId,
      device: d.deviceId,
      kind: d.kind,
      name: d.name,
      ...(d.medium ? { medium: d.medium } : {}),
      building: d.location.building,
      floor: d.location.floor,
      room: d.location.room,
      online,
      state,
      receivedAt: st?.receivedAt ?? null,
      values: st ? { ...st.values } : {},
      ...(st?.lastEvent ? { lastEvent: st.lastEvent } : {}),
    };
  }

  #deviceOnline(key: string, now: number): boolean {
    const d = this.#registry.snapshot.devices.get(key);
    if (!d) return false;
    if (this.#cache.gateway(d.gatewayId)?.state === 'offline') return false;
    const st = this.#cache.device(d.gatewayId, d.deviceId);
    if (!st) return false;
    const window = Math.max(this.#t.onlineMinMs, d.reportIntervalS * 1000 * this.#t.onlineIntervals);
    return now - st.receivedAt <= window;
  }

  #cameraProblem(key: string, now: number): string | undefined {
    if (!this.#deviceOnline(key, now)) return 'offline';
    const d = this.#registry.snapshot.devices.get(key);
    const v = d ? this.#cache.device(d.gatewayId, d.deviceId)?.values : undefined;
    if (!v) return 'offline';
    if (v.online === false) return 'offline';
    if (v.streamOk === false) return 'signal_loss';
    if (v.frozen === true) return 'frozen';
    if (v.black === true) return 'black';
    if (v.occluded === true) return 'occlusion';
    if (v.dark === true) return 'too_dark';
    if (v.bright === true) return 'too_bright';
    if (v.blurred === true) return 'blurred';
    return undefined;
  }

  #instName(id: string): string {
    return this.#registry.snapshot.institutions.get(id)?.name ?? id;
  }

  /** A gateway's registered name without its institution's (`酉阳县社会福利中心主楼网关` → `主楼网关`). */
  #gatewayLabel(id: string, institutionName: string): string | undefined {
    const name = this.#registry.snapshot.gateways.get(id)?.name?.trim();
    if (!name) return undefined;
    const own = name.startsWith(institutionName) ? name.slice(institutionName.length).trim() : name;
    return own === '' ? undefined : own;
  }

  #pushTicker(item: TickerItem): void {
    this.#ticker.unshift(item);
    if (this.#ticker.length > TICKER_MAX) this.#ticker.length = TICKER_MAX;
  }
}
