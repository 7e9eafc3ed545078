import { type BodyOf, clamp, indoorTemperature, round, type SignalContext, type SignalModel } from './signal-model.js';

const DAY_MS = 86_400_000;
// Insulation that degrades into a real leak: rare, but a county of a few hundred circuits sees some.
const DEGRADATIONS_PER_YEAR = 0.05;

/** A circuit's load over the day, 0.2 … 1: low at night, peaks at meal times and in the evening. */
function loadFactor(hour: number): number {
  const peak = (center: number, width: number) => Math.exp(-(((hour - center) / width) ** 2));
  return clamp(0.2 + 0.5 * peak(7, 1.5) + 0.6 * peak(11.5, 1.5) + 0.8 * peak(18.5, 2.5), 0.2, 1);
}

/**
 * A monitored circuit of an electrical fire monitoring system (GB 14287): residual current with
 * the natural leakage of a healthy installation (100–200 mA, DOMAIN.md; rises a little with load)
 * and a cable temperature of the room's plus the load's heating (a few °C at night, 10–20 °C at
 * the evening peak). A rare, seeded insulation degradation adds leakage slowly, day by day, until
 * the 300 mA alarm is crossed. Wired devices: no battery, no radio.
 */
export class ElectricalSignal implements SignalModel<'electrical'> {
  readonly kind = 'electrical' as const;
  readonly #ctx: SignalContext;
  readonly #leakMa: number;
  readonly #heatingC: number;
  readonly #roomOffset: number;
  /** When a natural degradation starts (ms) and how much leakage it adds a day (mA). */
  readonly degradation: { startMs: number; perDayMa: number } | undefined;

  constructor(ctx: SignalContext) {
    this.#ctx = ctx;
    this.#leakMa = ctx.params.range(100, 200);
    this.#heatingC = ctx.params.range(8, 18);
    this.#roomOffset = ctx.params.range(-1, 3);
    const startIn = ctx.faults.exponential((365 * DAY_MS) / DEGRADATIONS_PER_YEAR);
    const perDayMa = ctx.faults.range(10, 40);
    this.degradation = ctx.naturalFaults ? { startMs: ctx.startMs + startIn, perDayMa } : undefined;
  }

  /** Noise-free residual current, mA. */
  expectedResidualCurrent(atMs: number): number {
    const load = loadFactor(this.#ctx.tz.hourOfDay(atMs));
    let ma = this.#leakMa * (0.85 + 0.2 * load);
    if (this.degradation && atMs > this.degradation.startMs) {
      ma += (this.degradation.perDayMa * (atMs - this.degradation.startMs)) / DAY_MS;
    }
    return ma;
  }

  /** Noise-free cable temperature, °C. */
  expectedCableTemperature(atMs: number): number {
    const hour = this.#ctx.tz.hourOfDay(atMs);
    return indoorTemperature(hour, this.#roomOffset) + this.#heatingC * loadFactor(hour) ** 2;
  }

  sample(atMs: number): BodyOf<'electrical'> {
    const n = this.#ctx.noise;
    return {
      kind: 'electrical',
      residualCurrent: Math.round(clamp(this.expectedResidualCurrent(atMs) + 4 * n.gaussian(), 0, 100_000)),
      cableTemperature: round(this.expectedCableTemperature(atMs) + 0.3 * n.gaussian(), 1),
    };
  }
}
