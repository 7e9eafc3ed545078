import type { PressureMedium } from '@anlian/protocol';
import {
  type BodyOf,
  batteryAt,
  clamp,
  indoorTemperature,
  round,
  type SignalContext,
  type SignalModel,
  signalDbm,
} from './signal-model.js';

/** Normal operating range per medium, MPa: where a healthy gauge's nominal value is drawn from. */
export const NOMINAL_PRESSURE_MPA: Record<PressureMedium, readonly [number, number]> = {
  // GB 50444: stored-pressure dry powder, nominal 1.2 MPa, green zone 1.0–1.4.
  dry_powder: [1.15, 1.25],
  // Sprinkler worst point: comfortably above the 0.05 MPa minimum (GB 50974).
  sprinkler: [0.15, 0.25],
  hydrant_static: [0.25, 0.35],
  // No flow at the roof test hydrant between tests: it reads close to static pressure.
  hydrant_dynamic: [0.28, 0.4],
};

/**
 * Below this a gauge raises `low_pressure` when a scenario asks for the event; defaults after
 * DOMAIN.md (configurable per fault with `eventBelow`).
 */
export const LOW_PRESSURE_MPA: Record<PressureMedium, number> = {
  dry_powder: 1.0,
  sprinkler: 0.05,
  // GB 50974 static pressure minimum for the middle building class.
  hydrant_static: 0.1,
  hydrant_dynamic: 0.25,
};

const ATM_MPA = 0.101_325;
const KELVIN = 273.15;
const REFERENCE_C = 20;
const DAY_MS = 86_400_000;
// Expected slow leaks per dry-powder extinguisher per year: rare, but a county sees a few.
const LEAKS_PER_YEAR = 0.2;

/**
 * Extinguisher, sprinkler and hydrant gauges. A dry-powder extinguisher's nitrogen charge follows
 * the gas law, so its gauge drifts with the room's daily temperature cycle (±0.02 MPa); a rare,
 * seeded slow leak (0.03–0.15 MPa a day) starts at an exponentially distributed time. Water
 * gauges wander with the jockey pump's cycles.
 */
export class PressureSignal implements SignalModel<'extinguisher'> {
  readonly kind = 'extinguisher' as const;
  readonly medium: PressureMedium;
  readonly #ctx: SignalContext;
  readonly #nominal: number;
  readonly #roomOffset: number;
  readonly #battery0: number;
  readonly #signalBase: number;
  readonly #pumpPhase: number;
  /** When a natural slow leak starts (ms), and how fast it loses pressure (MPa/day). */
  readonly leak: { startMs: number; perDay: number } | undefined;

  constructor(ctx: SignalContext) {
    this.#ctx = ctx;
    this.medium = ctx.device.medium ?? 'dry_powder';
    const [lo, hi] = NOMINAL_PRESSURE_MPA[this.medium];
    this.#nominal = ctx.params.range(lo, hi);
    this.#roomOffset = ctx.params.range(-2, 2);
    this.#battery0 = ctx.params.range(70, 100);
    this.#signalBase = ctx.params.range(-95, -60);
    this.#pumpPhase = ctx.params.range(0, 2 * Math.PI);
    const leakIn = ctx.faults.exponential((365 * DAY_MS) / LEAKS_PER_YEAR);
    const perDay = ctx.faults.range(0.03, 0.15);
    this.leak =
      ctx.naturalFaults && this.medium === 'dry_powder' ? { startMs: ctx.startMs + leakIn, perDay } : undefined;
  }

  roomTemperature(atMs: number): number {
    return indoorTemperature(this.#ctx.tz.hourOfDay(atMs), this.#roomOffset);
  }

  /** Noise-free gauge pressure, MPa. */
  expectedPressure(atMs: number): number {
    let p: number;
    if (this.medium === 'dry_powder') {
      // Gas law on the absolute pressure of the nitrogen charge.
      const t = this.roomTemperature(atMs);
      p = (this.#nominal + ATM_MPA) * ((t + KELVIN) / (REFERENCE_C + KELVIN)) - ATM_MPA;
    } else {
      // Jockey pump keeps the network between cut-in and cut-out: a slow ±0.01 MPa wander.
      p = this.#nominal + 0.01 * Math.sin((2 * Math.PI * atMs) / (3 * 3_600_000) + this.#pumpPhase);
    }
    if (this.leak && atMs > this.leak.startMs) p -= (this.leak.perDay * (atMs - this.leak.startMs)) / DAY_MS;
    return Math.max(0, p);
  }

  sample(atMs: number): BodyOf<'extinguisher'> {
    const n = this.#ctx.noise;
    const pressure = round(clamp(this.expectedPressure(atMs) + 0.002 * n.gaussian(), 0, 10), 3);
    const tempNoise = n.gaussian();
    const signal = signalDbm(this.#signalBase, n);
    const body: BodyOf<'extinguisher'> = {
      kind: 'extinguisher',
      medium: this.medium,
      pressure,
      battery: batteryAt(this.#battery0, 0.5, this.#ctx.startMs, atMs),
      signal,
    };
    if (this.medium === 'dry_powder') body.temperature = round(this.roomTemperature(atMs) + 0.2 * tempNoise, 1);
    return body;
  }
}
