export {
  type AlertingDeps,
  type AlertingNode,
  buildAlerting,
  loadChannels,
  loadRules,
  STREAM_CHANNEL_ID,
} from './alerting-node.js';
export {
  AcknowledgeBody,
  AlertListQuery,
  CloseBody,
  httpStatusOf,
  VerifyBody,
} from './api/alerting-api.js';
export { alertingApiOf } from './api/alerting-facade.js';
export { registerAlertingRoutes } from './api/alerting-routes.js';
export {
  type CommandTransport,
  DEFAULT_COMMAND_TIMEOUT_MS,
  type GatewayCommands,
  type GatewayTarget,
  mqttCommandTransport,
  TransportGatewayCommands,
} from './commands/gateway-commands.js';
// The alert lifecycle, its store and the service (issue 4).
export { type AlertingConfig, AlertingConfigSchema, loadAlertingConfig } from './config.js';
export {
  type Drill,
  DrillGatewayCommand,
  DrillGatewayState,
  DrillRecipients,
  drillActive,
  NewDrill,
} from './drills/drill.js';
export { buildDrillReport, type DrillAlertScore, type DrillReport, drillReportCsv } from './drills/drill-report.js';
export {
  type AlertSignalSink,
  DUTY_CHECK_RULE,
  type DutyCheck,
  DutyCheckService,
  type DutyCheckServiceOptions,
  type DutyCheckStatus,
} from './duty-checks/duty-check-service.js';
export type { AlertInput } from './engine/alert-input.js';
export {
  type AlertSignal,
  type AlertSubject,
  alertKey,
  type DeviceSubject,
  type GatewaySubject,
} from './engine/alert-signal.js';
export { CompiledRules, type TelemetryRule } from './engine/compiled-rules.js';
export {
  ConditionState,
  DeviceSeenState,
  ENGINE_SNAPSHOT_VERSION,
  EngineSnapshot,
  GatewaySeenState,
  OpenAlertState,
} from './engine/engine-snapshot.js';
export { type DeviceInfo, type DeviceLookup, RuleEngine, type RuleEngineOptions } from './engine/rule-engine.js';
export { AlertingError, AlertingErrorCode } from './errors.js';
export {
  atLeast,
  DEFAULT_ESCALATION_POLICY,
  EscalationLevel,
  EscalationPolicy,
  type EscalationPolicyInput,
} from './escalation/escalation-policy.js';
export {
  Alert,
  type AlertChange,
  AlertStatus,
  AlertTransition,
  EscalationState,
  SYSTEM_ACTOR,
  Verdict,
} from './lifecycle/alert.js';
export { type AlertAction, applyAction } from './lifecycle/alert-lifecycle.js';
export { type RunningAlerting, type StartAlertingOptions, startAlerting } from './main.js';
export {
  ChannelConfig,
  type ChannelConfigInput,
  ChannelConfigList,
  type ChannelType,
  DrillPolicy,
  parseChannelConfigs,
} from './notify/channel-config.js';
export { type ChannelBinding, parseChannelFile } from './notify/channel-file.js';
export type { ChannelDeps } from './notify/channels/channel-deps.js';
export { createChannel } from './notify/channels/create-channel.js';
export {
  NotificationStream,
  type StreamListener,
  type StreamNotification,
} from './notify/channels/notification-stream.js';
export type { DeliveryLog, DeliveryRecord, DeliveryStatus } from './notify/delivery-log.js';
export { DispatcherConfig, type DispatcherConfigInput } from './notify/dispatcher-config.js';
export { MemoryDeliveryLog } from './notify/memory-delivery-log.js';
export {
  chinaTime,
  DISABLED_DEVICE_MARKER,
  DRILL_MARKER,
  type FormattedMessage,
  formatNotification,
  NOT_DRILL_MARKER,
} from './notify/message-format.js';
export {
  type AlertNotification,
  isHazardNotice,
  type NotificationKind,
  type Recipient,
} from './notify/notification.js';
export type { NotificationChannel, SendContext, SendResult } from './notify/notification-channel.js';
export { type ChannelDirectory, NotificationDispatcher } from './notify/notification-dispatcher.js';
export { DEFAULT_RULE_INPUTS, defaultRuleSet, defaultRules } from './rules/default-rules.js';
export { parseRuleFile, type RuleLoadOptions, validateRuleFile } from './rules/rule-loader.js';
export { applyPatch, effectiveRules, mergeRuleLists, type OverrideTarget } from './rules/rule-overrides.js';
export * from './rules/rule-schema.js';
export {
  type AlertDetail,
  AlertingService,
  type AlertingServiceDeps,
  type AlertSummary,
  type NotificationSink,
} from './service/alerting-service.js';
// `anlian alerting`, for the benches that run it as its command does.
export { type AlertingServiceConfig, loadAlertingServiceConfig } from './service-config.js';
export { type AlertingServiceHandle, startAlertingService } from './service-main.js';
export { NewSilence, type Silence, SilenceScope, silenceActive } from './silences/silence.js';
export { type AlertFilter, AlertStore } from './store/alert-store.js';
export { ALERTING_MIGRATIONS, migrateAlerting } from './store/alerting-migrations.js';
export type { AlertingDatabase } from './store/alerting-schema.js';
