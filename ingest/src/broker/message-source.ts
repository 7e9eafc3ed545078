/** One MQTT message as the ingest pipeline receives it, from either kind of broker. */
export interface InboundMessage {
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  retain: boolean;
  /** Embedded broker only: the authenticated gateway that published it. */
  clientId?: string;
}

/**
 * Resolves when the message is durably accepted (or deliberately refused); only then is it
 * acknowledged (PUBACK). Rejects only on an internal failure — then the message is NOT
 * acknowledged, so the publisher redelivers.
 */
export type MessageHandler = (msg: InboundMessage) => Promise<void>;

/** Where gateway messages come from: the embedded aedes broker or an external broker's shared subscription. */
export interface MessageSource {
  start(handler: MessageHandler): Promise<void>;
  stop(): Promise<void>;
  /** Human-readable: where it listens or what it connects to. */
  describe(): string;
  connected(): boolean;
}
