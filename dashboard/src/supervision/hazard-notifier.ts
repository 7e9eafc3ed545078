import type { NoticeInput, NoticeReceipt } from '@anlian/alerting/client';
import { HAZARD_SEVERITY_ZH, type HazardNotice, type SupervisionNotifier } from '@anlian/supervision';
import type { Logger } from 'pino';

export interface HazardNotifierOptions {
  /**
   * Alerting's `sendNotice` — in process in `anlian up` (`alerting.api`), over HTTP to
   * `anlian alerting` in the production form (`AlertingClient`): the county's existing channels.
   */
  send: (notice: NoticeInput) => Promise<NoticeReceipt>;
  /** The dashboard's public address, for the link in the message. */
  publicUrl?: string | undefined;
  logger: Logger;
}

/**
 * Supervision's notifier port on alerting (issue 16: overdue hazards go to the county duty officer
 * "through the existing notification channels"). Alerting picks the recipients among the
 * institution's contacts — the `duty_officer` for an overdue hazard, the owner (else the manager)
 * for a reminder — and pushes a notice of its own kind (`hazard-overdue`, `hazard-due-soon`), never
 * critical, with an id per hazard, round and deadline so that a repeated round is delivered once.
 */
export function hazardNotifierFrom(o: HazardNotifierOptions): SupervisionNotifier {
  const log = o.logger.child({ module: 'hazard-notifier' });
  const send = async (n: HazardNotice, kind: NoticeInput['kind'], to: NoticeInput['to']) => {
    const h = n.hazard;
    const owner = h.owner ? `，整改责任人 ${h.owner.name}` : '';
    try {
      const receipt = await o.send({
        id: `hazard:${h.id}/${kind}-${n.round}-${h.deadlineAt ?? 0}`,
        kind,
        institution: h.institution,
        subject: `hazard:${h.id}`,
        title: h.title,
        reason: `${HAZARD_SEVERITY_ZH[h.severity]}${owner}${h.location ? `，位置 ${h.location}` : ''}${n.round > 0 ? `，第${n.round}次通报` : ''}`,
        at: h.deadlineAt ?? n.at,
        round: n.round,
        to,
        ...(o.publicUrl ? { link: `${o.publicUrl.replace(/\/$/, '')}/#/hazards/${encodeURIComponent(h.id)}` } : {}),
      });
      if (receipt.recipients === 0)
        log.warn({ hazard: h.id, kind }, 'hazard notice has no recipient among the contacts');
    } catch (err) {
      // The escalation is in the ledger either way; alerting retries its own deliveries.
      log.error({ err, hazard: h.id, kind }, 'hazard notice not sent');
    }
  };
  return {
    notifyCountyDutyOfficer: (n) => send(n, 'hazard-overdue', { roles: ['duty_officer'], contacts: [] }),
    remindOwner: (n) =>
      send(n, 'hazard-due-soon', {
        roles: n.hazard.owner ? [] : ['manager'],
        contacts: n.hazard.owner ? [n.hazard.owner.contactId] : [],
      }),
  };
}
