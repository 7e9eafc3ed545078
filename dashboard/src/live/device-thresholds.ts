import type { PressureMedium } from '@anlian/protocol';

/**
 * Display thresholds for the wall screen's panels (the alert rules themselves live in alerting).
 * Defaults from DOMAIN.md; a deployment overrides them through `DashboardDeps.thresholds`.
 */
export interface DeviceThresholds {
  /** Acceptable gauge pressure per medium, MPa. */
  pressure: Record<PressureMedium, { min: number; max?: number }>;
  /** Kitchen heat detector, °C: EN 54-5 / GB 4716 class A1 max application 50 °C, static response from 54 °C. */
  kitchenWarnC: number;
  kitchenAlarmC: number;
  /** A device is online while its latest message is younger than this many report intervals. */
  onlineIntervals: number;
  /** …and never less than this, so fast reporters do not flap. */
  onlineMinMs: number;
}

export const DEFAULT_THRESHOLDS: DeviceThresholds = {
  pressure: {
    // GB 50444: stored-pressure dry powder, green zone about 1.0–1.4 MPa.
    dry_powder: { min: 1.0, max: 1.4 },
    // GB 50974 / GB 55036: sprinkler worst point ≥ 0.05 MPa; hydrant static ≥ 0.07 (lowest class).
    sprinkler: { min: 0.05 },
    hydrant_static: { min: 0.07 },
    // Hydrant outlet dynamic pressure 0.25–0.50 MPa.
    hydrant_dynamic: { min: 0.25, max: 0.5 },
  },
  kitchenWarnC: 50,
  kitchenAlarmC: 54,
  onlineIntervals: 3,
  onlineMinMs: 120_000,
};

export function pressureOutOfRange(t: DeviceThresholds, medium: PressureMedium, mpa: number): boolean {
  const band = t.pressure[medium];
  return mpa < band.min || (band.max !== undefined && mpa > band.max);
}
