import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import type { GatewayAddress } from '@anlian/protocol';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { AlarmOutput, LocalAlarmConfig } from '../config/gateway-config.js';

/** A fire alarm as the local outputs see it. */
export interface LocalFireAlarm {
  device: string;
  zone?: string | undefined;
  /** Device time of the alarm. */
  ts: number;
  seq: number;
  /** Why it sounds locally. */
  reason: 'uplink-down' | 'not-acknowledged';
  /** The drill running when it happened, if any. */
  drill?: string | undefined;
}

export interface LocalAlarmOptions {
  config: LocalAlarmConfig;
  address: GatewayAddress;
  clock: Clock;
  logger: Logger;
  /** Is the county link up right now? */
  uplinkUp: () => boolean;
  /** The drill in progress, if any. */
  drill: () => string | undefined;
}

/**
 * The institution's own alarm when the county cannot hear it: a fire alarm raised while the
 * uplink is down — or not acknowledged by the county within `unackedAfterMs` — runs every
 * configured output (a command, a webhook, a GPIO line) and is logged. Outputs run side by side
 * and each failure is logged on its own: one broken siren must not silence the others.
 */
export class LocalAlarm {
  readonly #o: LocalAlarmOptions;
  readonly #log: Logger;
  #config: LocalAlarmConfig;
  /** Fire alarms waiting for the county's PUBACK: queue id → cancel the deadline. */
  readonly #pending = new Map<number, () => void>();
  readonly #lastByDevice = new Map<string, number>();
  readonly #listeners = new Set<(a: LocalFireAlarm) => void>();
  readonly #running = new Set<Promise<void>>();
  #triggered = 0;

  constructor(opts: LocalAlarmOptions) {
    this.#o = opts;
    this.#config = opts.config;
    this.#log = opts.logger.child({ module: 'local-alarm' });
  }

  get triggered(): number {
    return this.#triggered;
  }

  reconfigure(config: LocalAlarmConfig): void {
    this.#config = config;
  }

  onTrigger(listener: (a: LocalFireAlarm) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** A fire alarm was queued (`queueId`) for the county. */
  fireAlarmQueued(queueId: number, alarm: Omit<LocalFireAlarm, 'reason' | 'drill'>): void {
    if (!this.#o.uplinkUp()) {
      this.#trigger({ ...alarm, reason: 'uplink-down' });
      return;
    }
    const cancel = this.#o.clock.setTimeout(() => {
      this.#pending.delete(queueId);
      this.#trigger({ ...alarm, reason: 'not-acknowledged' });
    }, this.#config.unackedAfterMs);
    this.#pending.set(queueId, cancel);
  }

  /** The county acknowledged the fire alarm `queueId`. */
  acknowledged(queueId: number): void {
    const cancel = this.#pending.get(queueId);
    if (!cancel) return;
    cancel();
    this.#pending.delete(queueId);
  }

  /** Cancels the deadlines and waits for outputs still running. */
  async stop(): Promise<void> {
    for (const cancel of this.#pending.values()) cancel();
    this.#pending.clear();
    await Promise.allSettled([...this.#running]);
  }

  #trigger(a: Omit<LocalFireAlarm, 'drill'>): void {
    const now = this.#o.clock.now();
    const last = this.#lastByDevice.get(a.device);
    const drill = this.#o.drill();
    const alarm: LocalFireAlarm = { ...a, ...(drill ? { drill } : {}) };
    if (last !== undefined && now - last < this.#config.repeatAfterMs) {
      this.#log.warn(
        { ...alarm },
        'fire alarm while the county cannot hear it (local outputs already running for this device)',
      );
      return;
    }
    this.#lastByDevice.set(a.device, now);
    this.#triggered++;
    this.#log.error(
      { ...alarm, outputs: this.#config.outputs.length },
      'FIRE ALARM while the county cannot hear it: local alarm outputs triggered',
    );
    for (const l of this.#listeners) l(alarm);
    for (const output of this.#config.outputs) {
      const run = this.#run(output, alarm).catch((err: unknown) => {
        this.#log.error({ err, output: output.type, device: alarm.device }, 'local alarm output failed');
      });
      this.#running.add(run);
      void run.finally(() => this.#running.delete(run));
    }
  }

  async #run(output: AlarmOutput, a: LocalFireAlarm): Promise<void> {
    const { address } = this.#o;
    switch (output.type) {
      case 'command': {
        const env = {
          ...process.env,
          ANLIAN_ALARM_COUNTY: address.county,
          ANLIAN_ALARM_INSTITUTION: address.institution,
          ANLIAN_ALARM_GATEWAY: address.gateway,
          ANLIAN_ALARM_DEVICE: a.device,
          ANLIAN_ALARM_ZONE: a.zone ?? '',
          ANLIAN_ALARM_TS: String(a.ts),
          ANLIAN_ALARM_REASON: a.reason,
          ANLIAN_ALARM_DRILL: a.drill ?? '',
        };
        await new Promise<void>((resolve, reject) => {
          const child = spawn(output.command, output.args, { env, stdio: 'ignore', timeout: output.timeoutMs });
          child.once('error', reject);
          child.once('exit', (code, signal) => {
            if (code === 0) resolve();
            else reject(new Error(`${output.command} exited with ${code ?? signal}`));
          });
        });
        this.#log.info({ command: output.command, device: a.device }, 'local alarm command ran');
        return;
      }
      case 'webhook': {
        const res = await fetch(output.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ ...address, ...a, event: 'fire' }),
          signal: AbortSignal.timeout(output.timeoutMs),
        });
        if (!res.ok) throw new Error(`webhook ${output.url} answered ${res.status}`);
        this.#log.info({ url: output.url, device: a.device }, 'local alarm webhook called');
        return;
      }
      case 'gpio':
        await writeFile(output.path, output.value);
        this.#log.info({ path: output.path, device: a.device }, 'local alarm GPIO set');
        return;
      default: {
        const never: never = output;
        throw new Error(`unknown alarm output ${(never as { type: string }).type}`);
      }
    }
  }
}
