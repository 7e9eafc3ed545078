import type { DeliveryLog, DeliveryRecord } from './delivery-log.js';

/** Keeps every record in memory: for tests and the all-in-one demo without a database. */
export class MemoryDeliveryLog implements DeliveryLog {
  readonly records: DeliveryRecord[] = [];

  record(r: DeliveryRecord): void {
    this.records.push(r);
  }

  async sentKeys(alertId: string): Promise<Set<string>> {
    return new Set(this.records.filter((r) => r.alertId === alertId && r.status === 'sent').map((r) => r.deliveryId));
  }

  /** The records of one delivery, in the order they were made. */
  of(deliveryId: string): DeliveryRecord[] {
    return this.records.filter((r) => r.deliveryId === deliveryId);
  }
}
