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
