import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One push as it arrived; `at` is stamped when the request's headers were parsed. */
export interface ReceivedPush {
  at: number;
  alertId: string;
  rule: string;
  gateway: string;
  device: string | undefined;
  attempt: number;
  recipients: number;
}

interface WebhookBody {
  idempotencyKey?: unknown;
  notification?: {
    alertId?: unknown;
    rule?: unknown;
    gateway?: unknown;
    device?: { id?: unknown };
    recipients?: unknown;
  };
}

/**
 * The loopback endpoint of the bench's webhook channel: answers 200 at once and records every
 * push. "First push" of an alert = the earliest arrival carrying its `alertId`.
 */
export class WebhookReceiver {
  readonly #pushes: ReceivedPush[] = [];
  readonly #listeners = new Set<(push: ReceivedPush) => void>();
  #malformed = 0;
  #server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const at = Date.now();
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let body: WebhookBody;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as WebhookBody;
        } catch (err) {
          this.#malformed++;
          res.writeHead(400).end(`not JSON: ${(err as Error).message}`);
          return;
        }
        const n = body.notification;
        if (typeof n?.alertId !== 'string' || typeof n.rule !== 'string' || typeof n.gateway !== 'string') {
          this.#malformed++;
          res.writeHead(400).end('no notification');
          return;
        }
        const push: ReceivedPush = {
          at,
          alertId: n.alertId,
          rule: n.rule,
          gateway: n.gateway,
          device: typeof n.device?.id === 'string' ? n.device.id : undefined,
          attempt: Number(req.headers['x-anlian-attempt'] ?? 1),
          recipients: Array.isArray(n.recipients) ? n.recipients.length : 0,
        };
        this.#pushes.push(push);
        res.writeHead(200, { 'content-type': 'application/json' }).end(`{"id":"bench-${this.#pushes.length}"}`);
        for (const l of this.#listeners) l(push);
      });
    });
    this.#server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/anlian`;
  }

  /** Calls `listener` for every push; returns the function that stops it. */
  on(listener: (push: ReceivedPush) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get pushes(): readonly ReceivedPush[] {
    return this.#pushes;
  }

  /** Requests that were not a notification (answered 400). */
  get malformed(): number {
    return this.#malformed;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
