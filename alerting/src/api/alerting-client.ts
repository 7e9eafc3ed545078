import type { AlertChangeMessage } from '@anlian/protocol';
import { Alert } from '@anlian/protocol';
import { z } from 'zod';
import type { EscalationPolicyInput } from '../escalation/escalation-policy.js';
import { AlertLifecycleError } from './alert-lifecycle-error.js';
import {
  type AlertChange,
  AlertDetail,
  type AlertFilter,
  type AlertingApi,
  AlertPage,
  AlertSummary,
  Drill,
  type DrillReportDocument,
  EscalationPolicy,
  type NewDrill,
  type NewSilence,
  type NoticeInput,
  NoticeReceipt,
  Silence,
} from './alerting-contract.js';

export interface AlertingClientOptions {
  /** Base URLs of the alerting nodes (`http://alerting-1:9190`, …); tried in turn when one is down. */
  urls: readonly string[];
  /** The county's service token (ANLIAN_SERVICE_TOKEN), when alerting asks for one. */
  serviceToken?: string | undefined;
  /** Alert changes from the broker (`AlertBus.onChange`). */
  changes: (listener: (m: AlertChangeMessage) => void) => () => void;
  /** Per request. Default 10 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/**
 * `AlertingApi` over HTTP to `anlian alerting` (the production form): what the dashboard nodes
 * use when alerting runs as its own service. Requests go to the node that answered last; a node
 * that does not answer, or answers 502/503, makes the client try the next one (any alerting node
 * serves reads and forwards an action to the node that owns the alert's institution).
 * Changes arrive from the broker, not from HTTP.
 */
export class AlertingClient implements AlertingApi {
  readonly #o: AlertingClientOptions;
  readonly #fetch: typeof fetch;
  #preferred = 0;

  constructor(opts: AlertingClientOptions) {
    if (opts.urls.length === 0) throw new TypeError('AlertingClient needs at least one alerting URL');
    this.#o = { ...opts, urls: opts.urls.map((u) => u.replace(/\/$/, '')) };
    this.#fetch = opts.fetch ?? fetch;
  }

  list(filter: AlertFilter) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(filter)) {
      if (v === undefined) continue;
      q.set(k, Array.isArray(v) ? v.join(',') : String(v));
    }
    return this.#call('GET', `/v1/alerts?${q}`, undefined, AlertPage);
  }

  async openAlerts() {
    return (await this.#call('GET', '/v1/alerts/open', undefined, z.object({ alerts: z.array(Alert) }))).alerts;
  }

  async get(id: string) {
    try {
      return await this.#call('GET', `/v1/alerts/${encodeURIComponent(id)}`, undefined, AlertDetail);
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  }

  acknowledge(id: string, actor: string, note?: string) {
    return this.#call('POST', `/v1/alerts/${encodeURIComponent(id)}/acknowledge`, { actor, note }, Alert);
  }

  verify(id: string, actor: string, verdict: Alert['verdict'] & string, note?: string) {
    return this.#call('POST', `/v1/alerts/${encodeURIComponent(id)}/verify`, { actor, verdict, note }, Alert);
  }

  close(id: string, actor: string, note?: string) {
    return this.#call('POST', `/v1/alerts/${encodeURIComponent(id)}/close`, { actor, note }, Alert);
  }

  summary(county: string, since: number) {
    const q = new URLSearchParams({ county, since: String(since) });
    return this.#call('GET', `/v1/summary?${q}`, undefined, AlertSummary);
  }

  async listSilences() {
    return (await this.#call('GET', '/v1/silences', undefined, z.object({ silences: z.array(Silence) }))).silences;
  }

  createSilence(silence: NewSilence) {
    return this.#call('POST', '/v1/silences', silence, Silence);
  }

  expireSilence(id: string, actor: string) {
    return this.#call('POST', `/v1/silences/${encodeURIComponent(id)}/expire`, { actor }, Silence);
  }

  async listDrills() {
    return (await this.#call('GET', '/v1/drills', undefined, z.object({ drills: z.array(Drill) }))).drills;
  }

  createDrill(drill: NewDrill) {
    return this.#call('POST', '/v1/drills', drill, Drill);
  }

  endDrill(id: string, actor: string) {
    return this.#call('POST', `/v1/drills/${encodeURIComponent(id)}/end`, { actor }, Drill);
  }

  async drillReport(id: string) {
    // The report's shape is alerting's `DrillReport`; only its envelope is checked here.
    const doc = await this.#call(
      'GET',
      `/v1/drills/${encodeURIComponent(id)}/report`,
      undefined,
      z.object({ report: z.looseObject({}), csv: z.string() }),
    );
    return doc as unknown as DrillReportDocument;
  }

  getPolicy(institution: string) {
    return this.#call('GET', `/v1/policies/${encodeURIComponent(institution)}`, undefined, EscalationPolicy);
  }

  setPolicy(institution: string, policy: EscalationPolicyInput, author: string) {
    return this.#call('PUT', `/v1/policies/${encodeURIComponent(institution)}`, { policy, author }, EscalationPolicy);
  }

  sendNotice(notice: NoticeInput) {
    return this.#call('POST', '/v1/notices', notice, NoticeReceipt);
  }

  onChange(listener: (change: AlertChange) => void): () => void {
    return this.#o.changes((m) => {
      const change: AlertChange = { type: m.type === 'closed' ? 'cleared' : m.type, alert: m.alert };
      if (m.transition) change.transition = m.transition;
      listener(change);
    });
  }

  async #call<T>(method: string, path: string, body: unknown, schema: z.ZodType<T>): Promise<T> {
    const urls = this.#o.urls;
    let lastError: unknown;
    for (let i = 0; i < urls.length; i++) {
      const n = (this.#preferred + i) % urls.length;
      let res: Response;
      try {
        res = await this.#fetch(`${urls[n]}${path}`, {
          method,
          headers: {
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...(this.#o.serviceToken ? { authorization: `Bearer ${this.#o.serviceToken}` } : {}),
          },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          signal: AbortSignal.timeout(this.#o.timeoutMs ?? 10_000),
        });
      } catch (err) {
        lastError = err;
        continue;
      }
      if (res.status === 502 || res.status === 503) {
        lastError = new AlertLifecycleError('ANL_ALERT_UNAVAILABLE', `${urls[n]} answered ${res.status}`);
        continue;
      }
      this.#preferred = n;
      const json: unknown = await res.json().catch(() => undefined);
      if (!res.ok) {
        const e = json as { code?: string; message?: string; issues?: { path: string; message: string }[] } | undefined;
        throw new AlertLifecycleError(e?.code ?? 'ANL_ALERT_INTERNAL', e?.message ?? `HTTP ${res.status}`, {
          statusCode: res.status,
          ...(Array.isArray(e?.issues) ? { issues: e.issues } : {}),
        });
      }
      return schema.parse(json);
    }
    throw new AlertLifecycleError(
      'ANL_ALERT_UNAVAILABLE',
      `no alerting node answered (${urls.join(', ')}): ${(lastError as Error | undefined)?.message ?? 'unknown'}`,
      { cause: lastError },
    );
  }
}
