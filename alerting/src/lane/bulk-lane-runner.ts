import { CountyFeed } from '@anlian/bus';
import type { IngestEvent } from '@anlian/protocol';
import { type OpenedDatabase, openDatabase } from '@anlian/store';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import type { AlertSignal } from '../engine/alert-signal.js';
import { RuleEngine } from '../engine/rule-engine.js';
import { AlertingDirectory } from '../service/alerting-directory.js';
import { AlertStore } from '../store/alert-store.js';
import type { AlertingDatabase } from '../store/alerting-schema.js';
import type { BulkLaneInit, FromBulkLane, ToBulkLane } from './bulk-lane-messages.js';

/**
 * The bulk lane, run on its own thread (`bulk-lane-worker.ts`; why: `bulk-lane.ts`): the node's
 * persistent bulk session (telemetry, heartbeats), their parsing, and the rules they drive —
 * thresholds, durations, rates of rise, device and gateway absence, inhibition — in a rule engine
 * of its own (`lane: 'bulk'`), with its own registry reads and its own saved state. It posts only
 * the resulting alert signals to the alarm thread.
 */
export class BulkLaneRunner {
  readonly #init: BulkLaneInit;
  readonly #post: (m: FromBulkLane) => void;
  readonly #log: Logger;
  readonly #metrics = new Registry();
  #database: OpenedDatabase | undefined;
  #store: AlertStore | undefined;
  #directory: AlertingDirectory | undefined;
  #engine: RuleEngine | undefined;
  #feed: CountyFeed | undefined;
  #timers: NodeJS.Timeout[] = [];
  /** Alarm-lane messages that came before the state was restored: applied after it. */
  #early: IngestEvent[] | undefined = [];
  #dirty = false;
  #messages = 0;
  #stopping: Promise<void> | undefined;

  constructor(init: BulkLaneInit, post: (m: FromBulkLane) => void, logger: Logger) {
    this.#init = init;
    this.#post = post;
    this.#log = logger.child({ module: 'bulk-lane' });
  }

  /** What the alarm thread says; never throws (a failure is posted or logged). */
  receive(m: ToBulkLane): void {
    switch (m.type) {
      case 'start':
        this.#start(m.openKeys).then(
          () => this.#post({ type: 'ready' }),
          (err: unknown) => {
            this.#log.error({ err }, 'bulk lane did not start');
            this.#post({ type: 'failed', error: err instanceof Error ? err.message : String(err) });
          },
        );
        return;
      case 'input':
        if (this.#early) this.#early.push(m.input);
        else this.#handle(m.input);
        return;
      case 'closed':
        if (this.#engine?.closed(m.key)) this.#dirty = true;
        return;
      case 'stop':
        void this.stop().then(() => this.#post({ type: 'stopped' }));
        return;
      default: {
        const never: never = m;
        this.#log.warn({ message: never }, 'unknown message to the bulk lane');
      }
    }
  }

  async #start(openKeys: readonly string[]): Promise<void> {
    const init = this.#init;
    const database = openDatabase({
      ...(init.store.dbUrl ? { url: init.store.dbUrl } : { sqlitePath: init.store.sqlitePath }),
      logger: this.#log,
    });
    this.#database = database;
    const db = database.db as unknown as Kysely<AlertingDatabase>;
    const store = new AlertStore(db);
    this.#store = store;
    const directory = new AlertingDirectory(db);
    this.#directory = directory;
    await directory.refresh();
    const engine = new RuleEngine({ rules: init.rules, devices: directory.device, clock: Date.now, lane: 'bulk' });
    this.#engine = engine;
    const now = Date.now();
    let saved = await store.loadState(init.stateName);
    if (saved === undefined && init.legacyStateName) {
      // The first start after the split: the one engine's state holds this lane's half too.
      saved = await store.loadState(init.legacyStateName);
      this.#dirty = saved !== undefined;
    }
    if (saved !== undefined) {
      try {
        engine.restore(saved, now);
      } catch (err) {
        this.#log.error({ err }, 'bulk lane engine state could not be restored; starting it fresh');
      }
    }
    engine.watch(directory.devices(), now);
    // The store (as the alarm thread holds it) is the record of which alerts are open.
    const open = new Set(openKeys);
    for (const a of engine.openAlerts()) if (!open.has(a.key)) engine.closed(a.key);
    for (const input of this.#early ?? []) this.#handle(input);
    this.#early = undefined;

    const feed = new CountyFeed({
      broker: init.broker,
      lanes: ['bulk'],
      persistent: true,
      ...(init.sessionExpirySeconds !== undefined ? { sessionExpirySeconds: init.sessionExpirySeconds } : {}),
      logger: this.#log,
      metrics: this.#metrics,
    });
    feed.onEvent((e) => {
      this.#messages++;
      this.#handle(e);
    });
    this.#feed = feed;
    await feed.start();
    this.#every(init.tickMs, () => this.#emit(engine.tick(Date.now())));
    this.#every(init.snapshotMs, () => void this.#save(false));
    this.#every(init.directoryRefreshMs, () => void this.#refresh());
    this.#every(1000, () => void this.#alive());
    void this.#alive();
    this.#log.info({ devices: directory.counts.devices, state: init.stateName }, 'bulk lane started');
  }

  #handle(input: IngestEvent): void {
    const engine = this.#engine;
    if (!engine) return;
    try {
      this.#emit(engine.handle(input));
    } catch (err) {
      this.#log.error({ err, type: input.type, gateway: input.gateway }, 'rule engine failed on a message');
    }
  }

  #emit(signals: AlertSignal[]): void {
    if (signals.length === 0) return;
    this.#dirty = true;
    this.#post({ type: 'signals', signals });
  }

  async #alive(): Promise<void> {
    const feed = this.#feed;
    if (!feed) return;
    const rejected = await this.#metrics.getSingleMetric('anlian_feed_rejected_total')?.get();
    const count = rejected?.values.reduce((sum, v) => sum + v.value, 0) ?? 0;
    this.#post({
      type: 'alive',
      connected: feed.connected(),
      feed: feed.describe(),
      messages: this.#messages,
      rejected: count,
    });
  }

  async #save(force: boolean): Promise<void> {
    const engine = this.#engine;
    const store = this.#store;
    if (!engine || !store || (!force && !this.#dirty)) return;
    this.#dirty = false;
    const now = Date.now();
    try {
      await store.saveState(this.#init.stateName, await engine.snapshotJson(now), now);
    } catch (err) {
      this.#dirty = true;
      this.#log.warn({ err }, 'bulk lane engine state not saved; will try again');
    }
  }

  async #refresh(): Promise<void> {
    try {
      if (await this.#directory?.refresh()) this.#engine?.watch(this.#directory?.devices() ?? [], Date.now());
    } catch (err) {
      this.#log.warn({ err }, 'registry reload for the bulk lane failed; keeping the previous one');
    }
  }

  #every(ms: number, fn: () => void): void {
    this.#timers.push(setInterval(fn, ms));
  }

  /** Unsubscribes, saves the engine's state, closes the store. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      for (const t of this.#timers.splice(0)) clearInterval(t);
      await this.#feed?.stop();
      await this.#save(true);
      await this.#database?.close();
      this.#log.info('bulk lane stopped');
    })();
    return this.#stopping;
  }
}
