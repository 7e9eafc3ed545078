import { decodeMessage, topics } from '@anlian/protocol';

/** A detector's fire alarm (protocol `EventPayload`, kind fire, event fire), `ts` = publish time. */
export function fireEventPayload(ts: number, seq: number): string {
  return JSON.stringify({ v: 1, ts, seq, kind: 'fire', event: 'fire', zone: 'bench' });
}

/** A gateway heartbeat (protocol `HeartbeatPayload`). */
export function heartbeatPayload(ts: number, seq: number, uptimeS: number): string {
  return JSON.stringify({ v: 1, ts, seq, uptimeS, queueDepth: 0, adapters: [] });
}

/** The prober's payloads pass the protocol's own decoder, and the fire event is a fire alarm; throws otherwise. */
export function checkProbePayloads(): void {
  const addr = { county: 'bench-alarm', institution: 'a-0001', gateway: 'gw-a-0001' };
  const fire = decodeMessage(topics.event(addr, 'fd001'), fireEventPayload(Date.now(), 1));
  if (!fire.ok) throw new Error(`prober fire event is invalid: ${fire.reason} ${fire.detail}`);
  const m = fire.message;
  if (m.type !== 'event' || m.payload.kind !== 'fire' || m.payload.event !== 'fire') {
    throw new Error('prober fire event does not decode as a fire alarm');
  }
  const hb = decodeMessage(topics.heartbeat(addr), heartbeatPayload(Date.now(), 2, 10));
  if (!hb.ok) throw new Error(`prober heartbeat is invalid: ${hb.reason} ${hb.detail}`);
}
