import { type BodyOf, clamp, round, type SignalContext, type SignalModel } from './signal-model.js';

const DAY_MS = 86_400_000;
// A healthy IP camera loses its stream now and then (network, NVR restarts): about once a month.
const DROPOUT_MEAN_INTERVAL_MS = 30 * DAY_MS;

/**
 * Camera health as the gateway's ONVIF + ffprobe checks see it: online, stream OK, ~25 fps,
 * variable bitrate (higher at night: IR noise), 1920×1080, with rare short stream drop-outs.
 */
export class CameraSignal implements SignalModel<'camera'> {
  readonly kind = 'camera' as const;
  readonly #ctx: SignalContext;
  readonly #bitrate: number;
  #dropStart: number;
  #dropEnd: number;

  constructor(ctx: SignalContext) {
    this.#ctx = ctx;
    this.#bitrate = ctx.params.range(1800, 2400);
    this.#dropStart = Number.POSITIVE_INFINITY;
    this.#dropEnd = Number.POSITIVE_INFINITY;
    if (ctx.naturalFaults) this.#scheduleDropout(ctx.startMs);
  }

  /** The natural drop-out in force at `atMs`, if any: `[start, end)`. */
  dropoutAt(atMs: number): readonly [number, number] | undefined {
    // The schedule only moves forward, drawing from its own stream: the same whatever was sampled.
    while (atMs >= this.#dropEnd) this.#scheduleDropout(this.#dropEnd);
    return atMs >= this.#dropStart ? [this.#dropStart, this.#dropEnd] : undefined;
  }

  #scheduleDropout(fromMs: number): void {
    const f = this.#ctx.faults;
    this.#dropStart = fromMs + f.exponential(DROPOUT_MEAN_INTERVAL_MS);
    this.#dropEnd = this.#dropStart + f.range(60_000, 8 * 60_000);
  }

  sample(atMs: number): BodyOf<'camera'> {
    const n = this.#ctx.noise;
    const fpsNoise = n.gaussian();
    const rateNoise = n.gaussian();
    const frameLag = n.int(20, 120);
    const drop = this.dropoutAt(atMs);
    if (drop) {
      return {
        kind: 'camera',
        online: true,
        streamOk: false,
        fps: 0,
        bitrateKbps: 0,
        width: 1920,
        height: 1080,
        frozen: false,
        black: false,
        lastFrameTs: Math.round(drop[0]),
      };
    }
    const hour = this.#ctx.tz.hourOfDay(atMs);
    const night = hour < 6 || hour >= 19 ? 1.2 : 1;
    return {
      kind: 'camera',
      online: true,
      streamOk: true,
      fps: round(clamp(25 + 0.15 * fpsNoise, 23, 25.5), 1),
      bitrateKbps: Math.round(this.#bitrate * night * (1 + 0.05 * rateNoise)),
      width: 1920,
      height: 1080,
      frozen: false,
      black: false,
      lastFrameTs: atMs - frameLag,
    };
  }
}
