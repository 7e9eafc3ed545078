import { z } from 'zod';
import type { BrokerOptions } from './broker-options.js';

const optional = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v));

/** How a county service reaches the external broker, from its environment (production form). */
export const BrokerEnv = z.object({
  ANLIAN_BROKER_URL: optional.describe('the county broker (mqtts://host:8883 in production, mqtt://… on one machine)'),
  ANLIAN_BROKER_USERNAME: optional.describe('this service’s account on the broker (`anlian broker-config`)'),
  ANLIAN_BROKER_PASSWORD: optional,
  ANLIAN_BROKER_CA_FILE: optional.describe('PEM of the CA that signed the broker’s certificate (mqtts://)'),
});
export type BrokerEnv = z.infer<typeof BrokerEnv>;

/** The broker options of a service from its environment; `clientId` names this replica. */
export function brokerFromEnv(e: BrokerEnv, clientId: string): BrokerOptions | undefined {
  if (!e.ANLIAN_BROKER_URL) return undefined;
  return {
    url: e.ANLIAN_BROKER_URL,
    clientId,
    ...(e.ANLIAN_BROKER_USERNAME ? { username: e.ANLIAN_BROKER_USERNAME } : {}),
    ...(e.ANLIAN_BROKER_PASSWORD ? { password: e.ANLIAN_BROKER_PASSWORD } : {}),
    ...(e.ANLIAN_BROKER_CA_FILE ? { caFile: e.ANLIAN_BROKER_CA_FILE } : {}),
  };
}
