import type { AlertDetail } from '../../../src/alerts/alerts-port';
import { api } from './api-client';

/** `GET /api/alerts/:id`: the alert, its handling record and the names of the people in it. */
export type AlertRecord = AlertDetail & { actors: Record<string, string> };

export function loadAlertRecord(id: string): Promise<AlertRecord> {
  return api<AlertRecord>('GET', `/api/alerts/${encodeURIComponent(id)}`);
}
