import { TOPIC_ROOT } from '@anlian/protocol';
import { ExternalSubscriber, type ExternalSubscriberOptions } from './external-subscriber.js';

/**
 * The external broker's subscriber with the gateways' video-review snapshots
 * (`…/device/{camera}/snapshot`) in its bulk lane. Without them ingest on mosquitto or EMQX never
 * received a picture: the lane filters list the gateway topics one by one, and snapshot was not
 * among them (the embedded broker hands ingest every topic). Bulk, not the alarm lane: a snapshot
 * is up to 124 KiB and follows the fire alarm it documents; it must never hold an alarm back
 * (GB 26875.1), and it is acknowledged only once in the media store, like telemetry in the spool.
 */
export class SnapshotSubscriber extends ExternalSubscriber {
  readonly #snapshots: string;

  constructor(opts: ExternalSubscriberOptions) {
    super(opts);
    this.#snapshots = `$share/${opts.shareGroup ?? 'ingest'}/${TOPIC_ROOT}/+/+/+/device/+/snapshot`;
  }

  override get filters(): { bulk: string[]; alarm: string[] } {
    const lanes = super.filters;
    return { ...lanes, bulk: [...lanes.bulk, this.#snapshots] };
  }
}
