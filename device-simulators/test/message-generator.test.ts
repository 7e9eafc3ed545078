import { createHash } from 'node:crypto';
import { type CountyConfig, type DeviceKind, decodeMessage } from '@anlian/protocol';
import { describe, expect, it } from 'vitest';
import { generateMessages, MessageGenerator } from '../src/generator/message-generator.js';
import type { SimStep } from '../src/generator/sim-step.js';
import { simRunFor } from '../src/runner/county-simulator.js';
import { CameraSignal } from '../src/signals/camera-signal.js';
import { createSignal } from '../src/signals/create-signal.js';
import { PressureSignal } from '../src/signals/pressure-signal.js';
import { TimeZoneClock } from '../src/time-zone.js';
import { DAY_START, demoCounty, demoSubset, HOUR, MINUTE, publishes } from './support.js';

const DAY = 24 * HOUR;

function onlyKind(county: CountyConfig, kind: DeviceKind): CountyConfig {
  return {
    ...county,
    institutions: county.institutions.map((inst) => ({
      ...inst,
      gateways: inst.gateways.map((gw) => ({ ...gw, devices: gw.devices.filter((d) => d.kind === kind) })),
    })),
  };
}

/** A fingerprint of a whole step sequence: count, sha-256 of every step, and the topics seen. */
function digest(steps: Iterable<SimStep>): { count: number; sha256: string; topics: Set<string> } {
  const hash = createHash('sha256');
  const topics = new Set<string>();
  let count = 0;
  for (const s of steps) {
    count++;
    if (s.kind === 'publish') {
      topics.add(s.topic);
      hash.update(`${s.atSimMs} ${s.topic} ${s.payload}\n`);
    } else hash.update(`${s.atSimMs} ${s.kind} ${JSON.stringify(s)}\n`);
  }
  return { count, sha256: hash.digest('hex'), topics };
}

describe('MessageGenerator determinism', () => {
  it('gives the same sequence for the same seed over a simulated day, and a different one for another seed', async () => {
    // Three township homes, ~200 devices: ~170k steps a simulated day.
    const demo = await demoCounty();
    const county = {
      ...demo,
      institutions: demo.institutions.filter((i) => ['yy-zhongduo', 'yy-mawang', 'yy-daxi'].includes(i.id)),
    };
    expect(county.institutions).toHaveLength(3);
    const a = digest(generateMessages({ county, seed: 7, startMs: DAY_START, untilMs: DAY_START + DAY }));
    const b = digest(generateMessages({ county, seed: 7, startMs: DAY_START, untilMs: DAY_START + DAY }));
    const c = digest(generateMessages({ county, seed: 8, startMs: DAY_START, untilMs: DAY_START + DAY }));
    expect(a.count).toBeGreaterThan(100_000);
    expect(b.sha256).toBe(a.sha256);
    expect(b.count).toBe(a.count);
    expect(c.sha256).not.toBe(a.sha256);
    // Another seed changes values and timing, not the shape of the county.
    expect(c.topics).toEqual(a.topics);
  });

  it('keeps a device’s signal when other institutions are added (per-device substreams)', async () => {
    const small = await demoSubset(2);
    const large = await demoSubset(5);
    const of = (steps: Iterable<SimStep>) =>
      publishes(steps)
        .filter((p) => p.type === 'telemetry' && p.institution === small.institutions[1]?.id)
        .map((p) => {
          const { seq: _seq, ...rest } = p.data;
          return `${p.topic} ${JSON.stringify(rest)}`;
        });
    const until = DAY_START + 2 * HOUR;
    const alone = of(generateMessages({ county: small, seed: 3, startMs: DAY_START, untilMs: until }));
    const among = of(generateMessages({ county: large, seed: 3, startMs: DAY_START, untilMs: until }));
    expect(alone.length).toBeGreaterThan(1000);
    expect(among).toEqual(alone);
  });

  it('never reads a clock: steps are in time order and payload ts is simulated time', async () => {
    const county = await demoSubset(1);
    const start = Date.parse('2031-05-01T09:00:00+08:00');
    let last = 0;
    for (const s of generateMessages({ county, startMs: start, untilMs: start + HOUR })) {
      expect(s.atSimMs).toBeGreaterThanOrEqual(last);
      last = s.atSimMs;
      if (s.kind === 'publish') expect(s.data.ts).toBe(s.atSimMs);
    }
    expect(last).toBeGreaterThan(start + 55 * MINUTE);
  });
});

describe('MessageGenerator protocol', () => {
  it('publishes valid QoS 1 messages with strictly increasing per-gateway seq', async () => {
    const county = await demoSubset(4);
    const seqs = new Map<string, number>();
    const counts = { status: 0, heartbeat: 0, telemetry: 0, event: 0 };
    for (const p of publishes(generateMessages({ county, startMs: DAY_START, untilMs: DAY_START + 2 * HOUR }))) {
      const decoded = decodeMessage(p.topic, p.payload);
      expect(decoded.ok, p.payload).toBe(true);
      expect(p.qos).toBe(1);
      expect(p.retain).toBe(p.type === 'status');
      const prev = seqs.get(p.gateway) ?? -1;
      expect(p.seq).toBeGreaterThan(prev);
      seqs.set(p.gateway, p.seq);
      counts[p.type]++;
    }
    const gateways = county.institutions.flatMap((i) => i.gateways);
    expect(seqs.size).toBe(gateways.length);
    expect(counts.status).toBe(gateways.length);
    // Heartbeat every 30 s per gateway.
    expect(counts.heartbeat).toBe(gateways.length * 240);
    expect(counts.event).toBe(0);
  });

  it('connects each gateway first, with a will that carries the seq of its online status', async () => {
    const county = await demoSubset(2);
    const gen = new MessageGenerator({ county, startMs: DAY_START });
    const first = gen.takeUntil(DAY_START);
    const connects = first.filter((s) => s.kind === 'connect');
    expect(connects.map((c) => c.gateway)).toEqual(county.institutions.flatMap((i) => i.gateways.map((g) => g.id)));
    for (const c of connects) {
      if (c.kind !== 'connect') continue;
      const online = publishes(first).find((p) => p.gateway === c.gateway && p.type === 'status');
      expect(online?.data).toMatchObject({ state: 'online', reason: 'connect', seq: 0, ts: DAY_START });
      expect(c.will).toMatchObject({ topic: online?.topic, qos: 1, retain: true });
      expect(JSON.parse(c.will.payload)).toEqual({ v: 1, ts: DAY_START, seq: 0, state: 'offline', reason: 'will' });
    }
  });

  it('shuts down with offline/shutdown for every gateway and then ends', async () => {
    const county = await demoSubset(2);
    const gen = new MessageGenerator({ county, startMs: DAY_START });
    gen.takeUntil(DAY_START + 5 * MINUTE);
    const bye = gen.shutdown(DAY_START + 5 * MINUTE);
    expect(bye).toHaveLength(county.institutions.flatMap((i) => i.gateways).length);
    for (const s of bye)
      expect(s.data).toMatchObject({ state: 'offline', reason: 'shutdown', ts: DAY_START + 5 * MINUTE });
    expect(gen.next()).toBeUndefined();
    expect(gen.peekTime()).toBeUndefined();
  });

  it('reports each device at its reportIntervalS (default per kind)', async () => {
    const county = await demoSubset(1);
    const counts = new Map<string, number>();
    for (const p of publishes(generateMessages({ county, startMs: DAY_START, untilMs: DAY_START + 2 * HOUR }))) {
      if (p.type === 'telemetry' && p.device) counts.set(p.device, (counts.get(p.device) ?? 0) + 1);
    }
    // 2 h: fire 300 s → 24, camera 60 s → 120, kit-gas-1 30 s → 240 (±1 for phase and jitter).
    const devices = county.institutions[0]?.gateways.flatMap((g) => g.devices) ?? [];
    const expected = (id: string) => {
      const d = devices.find((x) => x.id === id);
      return (
        (2 * 3600) /
        (d?.reportIntervalS ??
          { fire: 300, extinguisher: 300, kitchen: 60, camera: 60, electrical: 300 }[d?.kind ?? 'fire'])
      );
    };
    for (const id of ['smk-1f-110', 'cam-1f-gate', 'kit-temp-1', 'kit-gas-1', 'ext-1f-e'].filter((i) =>
      devices.some((d) => d.id === i),
    )) {
      expect(Math.abs((counts.get(id) ?? 0) - expected(id)), id).toBeLessThanOrEqual(1);
    }
    expect(counts.size).toBe(devices.length);
  });
});

describe('signal realism (no scenario)', () => {
  it('keeps kitchens below 45 °C, ambient otherwise, with peaks in the meal windows', async () => {
    // Only the kitchen devices: per-device streams make their signals the same as in the full county.
    const county = onlyKind(await demoSubset(8), 'kitchen');
    const series = new Map<string, { hour: number; t: number; gas?: number }[]>();
    for (const p of publishes(
      generateMessages({ county, startMs: DAY_START, untilMs: DAY_START + DAY, naturalFaults: false }),
    )) {
      if (p.type !== 'telemetry' || p.data.kind !== 'kitchen') continue;
      const key = `${p.gateway}/${p.device}`;
      const list = series.get(key) ?? [];
      list.push({
        hour: (p.atSimMs - DAY_START) / HOUR,
        t: p.data.temperature,
        ...(p.data.gasLel === undefined ? {} : { gas: p.data.gasLel }),
      });
      series.set(key, list);
    }
    expect(series.size).toBeGreaterThanOrEqual(8);
    for (const [key, s] of series) {
      const max = Math.max(...s.map((x) => x.t));
      expect(max, key).toBeLessThan(45);
      expect(max, key).toBeGreaterThan(30);
      // Away from meals: ambient 18–28 °C (noise included).
      for (const x of s.filter(
        (v) => v.hour < 5 || (v.hour > 8 && v.hour < 10) || (v.hour > 13.5 && v.hour < 16) || v.hour > 19.5,
      )) {
        expect(x.t, `${key} at ${x.hour.toFixed(2)} h`).toBeGreaterThanOrEqual(17);
        expect(x.t, `${key} at ${x.hour.toFixed(2)} h`).toBeLessThanOrEqual(29);
      }
      const peakHour = (from: number, to: number) => {
        const w = s.filter((v) => v.hour >= from && v.hour < to);
        return w.reduce((a, b) => (b.t > a.t ? b : a)).hour;
      };
      expect(peakHour(4, 9), key).toBeGreaterThanOrEqual(6);
      expect(peakHour(4, 9), key).toBeLessThanOrEqual(7);
      expect(peakHour(9, 14), key).toBeGreaterThanOrEqual(11);
      expect(peakHour(9, 14), key).toBeLessThanOrEqual(12);
      expect(peakHour(15, 20), key).toBeGreaterThanOrEqual(17);
      expect(peakHour(15, 20), key).toBeLessThanOrEqual(18);
      // The day's hottest moment is a meal.
      const top = peakHour(0, 24);
      expect(
        [6, 11, 17].some((h) => top >= h && top <= h + 1),
        `${key} peaks at ${top.toFixed(2)} h`,
      ).toBe(true);
      for (const x of s) if (x.gas !== undefined) expect(x.gas).toBeLessThanOrEqual(3);
    }
    expect([...series.values()].some((s) => s.some((x) => x.gas !== undefined && x.gas > 0))).toBe(true);
  });

  it('keeps gauges in their normal range, dry powder with a small daily temperature drift', async () => {
    const county = onlyKind(await demoSubset(6), 'extinguisher');
    const byDevice = new Map<string, number[]>();
    let medium = { dry_powder: 0, sprinkler: 0, hydrant_static: 0, hydrant_dynamic: 0 };
    for (const p of publishes(
      generateMessages({ county, startMs: DAY_START, untilMs: DAY_START + DAY, naturalFaults: false }),
    )) {
      if (p.type !== 'telemetry' || p.data.kind !== 'extinguisher') continue;
      const d = p.data;
      medium = { ...medium, [d.medium]: medium[d.medium] + 1 };
      const [lo, hi] = {
        dry_powder: [1.0, 1.4],
        sprinkler: [0.1, 0.3],
        hydrant_static: [0.2, 0.4],
        hydrant_dynamic: [0.2, 0.45],
      }[d.medium];
      expect(d.pressure, `${p.device} ${d.medium}`).toBeGreaterThanOrEqual(lo as number);
      expect(d.pressure, `${p.device} ${d.medium}`).toBeLessThanOrEqual(hi as number);
      if (d.medium === 'dry_powder') {
        const list = byDevice.get(`${p.gateway}/${p.device}`) ?? [];
        list.push(d.pressure);
        byDevice.set(`${p.gateway}/${p.device}`, list);
      }
    }
    expect(Object.values(medium).every((n) => n > 0)).toBe(true);
    for (const [key, values] of byDevice) {
      const swing = Math.max(...values) - Math.min(...values);
      // Gas law over an 18–24 °C day: a few hundredths of a MPa, never flat, never a leak.
      expect(swing, key).toBeGreaterThan(0.01);
      expect(swing, key).toBeLessThan(0.08);
    }
  });

  it('decays detector batteries over months and keeps cameras healthy at ~25 fps 1080p', async () => {
    const county = await demoSubset(1);
    const inst = county.institutions[0];
    const gw = inst?.gateways[0];
    if (!inst || !gw) throw new Error('demo county has no institutions');
    const withDevices = (keep: (id: string, kind: DeviceKind) => boolean): CountyConfig => ({
      ...county,
      institutions: [{ ...inst, gateways: [{ ...gw, devices: gw.devices.filter((d) => keep(d.id, d.kind)) }] }],
    });
    const battery: number[] = [];
    const detector = withDevices((id) => id === 'smk-1f-110');
    for (const p of publishes(
      generateMessages({
        county: detector,
        startMs: DAY_START,
        untilMs: DAY_START + 120 * DAY,
        heartbeatIntervalMs: DAY,
      }),
    )) {
      if (p.type === 'telemetry' && p.data.kind === 'fire' && p.data.battery !== undefined)
        battery.push(p.data.battery);
    }
    let frames = 0;
    const cameras = withDevices((_, kind) => kind === 'camera');
    for (const p of publishes(
      generateMessages({ county: cameras, startMs: DAY_START, untilMs: DAY_START + DAY, naturalFaults: false }),
    )) {
      if (p.type !== 'telemetry' || p.data.kind !== 'camera') continue;
      frames++;
      expect(p.data).toMatchObject({
        online: true,
        streamOk: true,
        width: 1920,
        height: 1080,
        frozen: false,
        black: false,
      });
      expect(p.data.fps).toBeGreaterThan(24);
      expect(p.data.fps).toBeLessThanOrEqual(25.5);
      expect(p.data.bitrateKbps).toBeGreaterThan(1000);
      expect(p.data.lastFrameTs).toBeLessThan(p.data.ts);
    }
    expect(frames).toBeGreaterThan(1000);
    const first = battery[0] ?? 0;
    const last = battery[battery.length - 1] ?? 0;
    // 0.7–1.5 % a month over four months, monotone (whole percent).
    expect(first - last).toBeGreaterThanOrEqual(2);
    expect(first - last).toBeLessThanOrEqual(7);
    for (let i = 1; i < battery.length; i++) expect(battery[i]).toBeLessThanOrEqual(battery[i - 1] as number);
  });

  it('has rare, seeded natural faults: slow leaks and camera drop-outs, none when disabled', async () => {
    const county = await demoCounty();
    const tz = new TimeZoneClock('Asia/Shanghai');
    const signals = (naturalFaults: boolean) =>
      county.institutions.flatMap((inst) =>
        inst.gateways.flatMap((gw) =>
          gw.devices.map((device) =>
            createSignal({
              device,
              path: `youyang/${inst.id}/${gw.id}/${device.id}`,
              seed: 1,
              tz,
              startMs: DAY_START,
              naturalFaults,
            }),
          ),
        ),
      );
    const year = DAY_START + 365 * DAY;
    const count = (naturalFaults: boolean) => {
      let leaks = 0;
      let dryPowder = 0;
      let dropouts = 0;
      let cameras = 0;
      for (const sig of signals(naturalFaults)) {
        if (sig instanceof PressureSignal && sig.medium === 'dry_powder') {
          dryPowder++;
          if (sig.leak && sig.leak.startMs < year) leaks++;
        }
        if (sig instanceof CameraSignal) {
          cameras++;
          // Walk the drop-out schedule through a year in 10-minute steps.
          let last: number | undefined;
          for (let t = DAY_START; t < year; t += 10 * MINUTE) {
            const d = sig.dropoutAt(t);
            if (d && d[0] !== last) {
              dropouts++;
              last = d[0];
            }
          }
        }
      }
      return { leaks, dryPowder, dropouts, cameras };
    };
    const off = count(false);
    expect(off.leaks + off.dropouts).toBe(0);
    const on = count(true);
    // 0.2 leaks per extinguisher-year → ~18 % start within a year; about one drop-out per camera-month
    // (a 10-minute grid misses the shortest ones, hence the wide band).
    expect(on.leaks / on.dryPowder).toBeGreaterThan(0.08);
    expect(on.leaks / on.dryPowder).toBeLessThan(0.3);
    expect(on.dropouts / on.cameras).toBeGreaterThan(3);
    expect(on.dropouts / on.cameras).toBeLessThan(13);
  });
});

describe('simulated time (issue 13, design.md)', () => {
  it('marks every message of a run that is not in real time with its simRun, the will included', async () => {
    const county = await demoSubset(2);
    const steps = [
      ...generateMessages({ county, startMs: DAY_START, untilMs: DAY_START + 10 * MINUTE, simRun: 'sim-x60' }),
    ];
    const sent = publishes(steps);
    expect(sent.length).toBeGreaterThan(10);
    for (const s of sent) expect(JSON.parse(s.payload).simRun).toBe('sim-x60');
    for (const c of steps) if (c.kind === 'connect') expect(JSON.parse(c.will.payload).simRun).toBe('sim-x60');
    // A real-time run carries none.
    const live = publishes([...generateMessages({ county, startMs: DAY_START, untilMs: DAY_START + MINUTE })]);
    expect(live.every((s) => !('simRun' in JSON.parse(s.payload)))).toBe(true);
  });

  it('a run is real time only at speed 1 starting now', () => {
    const now = DAY_START;
    expect(simRunFor({ speed: 1, startMs: now + 30_000, now })).toBeUndefined();
    expect(simRunFor({ speed: 60, startMs: now, now })).toBe(`sim-${now.toString(36)}`);
    expect(simRunFor({ speed: 1, startMs: now - 3 * HOUR, now })).toBeDefined();
    expect(simRunFor({ speed: 10, startMs: now, now, simRun: 'month-2026-11' })).toBe('month-2026-11');
  });
});
