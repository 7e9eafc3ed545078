import { Worker } from 'node:worker_threads';
import type { IngestEvent } from '@anlian/protocol';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { AlertSignal } from '../engine/alert-signal.js';
import type { BulkLaneInit, FromBulkLane, ToBulkLane } from './bulk-lane-messages.js';

/**
 * The alarm lane apart from the bulk lane (issue 12): an alerting node reads the gateways'
 * messages on two broker sessions, and this is where they part for good.
 *
 * ```
 *  alarm thread (the node's main thread)              bulk lane thread (worker_threads)
 *  alarm session: events, status, cmd replies         bulk session: telemetry, heartbeats (10k msg/s)
 *  RuleEngine lane 'alarm': event rules               RuleEngine lane 'bulk': thresholds, durations,
 *  AlertingService: dedupe, leases, shadow,             rates of rise, absence, inhibition;
 *    drills, silences, escalation                       its own registry reads and saved state
 *  dispatcher (pushes), API, alert bus  ◀── signals ──  (small and rare)
 *                                        ── alarm-lane messages (presence, wills), closed keys ──▶
 * ```
 *
 * A fire alarm is parsed, evaluated and pushed on a thread whose event loop has nothing else to
 * do: it never waits behind the parsing and evaluation of bulk telemetry, the bulk engine's ticks
 * over 50k watched devices, its multi-MB state snapshots or its registry reloads — those run on
 * the other thread, with its own heap and garbage collector. The bulk lane's signals take the
 * same path as the alarm lane's (`AlertingService.signal`: one open alert per key, partitions,
 * the standby's shadow, drills, silences).
 *
 * `BulkLane` is what the service needs; `BulkLaneThread` runs it on a worker thread and restarts
 * a thread that dies (its persistent session hands over what the broker kept meanwhile); the
 * node's `/readyz` fails while the lane is down or stuck.
 */
export interface BulkLane {
  /** Starts the lane; `openKeys` are the alerts open now, `onSignals` gets the lane's signals. */
  start(o: { openKeys: () => string[]; onSignals: (signals: AlertSignal[]) => void }): Promise<void>;
  /** An alarm-lane message, after the alarm lane has handled it. */
  forward(input: IngestEvent): void;
  /** A person closed the alert `key`. */
  closed(key: string): void;
  stop(): Promise<void>;
}

export interface BulkLaneThreadOptions {
  init: BulkLaneInit;
  logger: Logger;
  metrics: Registry;
  /** The thread's module. Default the compiled `bulk-lane-worker.js`; tests wrap it. */
  entry?: URL;
  /** `start()` fails when the thread is not ready within this. Default 60 s. */
  startTimeoutMs?: number;
  /** The lane counts as stuck (not ready) when it has not said it is alive for this long. Default 10 s. */
  staleAfterMs?: number;
  /** First wait before restarting a dead thread; doubles up to 30 s while it keeps failing. Default 1 s. */
  restartMs?: number;
}

// From src/lane (vitest) and from dist/lane alike, this is the compiled worker.
const WORKER_URL = new URL('../../dist/lane/bulk-lane-worker.js', import.meta.url);

export class BulkLaneThread implements BulkLane {
  readonly #o: BulkLaneThreadOptions;
  readonly #log: Logger;
  #worker: Worker | undefined;
  #ready = false;
  #stopping = false;
  #hooks: { openKeys: () => string[]; onSignals: (signals: AlertSignal[]) => void } | undefined;
  #lastAlive = 0;
  #alive: Extract<FromBulkLane, { type: 'alive' }> | undefined;
  #counted = { messages: 0, rejected: 0 };
  #restartTimer: NodeJS.Timeout | undefined;
  #backoffMs: number;
  #deaths = 0;
  #stopped: (() => void) | undefined;
  readonly #m: { up: Gauge; restarts: Counter; messages: Counter; rejected: Counter };

  constructor(opts: BulkLaneThreadOptions) {
    this.#o = opts;
    this.#log = opts.logger.child({ module: 'bulk-lane' });
    this.#backoffMs = opts.restartMs ?? 1000;
    const registers = [opts.metrics];
    this.#m = {
      up: new Gauge({
        name: 'anlian_bulk_lane_up',
        help: '1 while the bulk lane thread runs and says it is alive',
        registers,
        collect: () => this.#m.up.set(this.health().ok ? 1 : 0),
      }),
      restarts: new Counter({
        name: 'anlian_bulk_lane_restarts_total',
        help: 'Bulk lane threads that died and were started again',
        registers,
      }),
      messages: new Counter({
        name: 'anlian_bulk_lane_messages_total',
        help: 'Telemetry and heartbeats the bulk lane thread took from the broker',
        registers,
      }),
      rejected: new Counter({
        name: 'anlian_bulk_lane_rejected_total',
        help: 'Bulk lane messages that did not decode against the contract',
        registers,
      }),
    };
  }

  async start(hooks: { openKeys: () => string[]; onSignals: (signals: AlertSignal[]) => void }): Promise<void> {
    this.#hooks = hooks;
    this.#stopping = false;
    try {
      await this.#spawn();
    } catch (err) {
      // The node does not start without its bulk lane (as without its broker session).
      this.#stopping = true;
      await this.#worker?.terminate();
      throw err;
    }
  }

  forward(input: IngestEvent): void {
    this.#send({ type: 'input', input });
  }

  closed(key: string): void {
    this.#send({ type: 'closed', key });
  }

  /** For `/readyz`: the thread is ready, and said it is alive and connected lately. */
  health(): { ok: boolean; detail: string } {
    if (!this.#ready) return { ok: false, detail: this.#stopping ? 'stopped' : 'bulk lane thread not running' };
    const silentMs = Date.now() - this.#lastAlive;
    if (silentMs > (this.#o.staleAfterMs ?? 10_000)) {
      return { ok: false, detail: `bulk lane thread silent for ${Math.round(silentMs / 1000)} s` };
    }
    const a = this.#alive;
    if (!a?.connected) return { ok: false, detail: `bulk lane: ${a?.feed ?? 'not connected'}` };
    return { ok: true, detail: `${a.feed}, ${a.messages} messages, restarts ${this.#deaths}` };
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#restartTimer);
    const w = this.#worker;
    if (!w) return;
    // The thread saves its engine state and closes its session; a stuck one is ended after 10 s.
    const done = new Promise<void>((resolve) => {
      this.#stopped = resolve;
    });
    w.postMessage({ type: 'stop' } satisfies ToBulkLane);
    const timer = setTimeout(() => this.#stopped?.(), 10_000);
    await done;
    clearTimeout(timer);
    this.#ready = false;
    this.#worker = undefined;
    await w.terminate();
    this.#log.info('bulk lane stopped');
  }

  #send(m: ToBulkLane): void {
    // While a dead thread is being replaced, its successor reads the broker's session from where
    // the dead one left it; forwarded presence in between is lost (it only delays an absence).
    this.#worker?.postMessage(m);
  }

  #spawn(): Promise<void> {
    const hooks = this.#hooks;
    if (!hooks) return Promise.reject(new Error('bulk lane not started'));
    const w = new Worker(this.#o.entry ?? WORKER_URL, { workerData: this.#o.init });
    this.#worker = w;
    this.#ready = false;
    this.#counted = { messages: 0, rejected: 0 };
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(
        () =>
          settle(
            new Error(
              `ANL_ERR_BULK_LANE: the bulk lane thread was not ready within ${this.#o.startTimeoutMs ?? 60_000} ms`,
            ),
          ),
        this.#o.startTimeoutMs ?? 60_000,
      );
      w.on('message', (m: FromBulkLane) => {
        switch (m.type) {
          case 'signals':
            hooks.onSignals(m.signals);
            return;
          case 'alive':
            this.#onAlive(m);
            return;
          case 'ready':
            this.#ready = true;
            this.#lastAlive = Date.now();
            this.#backoffMs = this.#o.restartMs ?? 1000;
            settle();
            return;
          case 'failed':
            settle(new Error(`ANL_ERR_BULK_LANE: ${m.error}`));
            void w.terminate();
            return;
          case 'stopped':
            this.#stopped?.();
            return;
          default: {
            const never: never = m;
            this.#log.warn({ message: never }, 'unknown message from the bulk lane');
          }
        }
      });
      w.on('error', (err) => this.#log.error({ err }, 'bulk lane thread failed'));
      w.on('exit', (code) => {
        if (this.#worker === w) {
          this.#worker = undefined;
          this.#ready = false;
        }
        this.#stopped?.();
        settle(new Error(`ANL_ERR_BULK_LANE: the bulk lane thread exited (${code}) before it was ready`));
        if (this.#stopping) return;
        // Loud, counted, and replaced: telemetry rules must not go quiet without anybody knowing.
        this.#deaths++;
        this.#m.restarts.inc();
        this.#log.error({ code, restartInMs: this.#backoffMs }, 'bulk lane thread died; starting another');
        this.#scheduleRestart();
      });
      w.postMessage({ type: 'start', openKeys: hooks.openKeys() } satisfies ToBulkLane);
    });
  }

  #scheduleRestart(): void {
    const wait = this.#backoffMs;
    this.#backoffMs = Math.min(30_000, wait * 2);
    this.#restartTimer = setTimeout(() => {
      if (this.#stopping) return;
      this.#spawn().then(
        () => this.#log.warn({ restarts: this.#deaths }, 'bulk lane thread running again'),
        (err: unknown) => this.#log.error({ err }, 'bulk lane thread did not start again; retrying'),
      );
    }, wait);
    this.#restartTimer.unref();
  }

  #onAlive(m: Extract<FromBulkLane, { type: 'alive' }>): void {
    this.#lastAlive = Date.now();
    this.#alive = m;
    // Counts since the thread started (`#spawn` starts them from zero).
    this.#m.messages.inc(m.messages - this.#counted.messages);
    this.#m.rejected.inc(m.rejected - this.#counted.rejected);
    this.#counted = { messages: m.messages, rejected: m.rejected };
  }
}
