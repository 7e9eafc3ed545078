import type { CountyConfig } from '@anlian/protocol';
import { pino } from 'pino';
import { DEFAULT_CAMERA_PASSWORD, DEFAULT_CAMERA_USERNAME } from '../camera/simulated-camera-fleet.js';
import { cameraEndpoint } from '../camera/ws-discovery-responder.js';
import type { SimCliOptions } from '../cli.js';
import { loadCountyFile } from '../county/load-county.js';
import { buildLoadCounty, parseLoadSpec } from '../county/load-county-builder.js';
import { requireDurationMs } from '../duration.js';
import { SimErrorCode, SimulatorError } from '../errors.js';
import { resolveScenarioPath } from '../paths.js';
import { loadScenario } from '../scenario/load-scenario.js';
import {
  camerasFromPort,
  deviceModeLayout,
  gatewayConfigFor,
  layoutCameras,
  simulatedDevices,
} from './device-mode-layout.js';
import { DeviceModeSimulator } from './device-mode-simulator.js';

/** WS-Discovery's port (ONVIF Core §7.3). */
const WS_DISCOVERY_PORT = 3702;

function parseHostPort(option: string, value: string, example: string): { host: string; port: number } {
  const m = /^(.*):(\d{1,5})$/.exec(value);
  const port = Number(m?.[2]);
  if (!m?.[1] || !Number.isInteger(port) || port > 65_535) {
    throw new SimulatorError(
      SimErrorCode.BAD_ARGUMENT,
      `${option} ${JSON.stringify(value)}: use host:port, e.g. ${example}`,
    );
  }
  return { host: m[1], port };
}

/**
 * `anlian sim --device-mode`: one gateway's devices over the local protocols until interrupted
 * (or `--duration`). `--print-gateway-config` prints the matching gateway configuration instead.
 */
export async function runDeviceModeCommand(
  opts: SimCliOptions,
  io: { stdout: { write(s: string): unknown }; stderr: { write(s: string): unknown } } = process,
): Promise<number> {
  try {
    const county: CountyConfig = opts.load
      ? buildLoadCounty(parseLoadSpec(opts.load))
      : await loadCountyFile(opts.county);
    const modbus = opts.modbusListen
      ? parseHostPort('--modbus-listen', opts.modbusListen, '127.0.0.1:5020')
      : undefined;
    const cameras = opts.cameraListen
      ? parseHostPort('--camera-listen', opts.cameraListen, '127.0.0.1:8600')
      : undefined;
    if (opts.cameraDiscovery && !cameras) {
      throw new SimulatorError(SimErrorCode.BAD_ARGUMENT, '--camera-discovery needs --camera-listen');
    }
    if (opts.printGatewayConfig) {
      const layout = deviceModeLayout(county, opts.gateway, modbus !== undefined);
      const lanPort = Number(new URL(opts.lan ?? 'mqtt://127.0.0.1:1884').port || 1884);
      const config = gatewayConfigFor(layout, {
        countyUrl: opts.broker,
        lanPort,
        ...(modbus ? { modbus } : {}),
        ...(cameras
          ? {
              cameras: {
                ...camerasFromPort(cameras.host, cameras.port, DEFAULT_CAMERA_USERNAME, DEFAULT_CAMERA_PASSWORD),
                ...(opts.cameraDiscovery ? { discovery: { endpoint: cameraEndpoint, interface: cameras.host } } : {}),
              },
            }
          : {}),
        dataDir: `gateway-data/${layout.gateway.id}`,
      });
      io.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
      return 0;
    }
    const scenario = opts.scenario ? await loadScenario(resolveScenarioPath(opts.scenario)) : undefined;
    const durationMs = opts.duration === undefined ? undefined : requireDurationMs('--duration', opts.duration);
    const sim = new DeviceModeSimulator({
      county,
      ...(opts.gateway ? { gateway: opts.gateway } : {}),
      lanUrl: opts.lan ?? 'mqtt://127.0.0.1:1884',
      ...(modbus ? { modbus } : {}),
      ...(cameras
        ? {
            cameras: {
              ...cameras,
              ...(opts.cameraDiscovery ? { discovery: { port: WS_DISCOVERY_PORT, multicast: true } } : {}),
            },
          }
        : {}),
      ...(opts.seed === undefined ? {} : { seed: opts.seed }),
      speed: opts.speed ?? scenario?.speed ?? 1,
      startMs: Date.now(),
      ...(scenario ? { scenario } : {}),
      ...(durationMs === undefined ? {} : { durationMs }),
      logger: pino({ level: opts.logLevel, base: { svc: 'sim' } }, pino.destination(2)),
    });
    const l = sim.layout;
    io.stdout.write(
      `Device mode: ${simulatedDevices(l, cameras !== undefined).length} devices of gateway ${l.gateway.id} (${l.institution.name}) → LAN ${opts.lan}` +
        `${modbus ? `, ${l.modbusUnits.size} Modbus transmitters on ${modbus.host}:${modbus.port}` : ''}` +
        `${cameras ? `, ${layoutCameras(l).length} ONVIF cameras from ${cameras.host}:${cameras.port}` : ''}\n`,
    );
    const onSignal = () => {
      void sim.stop();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      await sim.start();
      await sim.done;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await sim.stop();
    }
    const s = sim.stats();
    io.stdout.write(
      `  LAN messages ${s.lanPublished} (acknowledged ${s.lanAcked}, failed ${s.lanFailed}); Modbus updates ${s.modbusUpdates}, polls answered ${s.modbusRequests}` +
        `${cameras ? `; cameras ${s.cameras}, camera faults applied ${s.cameraFaults}` : ''}\n`,
    );
    return s.lanFailed > 0 ? 1 : 0;
  } catch (err) {
    if (err instanceof SimulatorError) {
      io.stderr.write(`${err.code}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
