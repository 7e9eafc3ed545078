/**
 * @anlian/device-simulators — simulated gateways, devices and whole counties; drill scenarios;
 * fault injection; load generation.
 *
 * - `MessageGenerator` / `generateMessages`: the pure, clock-independent core (county + seed +
 *   scenario + start → the ordered steps). Tests inspect it without a broker.
 * - `CountySimulator`: the live runner on an accelerated clock, one MQTT connection per gateway.
 * - `loadScenario` / `parseScenario`, `loadCountyFile`, `buildLoadCounty`: inputs.
 */

export {
  CameraSimFault,
  DEFAULT_PICTURE,
  type PictureFormat,
  SNAPSHOT_LOOP_S,
  snapshotFramesArgs,
  splitJpegs,
  streamPipeline,
} from './camera/camera-picture.js';
export { RTSP_LAUNCHER, RtspStreamServer } from './camera/rtsp-stream-server.js';
export { SimulatedCamera, type SimulatedCameraStats } from './camera/simulated-camera.js';
export {
  DEFAULT_CAMERA_PASSWORD,
  DEFAULT_CAMERA_USERNAME,
  SimulatedCameraFleet,
  type SimulatedCameraSpec,
} from './camera/simulated-camera-fleet.js';
export { SnapshotFrames } from './camera/snapshot-frames.js';
export { cameraEndpoint, WsDiscoveryResponder } from './camera/ws-discovery-responder.js';
export { loadCountyFile, parseCounty, selectInstitutions } from './county/load-county.js';
export { buildLoadCounty, type LoadSpec, parseLoadSpec } from './county/load-county-builder.js';
export {
  type CameraEndpoints,
  camerasFromPort,
  type DeviceModeLayout,
  deviceModeLayout,
  gatewayConfigFor,
  lanTopic,
  layoutCameras,
} from './device-mode/device-mode-layout.js';
export {
  type DeviceModeOptions,
  DeviceModeSimulator,
  type DeviceModeStats,
} from './device-mode/device-mode-simulator.js';
export { ModbusRegisterServer } from './device-mode/modbus-register-server.js';
export {
  CountyDrillClient,
  type CountyDrillReport,
  type CountyGateway,
  type RegisteredDrill,
} from './drill/county-drill-client.js';
export { formatDuration, parseDurationMs, parseSignedDurationMs } from './duration.js';
export { SimErrorCode, SimulatorError } from './errors.js';
export { type GeneratorOptions, generateMessages, MessageGenerator } from './generator/message-generator.js';
export { formatTarget, selectDevices, selectGateways, type TargetRef } from './generator/select-targets.js';
export type {
  FaultFired,
  ResolvedFault,
  SimConnect,
  SimDrop,
  SimFaultMark,
  SimPublish,
  SimStep,
  SimTopicType,
} from './generator/sim-step.js';
export {
  DEFAULT_HISTORY_RATES,
  generateHistory,
  type HistoryOptions,
  type HistoryRates,
} from './history/history-generator.js';
export { historyEventLines, type PolicyLine, telemetryLine } from './history/history-lines.js';
export type * from './history/history-model.js';
export { type HistoryReading, historyTelemetry } from './history/history-telemetry.js';
export {
  completeHistoryRun,
  type HistoryRunState,
  historyRunState,
  type InfluxLineTarget,
  writeHistoryLines,
  writeHistoryToStore,
} from './history/history-writers.js';
export { type RecordHistoryOptions, recordHistory } from './history/record-history.js';
export { DEMO_COUNTY_FILE, REPO_ROOT, resolveScenarioPath, SCENARIOS_DIR } from './paths.js';
export { hash32, Prng } from './prng.js';
export {
  CountySimulator,
  type CountySimulatorEvents,
  type CountySimulatorOptions,
  type GatewayCredentials,
  REAL_TIME_START_TOLERANCE_MS,
  resolveStartMs,
  simRunFor,
} from './runner/county-simulator.js';
export {
  formatProgressLine,
  formatSummary,
  type ProgressOutput,
  ProgressReporter,
} from './runner/progress-reporter.js';
export type { EndReason, SimStats, SimSummary } from './runner/sim-stats.js';
export {
  defineScenario,
  type LoadedScenario,
  loadScenario,
  parseScenario,
  type ScenarioSource,
} from './scenario/load-scenario.js';
export {
  CameraFaultKind,
  FAULT_TYPES,
  type FaultTarget,
  type FaultTime,
  type FaultType,
  parseStart,
  Scenario,
  ScenarioFault,
  type ScenarioInput,
  type ScenarioStart,
} from './scenario/scenario-schema.js';
export { LOW_PRESSURE_MPA, NOMINAL_PRESSURE_MPA } from './signals/pressure-signal.js';
export { TimeZoneClock } from './time-zone.js';
export {
  type ComponentReport,
  type SendOutcome,
  SimulatedUitd,
  type SimulatedUitdEvents,
  type SimulatedUitdOptions,
  type SimulatedUitdStats,
} from './uitd/simulated-uitd.js';
