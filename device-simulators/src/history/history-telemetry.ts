import type { TelemetryPayload } from '@anlian/protocol';
import { MessageGenerator } from '../generator/message-generator.js';
import type { SimulatedHistory } from './history-model.js';

export interface HistoryReading {
  institution: string;
  gateway: string;
  device: string;
  data: TelemetryPayload;
}

/**
 * Every telemetry report of the history's period, from the simulator's own generator (the same
 * county, seed and signals as `anlian sim`, run at unbounded speed), made to agree with the
 * history's status: nothing while a device is silent or its gateway is down; a report exactly at
 * a device's last report before a silence and at its resumption, and one from every device the
 * moment its gateway reconnects. So the raw points and the recorded status history tell the same
 * story, and a report computed from either agrees (reports/test).
 *
 * Readings are yielded in time order except the synthetic ones, which follow the stream's
 * position; InfluxDB does not care. Meant for small counties (a month of the demo county is
 * ~26 million reports): tests and the benchmark's baseline.
 */
export function* historyTelemetry(h: SimulatedHistory): Generator<HistoryReading> {
  const gen = new MessageGenerator({
    county: h.county,
    startMs: h.fromMs,
    seed: h.seed,
    naturalFaults: false,
    validate: false,
  });
  const suppressed = new Map<string, [number, number][]>();
  const boundaries = new Map<string, number[]>();
  const add = <T>(m: Map<string, T[]>, k: string, v: T) => {
    const list = m.get(k);
    if (list) list.push(v);
    else m.set(k, [v]);
  };
  for (const o of h.deviceOutages) {
    const k = `${o.gateway}/${o.device}`;
    // Open interval: the reports at both ends stay.
    add(suppressed, k, [o.lastReportAt + 1, o.resumeAt]);
    add(boundaries, k, o.lastReportAt);
    add(boundaries, k, o.resumeAt);
  }
  for (const o of h.gatewayOutages) {
    const inst = h.county.institutions.find((i) => i.id === o.institution);
    const gw = inst?.gateways.find((g) => g.id === o.gateway);
    for (const d of gw?.devices ?? []) {
      const k = `${o.gateway}/${d.id}`;
      add(suppressed, k, [o.from, o.to]);
      add(boundaries, k, o.to);
    }
  }
  for (const list of boundaries.values()) list.sort((a, b) => a - b);
  const last = new Map<string, TelemetryPayload>();

  const synthetic = function* (k: string, upTo: number, sample: TelemetryPayload, where: Omit<HistoryReading, 'data'>) {
    const list = boundaries.get(k);
    while (list && list.length > 0 && (list[0] ?? Number.POSITIVE_INFINITY) <= upTo) {
      const b = list.shift() as number;
      yield { ...where, data: { ...sample, ts: b } as TelemetryPayload };
    }
  };

  for (;;) {
    const step = gen.next();
    if (!step || step.atSimMs >= h.toMs) break;
    if (step.kind !== 'publish' || step.type !== 'telemetry' || step.device === undefined) continue;
    const data = step.data as TelemetryPayload;
    const k = `${step.gateway}/${step.device}`;
    const where = { institution: step.institution, gateway: step.gateway, device: step.device };
    yield* synthetic(k, data.ts, last.get(k) ?? data, where);
    last.set(k, data);
    if ((suppressed.get(k) ?? []).some(([a, b]) => data.ts >= a && data.ts < b)) continue;
    yield { ...where, data };
  }
  // Boundaries after a device's last streamed report (none, in a stream that runs to the end).
  for (const [k, list] of boundaries) {
    const sample = last.get(k);
    if (!sample || list.length === 0) continue;
    const [gateway, device] = k.split('/') as [string, string];
    const inst = h.county.institutions.find((i) => i.gateways.some((g) => g.id === gateway));
    yield* synthetic(k, h.toMs - 1, sample, { institution: inst?.id ?? '', gateway, device });
  }
}
