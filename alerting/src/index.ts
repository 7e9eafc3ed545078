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
export { DEFAULT_RULE_INPUTS, defaultRuleSet, defaultRules } from './rules/default-rules.js';
export { parseRuleFile, type RuleLoadOptions, validateRuleFile } from './rules/rule-loader.js';
export { applyPatch, effectiveRules, mergeRuleLists, type OverrideTarget } from './rules/rule-overrides.js';
export * from './rules/rule-schema.js';

// The alert lifecycle, its store and the service (issue 4).
export { type AlertingConfig, AlertingConfigSchema, loadAlertingConfig } from './config.js';
export { buildDrillReport, type DrillAlertScore, type DrillReport, drillReportCsv } from './drills/drill-report.js';
export { type Drill, drillActive, DrillRecipients, NewDrill } from './drills/drill.js';
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
export {
  loadChannels,
  loadRules,
  type RunningAlerting,
  STREAM_CHANNEL_ID,
  type StartAlertingOptions,
  startAlerting,
} from './main.js';
export { ChannelConfig, type ChannelType } from './notify/channel-config.js';
export { type ChannelBinding, parseChannelFile } from './notify/channel-file.js';
export { NotificationStream } from './notify/channels/notification-stream.js';
export type { DeliveryLog, DeliveryRecord, DeliveryStatus } from './notify/delivery-log.js';
export type { AlertNotification, NotificationKind, Recipient } from './notify/notification.js';
export { NotificationDispatcher } from './notify/notification-dispatcher.js';
export {
  type AlertDetail,
  AlertingService,
  type AlertingServiceDeps,
  type AlertSummary,
  type NotificationSink,
} from './service/alerting-service.js';
export { NewSilence, type Silence, SilenceScope, silenceActive } from './silences/silence.js';
export { type AlertFilter, AlertStore } from './store/alert-store.js';
export type { AlertingDatabase } from './store/alerting-schema.js';
export { ALERTING_MIGRATIONS, migrateAlerting } from './store/alerting-migrations.js';
