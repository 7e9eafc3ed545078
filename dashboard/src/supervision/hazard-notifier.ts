import type { AlertNotification, Recipient } from '@anlian/alerting';
import type { Database } from '@anlian/store';
import { HAZARD_SEVERITY_ZH, type HazardNotice, type SupervisionNotifier } from '@anlian/supervision';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';

export interface HazardNotifierOptions {
  /** Alerting's dispatcher (`NotificationDispatcher.dispatch`): the existing channels. */
  dispatch: (n: AlertNotification) => void;
  /** The operational store: the institution's contacts are looked up when a notice goes out. */
  db: Kysely<Database>;
  /** The dashboard's public address, for the link in the message. */
  publicUrl?: string | undefined;
  logger: Logger;
}

/**
 * Supervision's notifier port on alerting's dispatcher (issue 16: overdue hazards go to the county
 * duty officer "through the existing notification channels"). A notice is a notification of its
 * own kind (`hazard-overdue`, `hazard-due-soon`), never critical, with an id per hazard and round
 * so that a retried or repeated round is delivered once.
 */
export function hazardNotifierFrom(o: HazardNotifierOptions): SupervisionNotifier {
  const log = o.logger.child({ module: 'hazard-notifier' });
  const contacts = async (institution: string) =>
    o.db.selectFrom('contacts').selectAll().where('institution_id', '=', institution).orderBy('id').execute();
  const recipient = (c: Awaited<ReturnType<typeof contacts>>[number]): Recipient => ({
    contactId: c.id,
    name: c.name,
    role: c.role,
    phone: c.phone,
    ...(c.wecom_user_id ? { wecomUserId: c.wecom_user_id } : {}),
    ...(c.dingtalk_user_id ? { dingtalkUserId: c.dingtalk_user_id } : {}),
  });
  const send = (n: HazardNotice, kind: AlertNotification['kind'], recipients: Recipient[]) => {
    const h = n.hazard;
    const owner = h.owner ? `，整改责任人 ${h.owner.name}` : '';
    const notification: AlertNotification = {
      notificationId: `hazard:${h.id}/${kind}-${n.round}-${h.deadlineAt ?? 0}`,
      alertId: `hazard:${h.id}`,
      kind,
      severity: 'major',
      rule: kind,
      title: { zh: h.title, en: h.title },
      reason: `${HAZARD_SEVERITY_ZH[h.severity]}${owner}${h.location ? `，位置 ${h.location}` : ''}${n.round > 0 ? `，第${n.round}次通报` : ''}`,
      drill: false,
      county: h.county,
      institution: { id: h.institution, name: n.institutionName },
      gateway: '',
      at: h.deadlineAt ?? n.at,
      level: n.round,
      recipients,
      ...(o.publicUrl ? { link: `${o.publicUrl.replace(/\/$/, '')}/#/hazards/${encodeURIComponent(h.id)}` } : {}),
    };
    try {
      o.dispatch(notification);
    } catch (err) {
      log.error({ err, hazard: h.id }, 'hazard notice not dispatched');
    }
  };
  return {
    async notifyCountyDutyOfficer(n) {
      const all = await contacts(n.hazard.institution);
      const duty = all.filter((c) => c.role === 'duty_officer');
      if (duty.length === 0)
        log.warn({ institution: n.hazard.institution }, 'no county duty officer among the contacts');
      send(n, 'hazard-overdue', duty.map(recipient));
    },
    async remindOwner(n) {
      const all = await contacts(n.hazard.institution);
      const owner = all.find((c) => c.id === n.hazard.owner?.contactId) ?? all.find((c) => c.role === 'manager');
      send(n, 'hazard-due-soon', owner ? [recipient(owner)] : []);
    },
  };
}
