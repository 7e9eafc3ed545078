/**
 * What the dashboard needs from alerting: alerting's own API (`@anlian/alerting/client`). In
 * `anlian up` it is alerting's in-process facade (`alertingApiOf(service)`); in the production
 * form it is `AlertingClient`, HTTP to the `anlian alerting` nodes with changes from the broker.
 * Tests use `InMemoryAlerts` (test/in-memory-alerts.ts). The zod schemas re-exported here are also
 * the dashboard's HTTP and socket.io contract: what the port returns is what clients receive.
 */
import type { AlertingApi } from '@anlian/alerting/client';

export * from '@anlian/alerting/client';
export type AlertsPort = AlertingApi;
