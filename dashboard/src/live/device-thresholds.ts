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
  /**
   * Electrical fire monitoring, per circuit (mirrors alerting's default rules): GB 50116-2013
   * §9.2.3 sets the residual-current alarm at 300–500 mA over a natural leakage of 100–200 mA;
   * PVC-insulated cable is rated 70 °C, so a look is due from 60 °C.
   */
  electrical: { residualWarnMa: number; residualAlarmMa: number; cableWarnC: number; cableAlarmC: number };
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
  electrical: { residualWarnMa: 250, residualAlarmMa: 300, cableWarnC: 60, cableAlarmC: 70 },
  onlineIntervals: 3,
  onlineMinMs: 120_000,
};

export function pressureOutOfRange(t: DeviceThresholds, medium: PressureMedium, mpa: number): boolean {
  const band = t.pressure[medium];
  return mpa < band.min || (band.max !== undefined && mpa > band.max);
}

/**
 * How a circuit reads against the thresholds: its level, and how near the alarm it is (the larger
 * of residual current / its alarm and temperature / its alarm; 1 = at the alarm), for ranking.
 */
export function electricalReading(
  t: DeviceThresholds,
  values: { residualCurrent?: unknown; cableTemperature?: unknown },
): { level: 'ok' | 'warn' | 'alarm'; nearness: number } | undefined {
  const ma = typeof values.residualCurrent === 'number' ? values.residualCurrent : undefined;
  const c = typeof values.cableTemperature === 'number' ? values.cableTemperature : undefined;
  if (ma === undefined && c === undefined) return undefined;
  const e = t.electrical;
  const level =
    (ma ?? 0) >= e.residualAlarmMa || (c ?? Number.NEGATIVE_INFINITY) >= e.cableAlarmC
      ? 'alarm'
      : (ma ?? 0) >= e.residualWarnMa || (c ?? Number.NEGATIVE_INFINITY) > e.cableWarnC
        ? 'warn'
        : 'ok';
  return { level, nearness: Math.max((ma ?? 0) / e.residualAlarmMa, (c ?? 0) / e.cableAlarmC) };
}
