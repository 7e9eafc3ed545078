import { KitchenProfile } from './kitchen-signal.js';
import {
  type BodyOf,
  batteryAt,
  indoorTemperature,
  round,
  type SignalContext,
  type SignalModel,
  signalDbm,
} from './signal-model.js';

/** Heat detectors (感温探测器) report a temperature; smoke detectors do not. */
export function isHeatDetector(ctx: Pick<SignalContext, 'device'>): boolean {
  return /heat/i.test(ctx.device.id) || ctx.device.name.includes('感温');
}

/**
 * A wireless smoke or heat detector's periodic heartbeat: battery decaying over months, radio
 * level with fading noise, and for heat detectors the ceiling temperature (a kitchen's detectors
 * see a damped copy of the cooking peaks).
 */
export class FireDetectorSignal implements SignalModel<'fire'> {
  readonly kind = 'fire' as const;
  readonly heat: boolean;
  readonly #ctx: SignalContext;
  readonly #battery0: number;
  readonly #batteryPerMonth: number;
  readonly #signalBase: number;
  readonly #kitchen: KitchenProfile | undefined;
  readonly #roomOffset: number;

  constructor(ctx: SignalContext) {
    this.#ctx = ctx;
    this.heat = isHeatDetector(ctx);
    this.#battery0 = ctx.params.range(55, 100);
    // Lithium cells in NB-IoT/LoRa detectors last years: about 0.7–1.5 % a month.
    this.#batteryPerMonth = ctx.params.range(0.7, 1.5);
    this.#signalBase = ctx.params.range(-95, -55);
    this.#roomOffset = ctx.params.range(-1.5, 1.5);
    const inKitchen = ctx.device.location.room.includes('厨房') || /kitchen/i.test(ctx.device.id);
    this.#kitchen = this.heat && inKitchen ? new KitchenProfile(ctx, ctx.params.range(0.4, 0.6)) : undefined;
  }

  /** Noise-free ceiling temperature for a heat detector, °C. */
  expectedTemperature(atMs: number): number {
    return this.#kitchen
      ? this.#kitchen.expected(atMs)
      : indoorTemperature(this.#ctx.tz.hourOfDay(atMs), this.#roomOffset);
  }

  sample(atMs: number): BodyOf<'fire'> {
    const n = this.#ctx.noise;
    const signal = signalDbm(this.#signalBase, n);
    const tempNoise = n.gaussian();
    const body: BodyOf<'fire'> = {
      kind: 'fire',
      battery: batteryAt(this.#battery0, this.#batteryPerMonth, this.#ctx.startMs, atMs),
      signal,
    };
    if (this.heat) body.temperature = round(this.expectedTemperature(atMs) + 0.3 * tempNoise, 1);
    return body;
  }
}
