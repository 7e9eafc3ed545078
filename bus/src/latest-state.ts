import type { IngestEvent } from '@anlian/protocol';
import { LatestStateCache } from './latest-state-cache.js';

/**
 * Applies one gateway message to a latest-state cache, as ingest's pipeline does inline: for a
 * service that keeps its own picture of the county from the broker (a dashboard node).
 */
export function updateLatestState(cache: LatestStateCache, e: IngestEvent): void {
  // Simulated time (design.md): a simulation run's readings and times are not the county's latest
  // state; its gateway being connected is, as of the message's arrival.
  const simulated = e.payload.simRun !== undefined;
  if (simulated && (e.type === 'telemetry' || e.type === 'event')) return;
  switch (e.type) {
    case 'telemetry': {
      const { v: _v, ts, seq: _seq, ...values } = e.payload;
      cache.updateTelemetry(
        deviceId(e, e.payload.kind),
        ts,
        e.receivedAt,
        values,
        LatestStateCache.key(e.gateway, e.device),
      );
      return;
    }
    case 'event': {
      const p = e.payload;
      cache.updateEvent(
        deviceId(e, p.kind),
        { event: p.event, ts: p.ts, ...(p.zone ? { zone: p.zone } : {}), ...(p.detail ? { detail: p.detail } : {}) },
        e.receivedAt,
      );
      return;
    }
    case 'status':
      cache.updateGateway({
        county: e.county,
        institution: e.institution,
        gateway: e.gateway,
        state: e.payload.state,
        // A last will's `ts` was fixed when the gateway connected: the county's receive time says
        // when it went away (README, "Last wills").
        since: e.payload.reason === 'will' || simulated ? e.receivedAt : e.payload.ts,
        receivedAt: e.receivedAt,
      });
      return;
    case 'heartbeat': {
      const h = e.payload;
      cache.updateHeartbeat(
        { county: e.county, institution: e.institution, gateway: e.gateway },
        {
          ts: simulated ? e.receivedAt : h.ts,
          uptimeS: h.uptimeS,
          queueDepth: h.queueDepth,
          adaptersOk: h.adapters.filter((a) => a.ok).length,
          adaptersTotal: h.adapters.length,
        },
        e.receivedAt,
      );
      return;
    }
    case 'command-reply':
    case 'snapshot':
      return;
    default: {
      const never: never = e;
      throw new Error(`unhandled event ${(never as { type: string }).type}`);
    }
  }
}

function deviceId(
  e: Extract<IngestEvent, { device: string }>,
  kind: Extract<IngestEvent, { device: string }>['payload']['kind'],
) {
  return {
    county: e.county,
    institution: e.institution,
    gateway: e.gateway,
    device: e.device,
    kind,
    confirmed: e.confirmed,
  };
}
