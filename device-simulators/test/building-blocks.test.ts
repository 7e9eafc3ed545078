import { Command } from 'commander';
import { describe, expect, it, vi } from 'vitest';
import { simulatorCommands } from '../src/cli.js';
import { parseCounty, selectInstitutions } from '../src/county/load-county.js';
import { buildLoadCounty, parseLoadSpec } from '../src/county/load-county-builder.js';
import { formatDuration, parseDurationMs, parseSignedDurationMs } from '../src/duration.js';
import { SimErrorCode } from '../src/errors.js';
import { generateMessages } from '../src/generator/message-generator.js';
import { hash32, Prng } from '../src/prng.js';
import { ProgressReporter } from '../src/runner/progress-reporter.js';
import type { SimStats } from '../src/runner/sim-stats.js';
import { TimeZoneClock } from '../src/time-zone.js';
import { DAY_START, demoCounty, HOUR, MINUTE, publishes } from './support.js';

describe('Prng', () => {
  it('is reproducible per seed and path, and independent across paths', () => {
    const draw = (p: Prng) => Array.from({ length: 5 }, () => p.next());
    expect(draw(Prng.for(1, 'a/b'))).toEqual(draw(Prng.for(1, 'a/b')));
    expect(draw(Prng.for(1, 'a/b'))).not.toEqual(draw(Prng.for(1, 'a/c')));
    expect(draw(Prng.for(1, 'a/b'))).not.toEqual(draw(Prng.for(2, 'a/b')));
    expect(hash32('youyang/yy-zhongduo', 1)).not.toBe(hash32('youyang/yy-zhongduo', 2));
    const p = new Prng(42);
    const xs = Array.from({ length: 20_000 }, () => p.gaussian());
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(sd).toBeGreaterThan(0.95);
    expect(sd).toBeLessThan(1.05);
    expect(Math.max(...xs.map(Math.abs))).toBeLessThanOrEqual(3);
  });
});

describe('durations and local time', () => {
  it('parses the duration forms scenarios and options use', () => {
    expect(parseDurationMs('5m')).toBe(5 * MINUTE);
    expect(parseDurationMs('300s')).toBe(5 * MINUTE);
    expect(parseDurationMs('1h30m')).toBe(90 * MINUTE);
    expect(parseDurationMs('1d')).toBe(24 * HOUR);
    expect(parseDurationMs('250ms')).toBe(250);
    expect(parseDurationMs('90')).toBe(90_000);
    expect(parseDurationMs(1.5)).toBe(1500);
    for (const bad of ['', '5 minutes', 'm5', '1h30', '-5m', '5x']) expect(parseDurationMs(bad), bad).toBeUndefined();
    expect(parseSignedDurationMs('-10m')).toBe(-10 * MINUTE);
    expect(parseSignedDurationMs('+7m')).toBe(7 * MINUTE);
    expect(formatDuration(90 * MINUTE + 5000)).toBe('1h30m05s');
  });

  it('computes local times in the county zone whatever the host zone', () => {
    const tz = new TimeZoneClock('Asia/Shanghai');
    expect(tz.hourOfDay(DAY_START + 11.5 * HOUR)).toBeCloseTo(11.5);
    expect(tz.format(DAY_START + 2 * HOUR)).toBe('2026-11-23 02:00:00');
    const t = { hour: 2, minute: 0, second: 0 };
    expect(tz.nextAt(DAY_START + 11 * HOUR, t)).toBe(DAY_START + 26 * HOUR);
    expect(tz.nextAt(DAY_START + 2 * HOUR, t)).toBe(DAY_START + 2 * HOUR);
    expect(tz.latestAt(DAY_START + 11 * HOUR, t)).toBe(DAY_START + 2 * HOUR);
    // A zone with daylight saving time: 02:30 on the spring-forward day does not exist; 03:30 does.
    const berlin = new TimeZoneClock('Europe/Berlin');
    const springDay = Date.parse('2026-03-29T00:00:00+01:00');
    expect(berlin.nextAt(springDay, { hour: 3, minute: 30, second: 0 })).toBe(Date.parse('2026-03-29T03:30:00+02:00'));
    expect(() => new TimeZoneClock('Mars/Olympus')).toThrow(/unknown time zone/);
  });
});

describe('county inputs', () => {
  it('builds a synthetic load county from IxDxINTERVAL', () => {
    expect(parseLoadSpec('250x200x10s')).toEqual({ institutions: 250, devicesPerInstitution: 200, intervalS: 10 });
    expect(parseLoadSpec('3×40×1m')).toEqual({ institutions: 3, devicesPerInstitution: 40, intervalS: 60 });
    for (const bad of ['250x200', '0x1x10s', '1x1x0.5s', 'axbxc']) {
      expect(() => parseLoadSpec(bad), bad).toThrow(expect.objectContaining({ code: SimErrorCode.BAD_ARGUMENT }));
    }
    const county = buildLoadCounty({ institutions: 3, devicesPerInstitution: 40, intervalS: 10 });
    expect(county.institutions.map((i) => i.id)).toEqual(['load-0001', 'load-0002', 'load-0003']);
    const devices = county.institutions.flatMap((i) => i.gateways.flatMap((g) => g.devices));
    expect(devices).toHaveLength(120);
    expect(new Set(devices.map((d) => d.kind))).toEqual(new Set(['fire', 'extinguisher', 'kitchen', 'camera']));
    expect(county.institutions.every((i) => i.gateways.every((g) => g.secret === undefined))).toBe(true);
    // 120 devices every 10 s for 10 min ≈ 7,200 telemetry messages.
    const telemetry = publishes(
      generateMessages({ county, startMs: DAY_START, untilMs: DAY_START + 10 * MINUTE }),
    ).filter((p) => p.type === 'telemetry');
    expect(telemetry.length).toBeGreaterThan(7000);
    expect(telemetry.length).toBeLessThan(7400);
  });

  it('reports county file errors by line and keeps scenario institutions when limiting', async () => {
    const demo = await demoCounty();
    const text = JSON.stringify(demo, null, 2).replace('"kind": "camera"', '"kind": "webcam"');
    const line = text.slice(0, text.indexOf('"webcam"')).split('\n').length;
    expect(() => parseCounty(text, 'broken.json')).toThrow(
      new RegExp(`broken\\.json: line ${line}, column \\d+: institutions\\.0\\.gateways\\.0\\.devices\\.\\d+\\.kind`),
    );
    const two = selectInstitutions(demo, 2, ['yy-longtan']);
    expect(two.institutions.map((i) => i.id)).toEqual(['yy-fuli-zhongxin', 'yy-zhongduo', 'yy-longtan']);
    expect(selectInstitutions(demo, undefined)).toBe(demo);
  });
});

describe('ProgressReporter', () => {
  const stats: SimStats = {
    simStartMs: DAY_START,
    simNowMs: DAY_START + HOUR,
    realElapsedMs: 60_000,
    speed: 60,
    gateways: 30,
    devices: 1823,
    connected: 29,
    sent: 12_345,
    acked: 12_340,
    failed: 0,
    byType: { status: 30, heartbeat: 3600, telemetry: 8700, event: 15 },
    duplicates: 0,
    faultsFired: 1,
    faultsTotal: 2,
    drops: 0,
    connectErrors: 1,
    lost: 0,
  };

  it('rewrites one status line on a TTY and finishes it before the summary', () => {
    vi.useFakeTimers();
    try {
      const chunks: string[] = [];
      const r = new ProgressReporter({
        output: { isTTY: true, write: (c) => chunks.push(c) },
        snapshot: () => stats,
        tz: new TimeZoneClock('Asia/Shanghai'),
        now: Date.now,
      });
      r.start();
      vi.advanceTimersByTime(1600);
      r.stop({
        ...stats,
        reason: 'stopped',
        faults: [],
        errors: [{ message: 'refused', count: 3, gateways: ['gw-a', 'gw-b', 'gw-c', 'gw-d'] }],
      });
      expect(chunks.slice(0, 3).every((c) => c.startsWith('\r\x1b[2K') && !c.includes('\n'))).toBe(true);
      expect(chunks[0]).toContain(
        'sim 2026-11-23 01:00:00 ×60 | gateways 29/30 | sent 12,345 (0/s) | faults 1/2 | errors 1',
      );
      expect(chunks[3]).toBe('\n');
      expect(chunks[4]).toContain('Simulation summary (stopped)');
      expect(chunks[4]).toContain('3× refused (gw-a, gw-b, gw-c and 1 more gateways)');
      // Stopped: no more output.
      const n = chunks.length;
      vi.advanceTimersByTime(5000);
      expect(chunks.length).toBe(n);
    } finally {
      vi.useRealTimers();
    }
  });

  it('prints plain lines every 10 s otherwise', () => {
    vi.useFakeTimers();
    try {
      const chunks: string[] = [];
      const r = new ProgressReporter({
        output: { write: (c) => chunks.push(c) },
        snapshot: () => stats,
        tz: new TimeZoneClock('Asia/Shanghai'),
        now: Date.now,
      });
      r.start();
      vi.advanceTimersByTime(25_000);
      r.stop();
      expect(chunks).toHaveLength(2);
      expect(chunks.every((c) => c.endsWith('\n') && !c.includes('\r'))).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('simulatorCommands', () => {
  it('provides sim and drill with their options; drill requires a scenario', async () => {
    const commands = simulatorCommands();
    expect(commands.map((c) => c.name())).toEqual(['sim', 'drill']);
    const [sim, drill] = commands as [Command, Command];
    const longs = (c: Command) => c.options.map((o) => o.long);
    for (const opt of [
      '--county',
      '--broker',
      '--seed',
      '--speed',
      '--scenario',
      '--load',
      '--institutions',
      '--start',
    ]) {
      expect(longs(sim)).toContain(opt);
    }
    expect(longs(sim)).toContain('--duration');
    expect(longs(drill)).toContain('--settle');
    const program = new Command().exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
    program.addCommand(drill.exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} }));
    await expect(program.parseAsync(['node', 'anlian', 'drill'])).rejects.toThrow(/--scenario/);
    const defaults = sim.opts();
    expect(String(sim.getOptionValue('county'))).toMatch(/deploy\/counties\/youyang-demo\.json$/);
    expect(defaults.broker).toBe('mqtt://127.0.0.1:1883');
  });
});
