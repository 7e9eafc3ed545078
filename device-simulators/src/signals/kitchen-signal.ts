import { hashUnit } from '../prng.js';
import { type BodyOf, clamp, diurnal, round, type SignalContext, type SignalModel } from './signal-model.js';

/** A meal: when cooking peaks (local hour), how hot the hob area gets above ambient (°C). */
interface Meal {
  center: number;
  amplitude: number;
}

// Canteens of elder-care homes cook early: breakfast ~6–7, lunch ~11–12, dinner ~17–18.
const MEALS: readonly Meal[] = [
  { center: 6.5, amplitude: 9 },
  { center: 11.5, amplitude: 13 },
  { center: 17.5, amplitude: 11 },
];
/** Half-width of a cooking bump in hours: warm-up and cool-down around the meal. */
const HALF_WIDTH_H = 0.8;

/** Raised-cosine bump: 1 at `center`, 0 beyond ± `HALF_WIDTH_H`. */
function bump(hour: number, center: number): number {
  const d = Math.abs(hour - center);
  return d >= HALF_WIDTH_H ? 0 : 0.5 * (1 + Math.cos((Math.PI * d) / HALF_WIDTH_H));
}

/** True for a kitchen sensor that also measures combustible gas. */
export function hasGasSensor(ctx: Pick<SignalContext, 'device'>): boolean {
  return /gas/i.test(ctx.device.id) || ctx.device.name.includes('燃气');
}

/**
 * Kitchen temperature: an ambient daily cycle (~18–28 °C) plus cooking peaks at meal times that
 * vary a little from day to day, normally staying well under 45 °C (GB 4716 A1: typical 25 °C,
 * max application 50 °C). Sensors away from the hob (`factor` < 1) see less of the heat.
 */
export class KitchenProfile {
  readonly #offset: number;
  readonly #factor: number;
  readonly #ctx: SignalContext;

  constructor(ctx: SignalContext, factor: number) {
    this.#ctx = ctx;
    this.#offset = ctx.params.range(-1.5, 1.5);
    this.#factor = factor;
  }

  /** Ambient part, °C. */
  ambient(atMs: number): number {
    return diurnal(this.#ctx.tz.hourOfDay(atMs), 23 + this.#offset, 3.5, 15);
  }

  /** 0 … ~1.1: how much cooking is going on (per-day variation included). */
  cooking(atMs: number): number {
    const hour = this.#ctx.tz.hourOfDay(atMs);
    let heat = 0;
    let day: number | undefined;
    for (let i = 0; i < MEALS.length; i++) {
      const meal = MEALS[i] as Meal;
      if (Math.abs(hour - meal.center) >= HALF_WIDTH_H + 0.2) continue;
      day ??= this.#ctx.tz.dayNumber(atMs);
      // Stateless per-day draws: the same day looks the same whatever was sampled before.
      const scale = 0.9 + 0.2 * hashUnit(this.#ctx.seed, `${this.#ctx.path}#meal${i}@${day}`);
      const shift = (hashUnit(this.#ctx.seed, `${this.#ctx.path}#shift${i}@${day}`) - 0.5) * 0.3;
      heat += (meal.amplitude / 13) * scale * bump(hour, meal.center + shift);
    }
    return heat;
  }

  /** Noise-free temperature, °C. */
  expected(atMs: number): number {
    return this.ambient(atMs) + 13 * this.#factor * this.cooking(atMs);
  }
}

export class KitchenSignal implements SignalModel<'kitchen'> {
  readonly kind = 'kitchen' as const;
  readonly profile: KitchenProfile;
  readonly #ctx: SignalContext;
  readonly #gas: boolean;
  readonly #gasBase: number;

  constructor(ctx: SignalContext) {
    this.#ctx = ctx;
    this.#gas = hasGasSensor(ctx);
    // A combined gas/temperature detector hangs away from the hob and sees less of the heat.
    this.profile = new KitchenProfile(ctx, this.#gas ? ctx.params.range(0.55, 0.7) : ctx.params.range(0.8, 1));
    this.#gasBase = ctx.params.range(0.2, 1);
  }

  expectedTemperature(atMs: number): number {
    return this.profile.expected(atMs);
  }

  sample(atMs: number): BodyOf<'kitchen'> {
    const n = this.#ctx.noise;
    const temperature = round(this.profile.expected(atMs) + 0.35 * n.gaussian(), 1);
    const gasNoise = Math.abs(n.gaussian());
    if (!this.#gas) return { kind: 'kitchen', temperature };
    // Background combustible gas near a working hob: a few % LEL at most (GB 15322 alarms at 25 %).
    const gasLel = round(clamp(this.#gasBase + this.profile.cooking(atMs) + 0.3 * gasNoise, 0, 3), 1);
    return { kind: 'kitchen', temperature, gasLel };
  }
}
