import { DEVICE_KINDS, type DeviceKind, decodeMessage, topics } from '@anlian/protocol';

/**
 * Valid protocol telemetry (`TelemetryPayload`) as JSON text, built without JSON.stringify: the
 * generator formats 10,000+ of these a second on a shared 2-core machine. Every payload starts
 * with `{"v":1,"ts":` so that the baseline subscriber can read `ts` without parsing the rest.
 * The run checks samples of every kind against the protocol's own schema before it starts.
 *
 * Values stay inside every default alert rule's normal range (alerting/src/rules/default-rules.ts),
 * so that as background load for bench:alarm-latency the stream raises no alert: pressures
 * 1.10–1.29 MPa (green zone 1.0–1.4), kitchens 24–26 °C (warning above 50 °C; a 2 °C band cannot
 * show a rise of 8 °C/min held for a minute), gas 0–4 % LEL (alarm at 25 %),
 * residual current 120–179 mA (alarm at 300), cable temperature 26–33 °C.
 */
export function telemetryPayload(kind: DeviceKind, ts: number, seq: number, n: number): string {
  const head = `{"v":1,"ts":${ts},"seq":${seq},"kind":"${kind}"`;
  switch (kind) {
    case 'fire':
      return `${head},"battery":${80 + (n % 20)},"signal":${-60 - (n % 30)},"smoke":${(n % 7) / 100}}`;
    case 'extinguisher':
      return `${head},"medium":"dry_powder","pressure":${1.1 + (n % 20) / 100},"temperature":${18 + (n % 10)},"battery":${70 + (n % 30)}}`;
    case 'kitchen':
      return `${head},"temperature":${24 + (n % 3)},"gasLel":${n % 5},"battery":${60 + (n % 40)},"signal":${-70 - (n % 20)}}`;
    case 'camera':
      return `${head},"online":true,"streamOk":true,"fps":25,"bitrateKbps":${2048 + (n % 512)},"width":1920,"height":1080}`;
    case 'electrical':
      return `${head},"residualCurrent":${120 + (n % 60)},"cableTemperature":${26 + (n % 8)}}`;
    default: {
      const never: never = kind;
      throw new Error(`unknown kind ${String(never)}`);
    }
  }
}

const TS_OFFSET = '{"v":1,"ts":'.length;

/** Reads `ts` from a payload made by `telemetryPayload` (digits right after `{"v":1,"ts":`). */
export function payloadTs(payload: Buffer): number {
  let ts = 0;
  for (let i = TS_OFFSET; i < payload.length; i++) {
    const c = payload[i] as number;
    if (c < 48 || c > 57) break;
    ts = ts * 10 + (c - 48);
  }
  return ts;
}

/** Every kind of payload the generator sends passes the protocol's own decoder; throws otherwise. */
export function checkTelemetryPayloads(): void {
  const addr = { county: 'bench-01', institution: 'p-0001', gateway: 'gw-p-0001' };
  for (const kind of DEVICE_KINDS) {
    for (let n = 0; n < 50; n++) {
      const r = decodeMessage(topics.telemetry(addr, 'd01'), telemetryPayload(kind, Date.now(), n, n));
      if (!r.ok) throw new Error(`generator payload for ${kind} is invalid: ${r.reason} ${r.detail}`);
    }
  }
}
