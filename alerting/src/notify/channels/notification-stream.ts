import type { Logger } from 'pino';
import type { FormattedMessage } from '../message-format.js';
import type { AlertNotification } from '../notification.js';

/** What a dashboard subscriber receives: the notification and its texts, once per delivery. */
export interface StreamNotification {
  deliveryId: string;
  channelId: string;
  notification: AlertNotification;
  message: FormattedMessage;
}

export type StreamListener = (event: StreamNotification) => void;

/**
 * In-process fan-out from the dispatcher to the dashboard's socket.io (which relays to rooms
 * per county and institution). Listeners are called synchronously and must not block; one that
 * throws is logged and the others still get the event.
 */
export class NotificationStream {
  private readonly listeners = new Set<StreamListener>();

  constructor(private readonly logger?: Logger) {}

  /** Returns the unsubscribe function. */
  subscribe(listener: StreamListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }

  /** Delivers to every current listener; returns how many took it without throwing. */
  publish(event: StreamNotification): number {
    let delivered = 0;
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
        delivered++;
      } catch (err) {
        this.logger?.error({ err, deliveryId: event.deliveryId }, 'notification stream listener threw');
      }
    }
    return delivered;
  }
}
