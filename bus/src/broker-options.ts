import { readFileSync } from 'node:fs';
import type { IClientOptions } from 'mqtt';

/** How a county service reaches the broker (embedded aedes, mosquitto 2 or EMQX 5). */
export interface BrokerOptions {
  /** `mqtt://host:1883`, or `mqtts://host:8883` with TLS. */
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  /** Stable per replica and lane when the session is persistent: the broker keeps it under this id. */
  clientId: string;
  /** PEM file of the CA that signed the broker's certificate (`mqtts://`); the system CAs when unset. */
  caFile?: string | undefined;
  /** Reconnect backoff start, ms. Default 1000. */
  reconnectMs?: number;
}

/** The URL without credentials, for logs and health output. */
export function safeBrokerUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(unparseable url)';
  }
}

/**
 * mqtt.js options for a county service: MQTT 5, the given credentials, the county's CA for
 * `mqtts://` (the broker's certificate is always verified: `rejectUnauthorized` stays true).
 */
export function mqttClientOptions(o: BrokerOptions, extra: Partial<IClientOptions> = {}): IClientOptions {
  const opts: IClientOptions = {
    protocolVersion: 5,
    clientId: o.clientId,
    reconnectPeriod: o.reconnectMs ?? 1000,
    connectTimeout: 10_000,
    keepalive: 30,
    ...extra,
  };
  if (o.username !== undefined) opts.username = o.username;
  if (o.password !== undefined) opts.password = o.password;
  if (o.caFile) opts.ca = readFileSync(o.caFile);
  return opts;
}
