import type { Severity } from '@anlian/alerting';

/**
 * How the screens show an alert's severity: `alarm` (red: critical — a fire alarm, a kitchen or
 * gas alarm, an institution gone blind), `warning` (amber: major and minor), `info` (blue).
 * Imported by the web app as well, so it imports types only.
 */
export type AlertLevel = 'alarm' | 'warning' | 'info';

export function alertLevel(severity: Severity): AlertLevel {
  switch (severity) {
    case 'critical':
      return 'alarm';
    case 'major':
    case 'minor':
      return 'warning';
    case 'info':
      return 'info';
    default: {
      const never: never = severity;
      throw new TypeError(`unknown severity ${String(never)}`);
    }
  }
}
