import { NOMINAL_PRESSURE_MPA } from '@anlian/device-simulators';
import type { CountyConfig, IngestEvent } from '@anlian/protocol';

/**
 * Plausible latest values for every device of a county, as ingest events: what the wall screen
 * shows a few minutes after `anlian up --demo`. Deterministic (no randomness), so screenshots
 * are comparable run to run.
 */
export function demoCountyEvents(county: CountyConfig, now = Date.now()): IngestEvent[] {
  const events: IngestEvent[] = [];
  let seq = 1;
  let n = 0;
  for (const [ii, inst] of county.institutions.entries()) {
    for (const [gi, gw] of inst.gateways.entries()) {
      const base = { county: county.county.id, institution: inst.id, gateway: gw.id, receivedAt: now };
      // One township home's gateway is down: the map shows an offline institution.
      const offline = ii === county.institutions.length - 2 && gi === 0;
      events.push({
        ...base,
        type: 'status',
        payload: { v: 1, ts: now - 60_000, seq: seq++, state: offline ? 'offline' : 'online' },
      });
      if (offline) continue;
      for (const d of gw.devices) {
        n++;
        const common = { ...base, device: d.id, confirmed: true };
        const ts = now - (n % 50) * 1000;
        switch (d.kind) {
          case 'fire':
            events.push({
              ...common,
              type: 'telemetry',
              payload: { v: 1, ts, seq: seq++, kind: 'fire', battery: 60 + (n % 40), signal: -60 - (n % 30) },
            });
            break;
          case 'extinguisher': {
            // Inside the medium's normal band (the simulator's), one gauge in 37 well under it.
            const medium = d.medium ?? 'dry_powder';
            const [lo, hi] = NOMINAL_PRESSURE_MPA[medium];
            const pressure = n % 37 === 0 ? lo * 0.75 : lo + ((hi - lo) * (n % 7)) / 7;
            events.push({
              ...common,
              type: 'telemetry',
              payload: {
                v: 1,
                ts,
                seq: seq++,
                kind: 'extinguisher',
                medium,
                pressure: Math.round(pressure * 100) / 100,
              },
            });
            break;
          }
          case 'kitchen':
            events.push({
              ...common,
              type: 'telemetry',
              payload: { v: 1, ts, seq: seq++, kind: 'kitchen', temperature: 28 + ((n * 7) % 23) },
            });
            break;
          case 'electrical':
            // A healthy installation: natural leakage 100–200 mA (DOMAIN.md), cables a little warm.
            events.push({
              ...common,
              type: 'telemetry',
              payload: {
                v: 1,
                ts,
                seq: seq++,
                kind: 'electrical',
                residualCurrent: 120 + ((n * 17) % 80),
                cableTemperature: 26 + ((n * 3) % 14),
              },
            });
            break;
          case 'camera':
            events.push({
              ...common,
              type: 'telemetry',
              payload: {
                v: 1,
                ts,
                seq: seq++,
                kind: 'camera',
                online: true,
                streamOk: n % 41 !== 0,
                fps: n % 41 === 0 ? 0 : 25,
                frozen: false,
                black: false,
              },
            });
            break;
        }
      }
    }
  }
  return events;
}

/** 24 h or 7 d of history for the charts, as InfluxDB would answer, for every device asked. */
export function fakeHistory(q: string): {
  statementId: number;
  series: { name: string; tags: Record<string, string>; columns: string[]; values: unknown[][] }[];
}[] {
  const measure = /FROM "(\w+)"/.exec(q)?.[1] ?? 'kitchen';
  const days = q.includes('now() - 7d') ? 7 : 1;
  const step = days === 7 ? 3600_000 : 600_000;
  const now = Date.now();
  const devices = measure === 'kitchen' ? ['zh-kit-temp-1', 'zh-kit-gas-1'] : ['ext-1f-e', 'ext-2f-w'];
  return [
    {
      statementId: 0,
      series: devices.map((device, k) => ({
        name: measure,
        tags: { device },
        columns: ['time', 'v'],
        values: Array.from({ length: (days * 86_400_000) / step }, (_, i) => {
          const t = now - days * 86_400_000 + i * step;
          const hour = (((t / 3600_000 + 8) % 24) + 24) % 24;
          // Kitchens heat up at mealtimes (China: about 7, 11:30 and 17:30).
          const meal = Math.max(
            0,
            1 - Math.min(Math.abs(hour - 7), Math.abs(hour - 11.5), Math.abs(hour - 17.5)) / 1.5,
          );
          const v = measure === 'kitchen' ? 26 + k * 2 + meal * (14 + k * 3) : 1.22 - k * 0.05 - (i / 2000) * (k + 1);
          return [t, Math.round(v * 100) / 100];
        }),
      })),
    },
  ];
}
