import type { DeviceConfig } from '@anlian/protocol';
import { Prng } from '../prng.js';
import type { TimeZoneClock } from '../time-zone.js';
import { CameraSignal } from './camera-signal.js';
import { ElectricalSignal } from './electrical-signal.js';
import { FireDetectorSignal } from './fire-detector-signal.js';
import { KitchenSignal } from './kitchen-signal.js';
import { PressureSignal } from './pressure-signal.js';

export type AnySignal = FireDetectorSignal | PressureSignal | KitchenSignal | CameraSignal | ElectricalSignal;

/**
 * The signal model for a device, with its three random streams derived from the run's seed and
 * the device's path: parameters, noise and natural faults never share a stream.
 */
export function createSignal(opts: {
  device: DeviceConfig;
  path: string;
  seed: number;
  tz: TimeZoneClock;
  startMs: number;
  naturalFaults: boolean;
}): AnySignal {
  const ctx = {
    ...opts,
    params: Prng.for(opts.seed, `${opts.path}#params`),
    noise: Prng.for(opts.seed, `${opts.path}#noise`),
    faults: Prng.for(opts.seed, `${opts.path}#faults`),
  };
  switch (opts.device.kind) {
    case 'fire':
      return new FireDetectorSignal(ctx);
    case 'extinguisher':
      return new PressureSignal(ctx);
    case 'kitchen':
      return new KitchenSignal(ctx);
    case 'camera':
      return new CameraSignal(ctx);
    case 'electrical':
      return new ElectricalSignal(ctx);
    default: {
      const never: never = opts.device.kind;
      throw new TypeError(`unknown device kind ${String(never)}`);
    }
  }
}
