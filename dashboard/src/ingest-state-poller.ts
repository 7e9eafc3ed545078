import type { DeviceState, GatewayStateEntry, LatestStateCache } from '@anlian/ingest';
import type { IngestEvent } from '@anlian/protocol';
import type { Logger } from 'pino';
import { z } from 'zod';

const DeviceStates = z.object({
  devices: z.array(z.looseObject({ gateway: z.string(), device: z.string(), receivedAt: z.number() })),
});
const GatewayStates = z.object({
  gateways: z.array(z.looseObject({ gateway: z.string(), state: z.enum(['online', 'offline']), since: z.number() })),
});

/**
 * For a dashboard in its own process: copies a separate ingest's latest state (its
 * `/v1/state/devices` and `/v1/state/gateways`) into a local cache every few seconds, and turns
 * gateway state changes into `status` events. Inside `anlian up` the dashboard gets ingest's
 * cache and events directly and this is not used.
 */
export class IngestStatePoller {
  readonly #url: string;
  readonly #cache: LatestStateCache;
  readonly #everyMs: number;
  readonly #log: Logger;
  readonly #listeners = new Set<(e: IngestEvent) => void>();
  readonly #gatewayState = new Map<string, string>();
  #timer: NodeJS.Timeout | undefined;
  #warned = false;

  constructor(opts: { url: string; cache: LatestStateCache; everyMs: number; logger: Logger }) {
    this.#url = opts.url.replace(/\/$/, '');
    this.#cache = opts.cache;
    this.#everyMs = opts.everyMs;
    this.#log = opts.logger.child({ module: 'ingest-state-poller' });
  }

  subscribe = (listener: (e: IngestEvent) => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  async start(): Promise<void> {
    await this.#poll();
    this.#timer = setInterval(() => void this.#poll(), this.#everyMs);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #poll(): Promise<void> {
    try {
      const [d, g] = await Promise.all([
        this.#get('/v1/state/devices', DeviceStates),
        this.#get('/v1/state/gateways', GatewayStates),
      ]);
      for (const raw of d.devices) {
        const s = raw as unknown as DeviceState;
        const id = {
          county: s.county,
          institution: s.institution,
          gateway: s.gateway,
          device: s.device,
          kind: s.kind,
          confirmed: s.confirmed,
        };
        if (s.ts !== undefined) this.#cache.updateTelemetry(id, s.ts, s.receivedAt, s.values);
        if (s.lastEvent) this.#cache.updateEvent(id, s.lastEvent, s.receivedAt);
      }
      for (const raw of g.gateways) {
        const s = raw as unknown as GatewayStateEntry;
        this.#cache.updateGateway({
          county: s.county,
          institution: s.institution,
          gateway: s.gateway,
          state: s.state,
          since: s.since,
          receivedAt: s.receivedAt,
        });
        if (s.lastHeartbeat) this.#cache.updateHeartbeat(s, s.lastHeartbeat, s.receivedAt);
        const before = this.#gatewayState.get(s.gateway);
        this.#gatewayState.set(s.gateway, s.state);
        if (before !== undefined && before !== s.state) {
          const event: IngestEvent = {
            type: 'status',
            county: s.county,
            institution: s.institution,
            gateway: s.gateway,
            receivedAt: s.receivedAt,
            payload: { v: 1, ts: s.since, seq: 0, state: s.state },
          };
          for (const l of this.#listeners) l(event);
        }
      }
      this.#warned = false;
    } catch (err) {
      // Ingest restarting is normal; say so once, not every poll.
      if (!this.#warned) this.#log.warn({ err, url: this.#url }, 'cannot read ingest state');
      this.#warned = true;
    }
  }

  async #get<T>(path: string, schema: z.ZodType<T>): Promise<T> {
    const res = await fetch(`${this.#url}${path}`, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`${path} answered ${res.status}`);
    return schema.parse(await res.json());
  }
}
