import type { MqttClient } from 'mqtt';
import type { z } from 'zod';
import { safeBrokerUrl } from './broker-options.js';

/**
 * Resolves on the client's first CONNACK; rejects after `timeoutMs` (ending the client), so a
 * service that cannot reach the broker fails its start instead of hanging.
 */
export async function firstConnect(client: MqttClient, url: string, timeoutMs: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`ANL_ERR_BUS_CONNECT: no broker at ${safeBrokerUrl(url)} within ${timeoutMs} ms`));
    }, timeoutMs);
    client.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
  }).catch(async (err: unknown) => {
    await client.endAsync().catch(() => {});
    throw err;
  });
}

/**
 * A county-internal message (`anlian-county/v1/…`) checked against its contract: the data, or
 * why it was refused (not JSON; the first schema issues), for the caller's log and metric.
 */
export function decodeCountyMessage<S extends z.ZodType>(
  payload: Buffer,
  schema: S,
): { ok: true; data: z.output<S> } | { ok: false; reason: 'not JSON' | 'not the contract'; detail: string } {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: 'not JSON', detail: (err as Error).message };
  }
  const r = schema.safeParse(json);
  if (r.success) return { ok: true, data: r.data };
  const detail = r.error.issues
    .slice(0, 3)
    .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
    .join('; ');
  return { ok: false, reason: 'not the contract', detail };
}
