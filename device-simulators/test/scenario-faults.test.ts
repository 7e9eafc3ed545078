import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CountyConfig } from '@anlian/protocol';
import { describe, expect, it } from 'vitest';
import { MessageGenerator } from '../src/generator/message-generator.js';
import type { SimConnect, SimPublish, SimStep } from '../src/generator/sim-step.js';
import { SCENARIOS_DIR } from '../src/paths.js';
import { defineScenario, loadScenario } from '../src/scenario/load-scenario.js';
import { DAY_START, demoCounty, HOUR, MINUTE, publishes } from './support.js';

/** Local wall-clock time on the test day (UTC+8). */
const at = (hhmm: string, day = 0) => {
  const [h, m] = hhmm.split(':').map(Number);
  return DAY_START + day * 24 * HOUR + (h ?? 0) * HOUR + (m ?? 0) * MINUTE;
};

async function runShipped(
  name: string,
  startMs: number,
): Promise<{ gen: MessageGenerator; steps: SimStep[]; county: CountyConfig }> {
  const county = await demoCounty();
  const scenario = await loadScenario(join(SCENARIOS_DIR, name));
  const gen = new MessageGenerator({ county, startMs, scenario, naturalFaults: false });
  const steps = gen.takeUntil(gen.scenarioEndMs + scenario.settle);
  return { gen, steps, county };
}

type Of<T extends SimPublish['type']> = Extract<SimPublish, { type: T }>;
const events = (steps: SimStep[]) => publishes(steps).filter((p): p is Of<'event'> => p.type === 'event');
const telemetryOf = (steps: SimStep[], gateway: string, device: string) =>
  publishes(steps).filter(
    (p): p is Of<'telemetry'> => p.type === 'telemetry' && p.gateway === gateway && p.device === device,
  );
const eventName = (p: SimPublish) => (p.type === 'event' ? p.data.event : undefined);

describe('shipped scenarios', () => {
  it('ship the drills of DOMAIN.md, each resolving against the demo county', async () => {
    const files = readdirSync(SCENARIOS_DIR).filter((f) => f.endsWith('.yaml'));
    for (const required of [
      'kitchen-fire-lunchtime.yaml',
      'night-bedroom-smoke.yaml',
      'extinguisher-leak.yaml',
      'camera-failure.yaml',
      'gateway-power-loss.yaml',
    ]) {
      expect(files).toContain(required);
    }
    const county = await demoCounty();
    for (const f of files) {
      const s = await loadScenario(join(SCENARIOS_DIR, f));
      expect(s.title.zh, f).toMatch(/[\u4e00-\u9fff]/);
      expect(s.description.zh, f).toMatch(/[\u4e00-\u9fff]/);
      expect(s.title.en, f).toMatch(/^[\x20-\x7e]+$/);
      const gen = new MessageGenerator({ county, startMs: at('11:20'), scenario: s });
      expect(gen.faults.length, f).toBe(s.faults.length);
      for (const fault of gen.faults) expect(fault.targets.length, `${f} ${fault.id}`).toBeGreaterThan(0);
    }
  });

  it('kitchen-fire-lunchtime: an overheat ramp from 11:30 crossing both kitchen rules, then a heat-detector fire alarm at 11:35', async () => {
    const { steps } = await runShipped('kitchen-fire-lunchtime.yaml', at('11:20'));
    const gw = 'gw-yy-zhongduo-1';
    const fire = events(steps).filter((e) => eventName(e) === 'fire');
    expect(fire).toHaveLength(1);
    expect(fire[0]).toMatchObject({
      atSimMs: at('11:35'),
      gateway: gw,
      device: 'heat-kitchen-1',
      topic: `anlian/v1/youyang/yy-zhongduo/${gw}/device/heat-kitchen-1/event`,
      fault: 1,
      data: { kind: 'fire', event: 'fire', ts: at('11:35'), zone: '主楼 1F 厨房' },
    });
    const marks = steps.filter((s) => s.kind === 'fault');
    expect(marks.map((m) => m.kind === 'fault' && `${m.fault.id} ${m.fault.phase}`)).toEqual([
      'hob-overheat start',
      'kitchen-heat-alarm start',
      'kitchen-heat-alarm end',
      'hob-overheat end',
    ]);
    expect(marks[0]?.atSimMs).toBe(at('11:30'));

    const hob = telemetryOf(steps, gw, 'kit-temp-1').map((p) => ({
      t: p.atSimMs,
      c: p.data.kind === 'kitchen' ? p.data.temperature : 0,
    }));
    const before = hob.filter((x) => x.t < at('11:30'));
    expect(Math.max(...before.map((x) => x.c))).toBeLessThan(45);
    const max = Math.max(...hob.map((x) => x.c));
    expect(max).toBeGreaterThanOrEqual(74);
    expect(max).toBeLessThan(77);
    // Rate-of-rise rule: ≥ 8 °C/min sustained for a minute somewhere in the ramp.
    const rise = hob.some((a) => {
      const b = hob.find((x) => x.t >= a.t + MINUTE);
      return b !== undefined && b.t - a.t <= 75_000 && (b.c - a.c) / ((b.t - a.t) / MINUTE) >= 8;
    });
    expect(rise).toBe(true);
    // Reported every 15 s during the ramp.
    expect(hob.filter((x) => x.t >= at('11:30') && x.t < at('11:35')).length).toBeGreaterThanOrEqual(20);
    const hobEvents = events(steps)
      .filter((e) => e.device === 'kit-temp-1')
      .map((e) => eventName(e));
    expect(hobEvents).toEqual(['overheat', 'restore']);

    const detector = telemetryOf(steps, gw, 'heat-kitchen-1');
    const during = detector.filter((p) => p.atSimMs >= at('11:35') && p.atSimMs < at('11:50'));
    expect(during.length).toBeGreaterThan(0);
    for (const p of during) expect(p.data).toMatchObject({ kind: 'fire', temperature: 68 });
    const restore = events(steps).find((e) => e.device === 'heat-kitchen-1' && eventName(e) === 'restore');
    expect(restore?.atSimMs).toBe(at('11:50'));
  });

  it('night-bedroom-smoke: a bedroom smoke alarm at 02:00 the next night, then the corridor', async () => {
    const { steps } = await runShipped('night-bedroom-smoke.yaml', at('01:50'));
    const fire = events(steps).filter((e) => eventName(e) === 'fire');
    expect(fire.map((e) => [e.atSimMs, e.institution, e.device])).toEqual([
      [at('02:00'), 'yy-longtan', 'smk-3f-301'],
      [at('02:01'), 'yy-longtan', 'smk-3f-corr-e'],
    ]);
    expect(fire[0]?.data).toMatchObject({ zone: '主楼 3F 301室' });
    const smoke = telemetryOf(steps, 'gw-yy-longtan-1', 'smk-3f-301').filter((p) => p.atSimMs >= at('02:00'));
    expect(smoke[0]?.data).toMatchObject({ kind: 'fire', smoke: 0.28 });

    // Started at 11:20 instead, "02:00" is the next night's.
    const county = await demoCounty();
    const later = new MessageGenerator({
      county,
      startMs: at('11:20'),
      scenario: await loadScenario(join(SCENARIOS_DIR, 'night-bedroom-smoke.yaml')),
    });
    expect(later.faults[0]?.atSimMs).toBe(at('02:00', 1));
  });

  it('extinguisher-leak: the gauge falls out of the green zone with low_pressure, the sprinkler below 0.05 MPa', async () => {
    const { steps } = await runShipped('extinguisher-leak.yaml', at('09:00'));
    const gw = 'gw-yy-mawang-1';
    const ext = telemetryOf(steps, gw, 'ext-2f-e').map((p) => (p.data.kind === 'extinguisher' ? p.data.pressure : -1));
    expect(ext[0]).toBeGreaterThan(1.1);
    expect(Math.min(...ext)).toBeLessThan(0.42);
    const low = events(steps).filter((e) => eventName(e) === 'low_pressure');
    expect(low.map((e) => e.device)).toEqual(['ext-2f-e', 'spr-3f-end']);
    const sprinkler = telemetryOf(steps, gw, 'spr-3f-end').map((p) =>
      p.data.kind === 'extinguisher' ? p.data.pressure : -1,
    );
    expect(Math.min(...sprinkler)).toBeLessThan(0.04);
    // Outside the scenario's targets, gauges stay where they were.
    for (const p of publishes(steps)) {
      if (
        p.type === 'telemetry' &&
        p.data.kind === 'extinguisher' &&
        p.data.medium === 'dry_powder' &&
        p.device !== 'ext-2f-e'
      ) {
        expect(p.data.pressure).toBeGreaterThanOrEqual(1);
      }
    }
  });

  it('camera-failure: frozen, black and offline with their events, flags and restores', async () => {
    const { steps } = await runShipped('camera-failure.yaml', at('15:00'));
    const cams = events(steps).filter((e) => e.institution === 'yy-daxi');
    expect(cams.map((e) => `${e.device} ${eventName(e)}`)).toEqual([
      'cam-1f-kitchen frozen',
      'cam-1f-gate black',
      'cam-1f-corr signal_loss',
      'cam-1f-gate restore',
      'cam-1f-kitchen restore',
      'cam-1f-corr restore',
    ]);
    const flags = (device: string, from: string, to: string) =>
      telemetryOf(steps, 'gw-yy-daxi-1', device)
        .filter((p) => p.atSimMs >= at(from) && p.atSimMs < at(to))
        .map((p) => p.data);
    for (const d of flags('cam-1f-kitchen', '15:01', '15:11'))
      expect(d).toMatchObject({ frozen: true, lastFrameTs: at('15:01') });
    for (const d of flags('cam-1f-gate', '15:03', '15:08')) expect(d).toMatchObject({ black: true, streamOk: true });
    const offline = flags('cam-1f-corr', '15:05', '15:20');
    expect(offline.length).toBeGreaterThanOrEqual(14);
    for (const d of offline) expect(d).toMatchObject({ online: false, streamOk: false, fps: 0 });
    expect(flags('cam-1f-corr', '15:20', '15:25')[0]).toMatchObject({ online: true, streamOk: true });
  });

  it('camera picture faults: too dark, too bright, blurred and occluded, as the gateway’s diagnosis names them', async () => {
    const county = await demoCounty();
    const faults = (['dark', 'bright', 'blurred', 'occluded'] as const).map((fault, i) => ({
      id: `cam-${fault}`,
      type: 'camera' as const,
      at: `${i + 1}m`,
      target: { institution: 'yy-daxi', device: ['cam-1f-gate', 'cam-1f-back', 'cam-1f-lobby', 'cam-1f-duty'][i] },
      fault,
      for: '10m',
    }));
    const scenario = defineScenario({
      title: { zh: '画面', en: 'picture' },
      description: { zh: '画面', en: 'picture' },
      faults,
    });
    const gen = new MessageGenerator({ county, startMs: at('15:00'), scenario, naturalFaults: false });
    const steps = gen.takeUntil(at('15:08'));
    const cams = events(steps).filter((e) => e.institution === 'yy-daxi');
    expect(cams.map((e) => `${e.device} ${eventName(e)}`)).toEqual([
      'cam-1f-gate too_dark',
      'cam-1f-back too_bright',
      'cam-1f-lobby blurred',
      'cam-1f-duty occlusion',
    ]);
    const last = (device: string) => telemetryOf(steps, 'gw-yy-daxi-1', device).at(-1)?.data;
    expect(last('cam-1f-gate')).toMatchObject({ dark: true });
    expect(last('cam-1f-back')).toMatchObject({ bright: true });
    expect(last('cam-1f-lobby')).toMatchObject({ blurred: true });
    expect(last('cam-1f-duty')).toMatchObject({ occluded: true });
  });

  it('gateway-power-loss: drops without a clean disconnect, silence during the power cut, store-and-forward after an uplink loss', async () => {
    const { steps } = await runShipped('gateway-power-loss.yaml', at('10:00'));
    const drops = steps.filter((s) => s.kind === 'drop');
    expect(drops.map((d) => [d.gateway, d.atSimMs])).toEqual([
      ['gw-yy-fuli-zhongxin-1', at('10:02')],
      ['gw-yy-fuli-zhongxin-2', at('10:02')],
      ['gw-yy-kangle-1', at('10:04')],
    ]);
    const reconnects = steps.filter((s): s is SimConnect => s.kind === 'connect' && s.reconnect);
    expect(reconnects.map((c) => [c.gateway, c.atSimMs])).toEqual([
      ['gw-yy-kangle-1', at('10:09')],
      ['gw-yy-fuli-zhongxin-1', at('10:12')],
      ['gw-yy-fuli-zhongxin-2', at('10:12')],
    ]);
    const fuli = publishes(steps).filter((p) => p.gateway === 'gw-yy-fuli-zhongxin-1');
    expect(fuli.filter((p) => p.atSimMs > at('10:02') && p.atSimMs < at('10:12'))).toEqual([]);
    // Power: nothing measured while off, uptime restarts.
    expect(fuli.filter((p) => p.data.ts > at('10:02') && p.data.ts < at('10:12'))).toEqual([]);
    const hb = fuli.find((p) => p.type === 'heartbeat' && p.atSimMs > at('10:12'));
    expect(hb?.type === 'heartbeat' && hb.data.uptimeS).toBeLessThanOrEqual(30);
    // The reconnect's will carries the seq of the online status that follows it.
    for (const c of reconnects) {
      if (c.kind !== 'connect') continue;
      const online = publishes(steps).find(
        (p) => p.gateway === c.gateway && p.type === 'status' && p.atSimMs === c.atSimMs,
      );
      expect(JSON.parse(c.will.payload)).toMatchObject({ state: 'offline', reason: 'will', seq: online?.seq });
      expect(online?.data).toMatchObject({ state: 'online', reason: 'connect' });
    }
    // Uplink: queued telemetry goes out at 10:09 with the times it was measured, seq after the online status.
    const kangle = publishes(steps).filter((p) => p.gateway === 'gw-yy-kangle-1');
    const flushed = kangle.filter(
      (p) => p.atSimMs === at('10:09') && p.type === 'telemetry' && p.data.ts < at('10:09'),
    );
    expect(flushed.length).toBeGreaterThan(50);
    for (const p of flushed) expect(p.data.ts).toBeGreaterThan(at('10:04'));
    const online = kangle.find((p) => p.type === 'status' && p.atSimMs === at('10:09'));
    expect(Math.min(...flushed.map((p) => p.seq))).toBeGreaterThan(online?.seq ?? Number.POSITIVE_INFINITY);
    let prev = -1;
    for (const p of kangle) {
      expect(p.seq).toBeGreaterThan(prev);
      prev = p.seq;
    }
  });

  it('data-quality: duplicates with the same seq, a skewed clock, a silent device', async () => {
    const { steps } = await runShipped('data-quality.yaml', at('08:00'));
    const gw = publishes(steps).filter((p) => p.gateway === 'gw-yy-xinglong-1');
    const dups = gw.filter((p) => p.duplicate);
    expect(dups).toHaveLength(20);
    for (const d of dups) {
      const original = gw[gw.indexOf(d) - 1];
      expect(original?.seq).toBe(d.seq);
      expect(original?.payload).toBe(d.payload);
      expect(d.atSimMs).toBeGreaterThanOrEqual(at('08:01'));
    }
    const skewed = telemetryOf(steps, 'gw-yy-xinglong-1', 'ext-1f-e');
    for (const p of skewed) {
      const expected = p.atSimMs >= at('08:01') && p.atSimMs < at('08:31') ? 7 * MINUTE : 0;
      expect(p.data.ts - p.atSimMs).toBe(expected);
    }
    expect(skewed.some((p) => p.data.ts - p.atSimMs === 7 * MINUTE)).toBe(true);
    const window = (t: number) => t >= at('08:02') && t < at('08:22');
    const silent = telemetryOf(steps, 'gw-yy-xinglong-1', 'smk-2f-201');
    expect(silent.filter((p) => window(p.atSimMs))).toEqual([]);
    // Without the scenario the detector reports in that window; after it, it reports exactly as it
    // would have (a fault never shifts the noise stream).
    const baseline = new MessageGenerator({ county: await demoCounty(), startMs: at('08:00'), naturalFaults: false });
    const normal = telemetryOf(baseline.takeUntil(at('08:36')), 'gw-yy-xinglong-1', 'smk-2f-201');
    expect(normal.filter((p) => window(p.atSimMs)).length).toBeGreaterThanOrEqual(3);
    const after = (list: Of<'telemetry'>[]) =>
      list.filter((p) => p.atSimMs >= at('08:22')).map((p) => [p.atSimMs, p.data.kind === 'fire' && p.data.signal]);
    expect(after(silent).length).toBeGreaterThan(0);
    expect(after(silent)).toEqual(after(normal));
  });
});
