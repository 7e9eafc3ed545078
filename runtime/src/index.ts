/**
 * @anlian/runtime — what every county service process shares: JSON logs (pino), a metrics
 * registry (prom-client), `/healthz` `/readyz` `/metrics`, and the graceful drain on SIGTERM.
 */

export { envBulkNice, lowerThreadPriority } from './bulk-priority.js';
export { ConfigError, describeEnv, envBool, envLogLevel, envOptional, envPort, parseEnv } from './env.js';
export { hasCode } from './has-code.js';
export { type HealthRoutesOptions, type ReadinessCheck, registerHealthRoutes } from './health-routes.js';
export { createLogger, type Logger, silentLogger } from './logger.js';
export { createMetricsRegistry } from './metrics.js';
export { onShutdownSignal } from './shutdown-signal.js';
