/**
 * @anlian/gateway — the edge gateway of an institution.
 *
 * - `buildGateway(deps)`: queue, uplink, heartbeat, local alarm, commands and adapters, not started.
 * - `runGatewayCommand`: `anlian gateway --config FILE` (reads the file, starts, handles signals).
 * - `loadGatewayConfig` / `resolveGatewayConfig`: the configuration, validated with zod.
 * - `OutboundQueue`, `SegmentLog`, `SequenceCounter`: the durable store-and-forward parts.
 */

export { CameraAdapter, type CameraAdapterCounts, covers } from './adapters/camera/camera-adapter.js';
export { CameraError, CameraFault } from './adapters/camera/camera-error.js';
export {
  type DiscoveredDevice,
  parseProbeMatches,
  probe as probeWsDiscovery,
  probeMessage,
  WS_DISCOVERY_MULTICAST,
  WS_DISCOVERY_PORT,
} from './adapters/camera/ws-discovery.js';
export { createAdapter } from './adapters/create-adapter.js';
export type { AdapterDeps, DeviceAdapter, FireAlarmNotice } from './adapters/device-adapter.js';
export type { DeviceReading, ReadingRejectReason, ReadingSink, SubmitOutcome } from './adapters/device-reading.js';
export { LanMqttAdapter, type LanReject } from './adapters/lan-mqtt-adapter.js';
export { decodeRegisters, ModbusTcpAdapter } from './adapters/modbus-tcp-adapter.js';
export { LocalAlarm, type LocalFireAlarm } from './alarm/local-alarm.js';
export { type Clock, every, systemClock } from './clock.js';
export * from './config/camera-adapter-config.js';
export * from './config/gateway-config.js';
export { loadGatewayConfig, resolveGatewayConfig } from './config/load-gateway-config.js';
export { GatewayError, type GatewayErrorCode, GatewayErrorCodes } from './errors.js';
export { buildGateway, type Gateway, type GatewayDeps, type GatewayStats } from './gateway-service.js';
export { createLogger, type Logger, silentLogger } from './logger.js';
export { runGatewayCommand } from './main.js';
export { MESSAGE_CLASSES, type MessageClass, OutboundQueue, type QueueStats } from './queue/outbound-queue.js';
export { SegmentLog } from './queue/segment-log.js';
export { SequenceCounter } from './queue/sequence-counter.js';
export { CountyUplink } from './uplink/county-uplink.js';
export { TokenBucket } from './uplink/token-bucket.js';
