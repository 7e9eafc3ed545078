/**
 * `bench:alarm-latency --via-gateway`: a real gateway between the simulated fire detectors and the
 * county broker. The probe gateway's detectors publish on its LAN broker; the gateway process
 * (gateway/bin/anlian-gateway, as a gateway box runs it) queues and forwards them to the bench's
 * county mosquitto with the secret the registry has for it. See bench/README.md.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deviceModeLayout, gatewayConfigFor } from '@anlian/device-simulators';
import { CountyConfig } from '@anlian/protocol';
import { type GatewayProcess, gatewayDescription, spawnGateway } from '../gateway/gateway-process.js';
import { IpcChild } from '../ingest/ipc-child.js';
import { reservedPort, type Teardown } from '../ingest/teardown.js';
import type { LoopDelay, ProbeGateway } from './alarm-messages.js';
import type { PathId, PathLatency } from './alarm-report.js';
import type { HopProbeRecord, HopProberCommand, HopProberReport } from './gateway-hop-messages.js';
import { type GatewayHopReport, judgeHopTargets, measureHops, type ProbeOutcome } from './gateway-hop-report.js';
import { buildProbeCounty, type ProbeCounty } from './probe-county.js';

/** The gateway's county: apart from the direct probes' (`bench-alarm`), so their filters never overlap. */
export const HOP_COUNTY = { id: 'bench-alarm-gw', name: '报警时延测试县（经网关）', adcode: '510298' } as const;
/** The gateway's MQTT secret, imported into the registry with the county (≥ 12 characters). */
const HOP_GATEWAY_SECRET = 'bench-alarm-gateway-secret';

/**
 * One institution `g-0001` with one gateway `gw-g-0001` holding every detector the run can use
 * (each alarms once): ONE gateway, as an institution has, so every alarm takes the same way.
 */
export function buildHopCounty(maxProbes: number): ProbeCounty {
  return buildProbeCounty(1, maxProbes, { county: HOP_COUNTY, prefix: 'g', secret: HOP_GATEWAY_SECRET });
}

export class GatewayHop {
  readonly #gateway: GatewayProcess;
  readonly #prober: IpcChild<HopProberCommand, HopProberReport>;
  readonly #probeGateway: ProbeGateway;
  readonly lanUrl: string;
  readonly gatewayOnlineMs: number;
  #published = 0;

  private constructor(
    gateway: GatewayProcess,
    prober: IpcChild<HopProberCommand, HopProberReport>,
    probeGateway: ProbeGateway,
    lanUrl: string,
    gatewayOnlineMs: number,
  ) {
    this.#gateway = gateway;
    this.#prober = prober;
    this.#probeGateway = probeGateway;
    this.lanUrl = lanUrl;
    this.gatewayOnlineMs = gatewayOnlineMs;
    prober.on((r) => {
      if (r.type === 'progress') this.#published = r.published;
    });
  }

  /**
   * Writes the gateway's configuration (what `anlian sim --device-mode --print-gateway-config`
   * prints for it, with the county broker's address), starts the gateway process and the gateway
   * prober, and resolves once the gateway is online at the county broker.
   */
  static async start(o: {
    county: ProbeCounty;
    countyUrl: string;
    dir: string;
    teardown: Teardown;
  }): Promise<GatewayHop> {
    const probeGateway = o.county.gateways[0];
    if (!probeGateway) throw new Error('the gateway county has no gateway');
    const lanPort = await reservedPort(o.teardown);
    const layout = deviceModeLayout(CountyConfig.parse(o.county.county), probeGateway.gateway, false);
    const configFile = join(o.dir, 'gateway.json');
    const config = gatewayConfigFor(layout, { countyUrl: o.countyUrl, lanPort, dataDir: join(o.dir, 'gateway-data') });
    await writeFile(configFile, JSON.stringify(config));
    const gateway = await spawnGateway(configFile);
    o.teardown.add('gateway', () => gateway.kill());
    const prober = new IpcChild<HopProberCommand, HopProberReport>(
      'gateway prober',
      new URL('./gateway-prober-process.js', import.meta.url),
    );
    o.teardown.add('gateway prober', () => prober.stop({ type: 'exit' }));
    const lanUrl = `mqtt://127.0.0.1:${lanPort}`;
    prober.send({ type: 'init', lanUrl, countyUrl: o.countyUrl, gateway: probeGateway, startTimeoutMs: 60_000 });
    const ready = await prober.next('ready', 70_000);
    return new GatewayHop(gateway, prober, probeGateway, lanUrl, ready.gatewayOnlineMs);
  }

  get pids(): Record<string, number | undefined> {
    return { gateway: this.#gateway.pid, 'gateway-prober': this.#prober.pid };
  }

  get published(): number {
    return this.#published;
  }

  describe(): string {
    return (
      `gateway ${this.#probeGateway.gateway} (pid ${this.#gateway.pid}, ${gatewayDescription()}, ` +
      `${this.#probeGateway.detectors.length} fire detectors on its LAN broker ${this.lanUrl}; online at the county ` +
      `broker ${this.gatewayOnlineMs} ms after the prober started)`
    );
  }

  /** Fire alarms through the gateway for `durationMs`, beside the direct prober's. */
  async run(o: { durationMs: number; minIntervalMs: number; maxIntervalMs: number }): Promise<{
    probes: HopProbeRecord[];
    loopDelay: LoopDelay;
  }> {
    const done = this.#prober.next('done', o.durationMs + 60_000);
    this.#prober.send({ type: 'run', ...o, settleMs: 5000 });
    const { probes, loopDelay } = await done;
    return { probes, loopDelay };
  }

  report(
    probes: readonly HopProbeRecord[],
    outcome: (gateway: string, device: string) => ProbeOutcome | undefined,
    direct: Record<PathId, PathLatency>,
  ): GatewayHopReport {
    const { hops, samples } = measureHops(probes, outcome);
    const seen = (at: (p: HopProbeRecord) => number) => probes.filter((p) => at(p) > 0).length;
    const outcomes = probes.map((p) => outcome(p.gateway, p.device));
    const picked = { broker: direct.broker, raised: direct.raised, pushed: direct.pushed };
    return {
      gateway: {
        id: this.#probeGateway.gateway,
        command: this.#gateway.command,
        nodeFlags: this.#gateway.nodeFlags,
        detectors: this.#probeGateway.detectors.length,
        description: `${this.#probeGateway.gateway}, ${gatewayDescription()}, lan-mqtt adapter, defaults otherwise`,
      },
      probes: {
        published: probes.length,
        lanAcked: seen((p) => p.lanAckedAt),
        lanDelivered: seen((p) => p.lanDeliveredAt),
        countyDelivered: seen((p) => p.countyDeliveredAt),
        raised: outcomes.filter((x) => x !== undefined).length,
        pushed: outcomes.filter((x) => x?.pushedAt !== undefined).length,
      },
      hops,
      direct: picked,
      targets: judgeHopTargets(hops, picked),
      samples,
    };
  }

  async stop(): Promise<void> {
    await this.#prober.stop({ type: 'exit' });
    await this.#gateway.stop();
  }
}
