/**
 * Unanswered duty checks (查岗, GB/T 26875.3 type 91) per institution. The fire-panel work
 * (issue 15) records duty checks; when it has landed on the store, an implementation over its
 * table goes here and is passed to `buildSupervision` — the `duty-check-missed` source and the
 * `duty_checks_missed` grading factor then use it. Until then `NO_DUTY_CHECKS` says "no data".
 */
export interface DutyCheckReadModel {
  /** Unanswered duty checks per institution sent in [from, to); `undefined` when not recorded on this store. */
  unansweredCounts(from: number, to: number, county?: string): Promise<Map<string, number> | undefined>;
}

export const NO_DUTY_CHECKS: DutyCheckReadModel = Object.freeze({
  unansweredCounts: async () => undefined,
});
