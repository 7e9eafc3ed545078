import type { DutyCheckService } from '../duty-checks/duty-check-service.js';
import { AlertingErrorCode } from '../errors.js';
import type { DeliveryRecord } from '../notify/delivery-log.js';
import type { AlertDetail as AlertingDetail, AlertingService } from '../service/alerting-service.js';
import type { AlertFilter as StoreFilter } from '../store/alert-store.js';
import { AlertLifecycleError } from './alert-lifecycle-error.js';
import {
  type AlertChange,
  type AlertDelivery,
  type AlertDetail,
  type AlertFilter,
  type AlertingApi,
  Notice,
  type Silence,
} from './alerting-contract.js';

/** The store's page limit (`AlertStore.list`). */
const MAX_PAGE = 1000;

/**
 * `AlertingApi` on the `AlertingService` of this process (`anlian up`, and the HTTP routes of
 * `anlian alerting`, which serve exactly this).
 * Alerts, transitions and policies pass as alerting shapes them; what differs is mapped here:
 * pages (the cursor is the last alert's id: ids sort by opening time), "not found" (undefined),
 * errors (alerting's code with `httpStatusOf`'s status), the `closed` change (the port's
 * `cleared`), the summary (ms, the wall's names), and `expireSilence` (returns the silence).
 * Duty checks go to `dutyChecks`, on a node that sends commands to gateways; without it a request
 * is 503 (`ANL_ALERT_UNAVAILABLE`) and the list is empty.
 */
export function alertingApiOf(service: AlertingService, dutyChecks?: DutyCheckService): AlertingApi {
  return {
    async list(filter: AlertFilter) {
      const limit = Math.min(filter.limit ?? 100, MAX_PAGE - 1);
      const storeFilter: StoreFilter = {
        institution: filter.institution,
        status: filter.status,
        severity: filter.severity,
        verdict: filter.verdict,
        kind: filter.kind,
        drill: filter.drill,
        from: filter.from,
        to: filter.to,
        before: filter.cursor,
        // One more than asked for: whether there is a next page.
        limit: limit + 1,
      };
      const alerts = await mapped(() => service.list(storeFilter));
      if (alerts.length <= limit) return { alerts };
      const page = alerts.slice(0, limit);
      const last = page[page.length - 1];
      return last ? { alerts: page, nextCursor: last.id } : { alerts: page };
    },

    async openAlerts() {
      return service.allOpenAlerts();
    },

    async get(id) {
      let detail: AlertingDetail;
      try {
        detail = await service.get(id);
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw AlertLifecycleError.from(err);
      }
      return toDetail(detail);
    },

    acknowledge: (id, actor, note) => mapped(() => service.acknowledge(id, actor, note)),
    verify: (id, actor, verdict, note) => mapped(() => service.verify(id, actor, verdict, note)),
    close: (id, actor, note) => mapped(() => service.close(id, actor, note)),

    async summary(county, since) {
      const s = await mapped(() => service.summary(since, county));
      return {
        openByKind: s.openByKind,
        alarmsToday: s.openedSince,
        meanTimeToAcknowledgeMs: s.meanToAcknowledgeS === undefined ? null : Math.round(s.meanToAcknowledgeS * 1000),
      };
    },

    async listSilences() {
      const all = await mapped(() => service.listSilences(true));
      return all.map(toSilence).sort((a, b) => b.createdAt - a.createdAt);
    },

    async createSilence({ author, ...input }) {
      return toSilence(await mapped(() => service.createSilence(input, author)));
    },

    async expireSilence(id, actor) {
      await mapped(() => service.expireSilence(id, actor));
      const expired = (await service.listSilences(true)).find((s) => s.id === id);
      if (!expired) throw new AlertLifecycleError(AlertingErrorCode.NOT_FOUND, `no silence ${id}`);
      return toSilence(expired);
    },

    async listDrills() {
      return service.listDrills().map((d) => ({ ...d }));
    },

    async createDrill({ author, ...input }) {
      return { ...(await mapped(() => service.createDrill(input, author))) };
    },

    async endDrill(id, actor) {
      return { ...(await mapped(() => service.endDrill(id, actor))) };
    },

    drillReport: (id) => mapped(() => service.drillReport(id)),

    async getPolicy(institution) {
      return service.policyFor(institution);
    },

    setPolicy: (institution, policy, author) => mapped(() => service.setPolicy(institution, policy, author)),

    async requestDutyCheck(check) {
      if (!dutyChecks) {
        throw new AlertLifecycleError(
          AlertingErrorCode.UNAVAILABLE,
          'this alerting node sends no commands to gateways',
        );
      }
      const { checks } = await mapped(() => dutyChecks.request({ ...check, source: 'operator' }));
      return checks;
    },

    async listDutyChecks(filter) {
      return dutyChecks ? dutyChecks.list(filter) : [];
    },

    async sendNotice(input) {
      const notice = Notice.parse(input);
      return mapped(async () => service.sendNotice(notice));
    },

    onChange(listener) {
      return service.onChange((c) => {
        const change: AlertChange = { type: c.type === 'closed' ? 'cleared' : c.type, alert: c.alert };
        if (c.transition) change.transition = c.transition;
        listener(change);
      });
    },
  };
}

async function mapped<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw AlertLifecycleError.from(err);
  }
}

function isNotFound(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === AlertingErrorCode.NOT_FOUND;
}

function toDetail(d: AlertingDetail): AlertDetail {
  return { alert: d.alert, transitions: d.transitions, deliveries: d.deliveries.map(toDelivery) };
}

/** Field for field: the compiler checks that the port's record still holds alerting's. */
function toDelivery(r: DeliveryRecord): AlertDelivery {
  const d: AlertDelivery = {
    deliveryId: r.deliveryId,
    notificationId: r.notificationId,
    alertId: r.alertId,
    channelId: r.channelId,
    channelType: r.channelType,
    attempt: r.attempt,
    status: r.status,
    at: r.at,
  };
  if (r.contactId !== undefined) d.contactId = r.contactId;
  if (r.error !== undefined) d.error = r.error;
  if (r.receipt !== undefined) d.receipt = r.receipt;
  if (r.latencyMs !== undefined) d.latencyMs = r.latencyMs;
  if (r.nextAttemptAt !== undefined) d.nextAttemptAt = r.nextAttemptAt;
  if (r.drill !== undefined) d.drill = r.drill;
  return d;
}

function toSilence(s: Silence): Silence {
  return { ...s, scope: { ...s.scope } };
}
