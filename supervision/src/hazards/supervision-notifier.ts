import type { Hazard } from './hazard.js';

/** What the notification channels need to say about a hazard. */
export interface HazardNotice {
  /** `overdue`: past its deadline (to the county duty officer); `due-soon`: the deadline is near (to its owner). */
  kind: 'overdue' | 'due-soon';
  hazard: Hazard;
  institutionName: string;
  /** 1 for the first escalation of an overdue hazard, 2 for the next, …; 0 for a reminder. */
  round: number;
  /** When it is sent. */
  at: number;
}

/**
 * The narrow port the ledger's scheduler calls to reach people "through the existing
 * notification channels" (issue 16). The composition implements it with alerting's dispatcher
 * (dashboard's `hazardNotifierFrom`), so supervision never imports alerting.
 */
export interface SupervisionNotifier {
  /** An overdue hazard: to the county duty officer (repeatedly, once per round). */
  notifyCountyDutyOfficer(notice: HazardNotice): void | Promise<void>;
  /** A deadline is near: to the hazard's owner (the institution's contact). */
  remindOwner(notice: HazardNotice): void | Promise<void>;
}

/** For processes without channels: the ledger still records every escalation and reminder. */
export const NO_NOTIFIER: SupervisionNotifier = Object.freeze({
  notifyCountyDutyOfficer: () => undefined,
  remindOwner: () => undefined,
});
