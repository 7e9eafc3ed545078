import type { DeviceConfig, DeviceKind, TelemetryPayload } from '@anlian/protocol';
import type { Prng } from '../prng.js';
import type { TimeZoneClock } from '../time-zone.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A telemetry payload without its envelope (`v`, `ts`, `seq`), which the gateway adds. */
export type TelemetryBody = DistributiveOmit<TelemetryPayload, 'v' | 'ts' | 'seq'>;
export type BodyOf<K extends DeviceKind> = Extract<TelemetryBody, { kind: K }>;

/** What a model needs to know about the world: the clock's zone and its own random streams. */
export interface SignalContext {
  device: DeviceConfig;
  tz: TimeZoneClock;
  /** The run's seed and this device's path, for stateless per-day draws. */
  seed: number;
  path: string;
  /** Device parameters: drawn once when the model is built. */
  params: Prng;
  /** Measurement noise: a fixed number of draws per sample, whatever the values. */
  noise: Prng;
  /** Natural faults (slow leaks, stream drop-outs): their own stream so they never shift the noise. */
  faults: Prng;
  startMs: number;
  naturalFaults: boolean;
}

/** One device's signal: a reading at any simulated instant. */
export interface SignalModel<K extends DeviceKind = DeviceKind> {
  readonly kind: K;
  sample(atMs: number): BodyOf<K>;
}

export const round = (x: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

export const clamp = (x: number, min: number, max: number): number => Math.min(max, Math.max(min, x));

const TWO_PI = 2 * Math.PI;

/** A daily sine: `mean ± amplitude`, highest at `peakHour` local time. */
export function diurnal(hour: number, mean: number, amplitude: number, peakHour: number): number {
  return mean + amplitude * Math.cos((TWO_PI * (hour - peakHour)) / 24);
}

/** Indoor temperature of an ordinary room (°C): 18–24, warmest mid-afternoon. */
export function indoorTemperature(hour: number, offset: number): number {
  return diurnal(hour, 21 + offset, 2.5, 15);
}

/** A rechargeable-free sensor's battery: starts at `initial`, loses `perMonth` percent a month. */
export function batteryAt(initial: number, perMonth: number, startMs: number, atMs: number): number {
  const months = (atMs - startMs) / (30 * 86_400_000);
  return clamp(Math.floor(initial - perMonth * months), 0, 100);
}

/** A radio link: the device's base level with a little fading noise, whole dBm. */
export function signalDbm(base: number, noise: Prng): number {
  return Math.round(clamp(base + 2.5 * noise.gaussian(), -120, -30));
}
