import { readFileSync } from 'node:fs';
import { type GatewayAddress, isFireAlarm, topics } from '@anlian/protocol';
import { createAdapter } from './adapters/create-adapter.js';
import type { AdapterDeps, DeviceAdapter } from './adapters/device-adapter.js';
import type { DeviceReading, ReadingSink, SubmitOutcome } from './adapters/device-reading.js';
import { canDutyCheck } from './adapters/duty-check.js';
import { LocalAlarm } from './alarm/local-alarm.js';
import { type Clock, systemClock } from './clock.js';
import { countyCommands } from './commands/county-commands.js';
import { type Drill, DrillMode } from './commands/drill-mode.js';
import type { AdapterConfig, DeviceEntry, GatewayConfig } from './config/gateway-config.js';
import { GatewayError } from './errors.js';
import { HeartbeatPublisher } from './heartbeat-publisher.js';
import type { Logger } from './logger.js';
import { DataDirLock } from './queue/data-dir-lock.js';
import { type MessageClass, OutboundQueue } from './queue/outbound-queue.js';
import { SequenceCounter } from './queue/sequence-counter.js';
import { ReadingNormalizer } from './reading-normalizer.js';
import { type CommandOutcome, CountyUplink, type CountyUplinkOptions } from './uplink/county-uplink.js';
import { ReplayPump } from './uplink/replay-pump.js';
import { TokenBucket } from './uplink/token-bucket.js';

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string })
  .version;

export interface GatewayDeps {
  config: GatewayConfig;
  logger: Logger;
  /** Device time and its timers; default the system clock. */
  clock?: Clock;
  /** Reads the configuration again for a reload (SIGHUP, `cmd/reload`). Without it, reload re-applies the current one. */
  loadConfig?: () => Promise<GatewayConfig>;
  /** Builds an adapter from its configuration; default {@link createAdapter}. */
  createAdapter?: (config: AdapterConfig, deps: AdapterDeps) => DeviceAdapter | Promise<DeviceAdapter>;
  /** mqtt.js `connect`, for tests. */
  connect?: CountyUplinkOptions['connect'];
}

export interface GatewayStats {
  uplink: ReturnType<CountyUplink['stats']>;
  queue: ReturnType<OutboundQueue['stats']>;
  replay: { sent: number; acked: number; inflight: number };
  readings: { queued: number; thinned: number; rejected: Record<string, number> };
  adapters: ReturnType<DeviceAdapter['health']>[];
  localAlarms: number;
  drill?: Drill | undefined;
  nextSeq: number;
}

export interface Gateway extends ReadingSink {
  readonly address: GatewayAddress;
  readonly queue: OutboundQueue;
  readonly uplink: CountyUplink;
  readonly alarm: LocalAlarm;
  readonly drill: DrillMode;
  readonly config: GatewayConfig;
  adapters(): readonly DeviceAdapter[];
  start(): Promise<void>;
  /** Graceful stop: adapters first, in-flight messages settle, `offline`, queue closed. Nothing queued is lost. */
  stop(): Promise<void>;
  /** Re-reads and applies the configuration; the queue and the link's session are kept. */
  reload(): Promise<CommandOutcome>;
  stats(): GatewayStats;
}

const deviceMap = (devices: readonly DeviceEntry[]) => new Map(devices.map((d) => [d.id, d]));
const CLASS_OF_EVENT = (payload: Parameters<typeof isFireAlarm>[0]): MessageClass =>
  isFireAlarm(payload) ? 'alarm' : 'event';

/**
 * Wires a gateway without starting it (CONVENTIONS.md §2): durable queue, county uplink with
 * the replay pump, heartbeat, local alarm, county commands and the device adapters. `main.ts`
 * reads the configuration file and handles signals; tests call this.
 */
export function buildGateway(deps: GatewayDeps): Gateway {
  let config = deps.config;
  const clock = deps.clock ?? systemClock;
  const log = deps.logger.child({ module: 'gateway' });
  const address: GatewayAddress = {
    county: config.gateway.county,
    institution: config.gateway.institution,
    gateway: config.gateway.id,
  };
  const lock = new DataDirLock(config.dataDir);
  const seq = new SequenceCounter({ dir: config.dataDir, logger: deps.logger.child({ module: 'seq' }) });
  const queue = new OutboundQueue({ dir: `${config.dataDir}/queue`, config: config.queue, logger: deps.logger });
  const bucket = new TokenBucket({
    ratePerS: config.replay.ratePerS,
    burst: config.replay.burst ?? Math.ceil(config.replay.ratePerS),
  });
  const pump = new ReplayPump({ queue, bucket, inflight: config.replay.inflight, logger: deps.logger });
  const drill = new DrillMode();
  const normalizer = new ReadingNormalizer(deviceMap(config.devices));
  let devices = deviceMap(config.devices);
  let adapters: DeviceAdapter[] = [];
  /** Fire alarms not yet acknowledged by the county, by queue id: what the adapters' `acknowledged` waits on. */
  const alarmAcks = new Map<number, () => void>();
  const readings = { queued: 0, thinned: 0, rejected: new Map<string, number>() };
  const startedAt = clock.now();
  let started = false;
  let reloading: Promise<CommandOutcome> = Promise.resolve({ ok: true });

  // Assigned below; the uplink's command handler and the alarm refer to each other through the gateway.
  let gateway: Gateway;

  const uplink = new CountyUplink({
    address,
    link: config.county,
    seq,
    clock,
    logger: deps.logger,
    ...(deps.connect ? { connect: deps.connect } : {}),
    onCommand: countyCommands({
      reload: () => gateway.reload(),
      drill,
      clock,
      snapshot: () => ({ ...gateway.stats() }),
      dutyCheck: (request) => {
        const able = adapters.filter(canDutyCheck);
        if (able.length === 0) return undefined;
        return Promise.all(able.map((a) => a.dutyCheck(request))).then((r) => r.flat());
      },
    }),
  });
  const alarm = new LocalAlarm({
    config: config.alarm,
    address,
    clock,
    logger: deps.logger,
    uplinkUp: () => uplink.connected,
    drill: () => drill.current(clock.now())?.id,
  });
  const heartbeat = new HeartbeatPublisher({
    clock,
    intervalMs: config.heartbeatIntervalS * 1000,
    send: () =>
      uplink.sendHeartbeat({
        uptimeS: Math.max(0, Math.round((clock.now() - startedAt) / 1000)),
        queueDepth: queue.depth(),
        adapters: adapters.slice(0, 64).map((a) => a.health()),
        version: VERSION,
      }),
  });

  const adapterDeps = (): AdapterDeps => ({
    sink: gateway,
    clock,
    logger: deps.logger,
    devices,
    stateDir: `${config.dataDir}/adapter-state`,
  });
  const makeAdapter = deps.createAdapter ?? createAdapter;

  async function startAdapters(list: readonly AdapterConfig[]): Promise<string[]> {
    const failures: string[] = [];
    adapters = [];
    for (const c of list) {
      const a = await makeAdapter(c, adapterDeps());
      adapters.push(a);
      try {
        await a.start();
      } catch (err) {
        // One adapter that cannot start (a port in use, a bad address) must not keep the others,
        // or the queue, from running; its health says so in every heartbeat.
        failures.push(`${a.name}: ${(err as Error).message}`);
        log.error({ err, adapter: a.name }, 'adapter failed to start');
      }
    }
    return failures;
  }

  async function stopAdapters(): Promise<void> {
    const current = adapters;
    adapters = [];
    for (const a of current) {
      try {
        await a.stop();
      } catch (err) {
        log.error({ err, adapter: a.name }, 'adapter failed to stop cleanly');
      }
    }
  }

  function reject(reason: string): void {
    readings.rejected.set(reason, (readings.rejected.get(reason) ?? 0) + 1);
  }

  async function applyReload(): Promise<CommandOutcome> {
    let next: GatewayConfig;
    try {
      next = deps.loadConfig ? await deps.loadConfig() : config;
    } catch (err) {
      log.error(
        { err: (err as Error).message },
        'reload refused: the configuration is invalid; keeping the running one',
      );
      return { ok: false, detail: (err as Error).message };
    }
    const fixed: string[] = [];
    if (JSON.stringify(next.gateway) !== JSON.stringify(config.gateway)) fixed.push('gateway');
    if (next.dataDir !== config.dataDir) fixed.push('dataDir');
    if (next.queue.segmentBytes !== config.queue.segmentBytes) fixed.push('queue.segmentBytes');
    if (fixed.length > 0) {
      const err = new GatewayError('ANL_GW_CONFIG_RELOAD', `${fixed.join(', ')} changed: restart the gateway to apply`);
      log.error({ fields: fixed }, err.message);
      return { ok: false, detail: err.message };
    }
    await stopAdapters();
    config = next;
    devices = deviceMap(next.devices);
    normalizer.setDevices(devices);
    queue.reconfigure(next.queue);
    bucket.configure(next.replay.ratePerS, next.replay.burst ?? Math.ceil(next.replay.ratePerS));
    pump.setWindow(next.replay.inflight);
    alarm.reconfigure(next.alarm);
    heartbeat.setInterval(next.heartbeatIntervalS * 1000);
    uplink.reconfigure(next.county);
    const failures = await startAdapters(next.adapters);
    const detail = `reloaded: ${next.devices.length} devices, ${next.adapters.length} adapters; ${queue.depth()} queued messages kept`;
    log.info({ failures }, detail);
    return failures.length > 0
      ? { ok: false, detail: `${detail}; failed: ${failures.join('; ')}` }
      : { ok: true, detail };
  }

  gateway = {
    address,
    queue,
    uplink,
    alarm,
    drill,
    get config() {
      return config;
    },
    adapters: () => adapters,

    submit(reading: DeviceReading): SubmitOutcome {
      const n = normalizer.normalize(reading, clock.now());
      if (!n.ok) {
        reject(n.reason);
        return n;
      }
      // A drill running here marks its devices' events (never telemetry) as the drill's (issue 13).
      if (n.message === 'event') {
        const drillId = drill.drillIdFor(n.device, clock.now());
        if (drillId !== undefined) n.payload.drillId = drillId;
      }
      const number = seq.next();
      n.payload.seq = number;
      // Snapshots travel as events (never thinned or dropped), behind the fire alarm they document.
      const cls: MessageClass =
        n.message === 'event' ? CLASS_OF_EVENT(n.payload) : n.message === 'snapshot' ? 'event' : 'telemetry';
      const topic =
        n.message === 'event'
          ? topics.event(address, n.device)
          : n.message === 'snapshot'
            ? topics.snapshot(address, n.device)
            : topics.telemetry(address, n.device);
      let result: ReturnType<OutboundQueue['enqueue']>;
      try {
        result = queue.enqueue(cls, topic, Buffer.from(JSON.stringify(n.payload)));
      } catch (err) {
        reject('queue_error');
        log.error({ err, device: n.device }, 'reading could not be queued');
        return { ok: false, reason: 'queue_error', detail: (err as Error).message };
      }
      if (!result.queued) {
        readings.thinned++;
        return { ok: true, queued: false, durable: Promise.resolve() };
      }
      readings.queued++;
      if (cls === 'alarm' && n.message === 'event') {
        log.warn(
          { device: n.device, zone: n.payload.zone, seq: number, uplink: uplink.connected },
          'fire alarm queued for the county',
        );
        alarm.fireAlarmQueued(result.message.id, {
          device: n.device,
          zone: n.payload.zone,
          ts: n.payload.ts,
          seq: number,
        });
        // Video review (视频复核): the alarm is queued first; adapters act on it afterwards.
        const acknowledged = new Promise<void>((resolve) => alarmAcks.set(result.message.id, resolve));
        const notice = { device: n.device, zone: n.payload.zone, ts: n.payload.ts, seq: number, acknowledged };
        for (const a of adapters) {
          try {
            a.onFireAlarm?.(notice);
          } catch (err) {
            log.error({ err, adapter: a.name }, 'adapter failed on a fire alarm');
          }
        }
      }
      return { ok: true, queued: true, durable: result.durable };
    },

    async start() {
      if (started) return;
      lock.acquire();
      try {
        seq.open();
        queue.open();
      } catch (err) {
        lock.release();
        throw err;
      }
      started = true;
      queue.onAck((m) => {
        if (m.cls === 'alarm') {
          alarm.acknowledged(m.id);
          alarmAcks.get(m.id)?.();
          alarmAcks.delete(m.id);
        }
      });
      pump.start();
      let adaptersStarted: Promise<unknown> = Promise.resolve();
      uplink.on('up', () => {
        pump.attach(uplink);
        // The first heartbeat of a connection carries the adapters' health: not before they have started.
        void adaptersStarted.then(() => heartbeat.beat());
      });
      uplink.on('down', () => pump.detach());
      heartbeat.start();
      // The county link before the adapters: creating its mqtt.js client switches off mqtt-packet's
      // packet-id cache (county-uplink.ts) before the LAN broker can write a first packet, which
      // would build it (~7 MB). The replay may begin meanwhile; a reload waits for the adapters.
      uplink.start();
      const starting = startAdapters(config.adapters);
      adaptersStarted = starting.catch(() => {});
      reloading = starting.then(
        (): CommandOutcome => ({ ok: true }),
        (err: unknown): CommandOutcome => ({ ok: false, detail: (err as Error).message }),
      );
      const failures = await starting;
      log.info(
        {
          gateway: address.gateway,
          county: config.county.url,
          queued: queue.depth(),
          adapters: adapters.length,
          failures,
        },
        'gateway started',
      );
    },

    async stop() {
      if (!started) return;
      started = false;
      await reloading.catch(() => {});
      await stopAdapters();
      heartbeat.stop();
      // Let what is in flight be acknowledged, so it is not sent twice after the restart.
      await pump.settle(2000);
      pump.stop();
      await uplink.stop();
      uplink.removeAllListeners();
      await alarm.stop();
      // Alarms still unacknowledged are in the queue for the next start; nothing waits on them now.
      alarmAcks.clear();
      queue.close();
      seq.close();
      lock.release();
      log.info('gateway stopped');
    },

    reload() {
      reloading = reloading.then(applyReload, applyReload);
      return reloading;
    },

    stats(): GatewayStats {
      return {
        uplink: uplink.stats(),
        queue: queue.stats(),
        replay: { ...pump.counts, inflight: pump.inflight },
        readings: {
          queued: readings.queued,
          thinned: readings.thinned,
          rejected: Object.fromEntries(readings.rejected),
        },
        adapters: adapters.map((a) => a.health()),
        localAlarms: alarm.triggered,
        drill: drill.current(clock.now()),
        nextSeq: seq.peek(),
      };
    },
  };
  return gateway;
}
