import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One push as it arrived at the loopback webhook; `at` is when its headers were parsed. */
export interface ReceivedPush {
  at: number;
  /** Alerting's `Idempotency-Key` header: the same on every attempt of one delivery. */
  idempotencyKey: string | undefined;
  alertId: string | undefined;
  rule: string | undefined;
  drill: boolean | undefined;
  body: Record<string, unknown>;
}

export interface WebhookReceiver {
  /** `http://127.0.0.1:PORT/hook` */
  readonly url: string;
  readonly pushes: readonly ReceivedPush[];
  /** Resolves with the first push that `match` accepts (already received or still to come). */
  waitFor(match: (p: ReceivedPush) => boolean, timeoutMs?: number): Promise<ReceivedPush>;
  stop(): Promise<void>;
}

/**
 * A loopback HTTP endpoint for alerting's signed webhook channel (tests and benches): answers
 * 200 at once and keeps every push. Binds port 0 itself, so no two tests can collide on a port.
 */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const pushes: ReceivedPush[] = [];
  const waiters = new Set<{ match: (p: ReceivedPush) => boolean; resolve: (p: ReceivedPush) => void }>();
  const server: Server = createServer((req, res) => {
    const at = Date.now();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        res.writeHead(400).end('not JSON');
        return;
      }
      const n = (body.notification ?? {}) as Record<string, unknown>;
      const key = req.headers['idempotency-key'];
      const push: ReceivedPush = {
        at,
        idempotencyKey: typeof key === 'string' ? key : undefined,
        alertId: typeof n.alertId === 'string' ? n.alertId : undefined,
        rule: typeof n.rule === 'string' ? n.rule : undefined,
        drill: typeof n.drill === 'boolean' ? n.drill : undefined,
        body,
      };
      pushes.push(push);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      for (const w of [...waiters]) {
        if (w.match(push)) {
          waiters.delete(w);
          w.resolve(push);
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    pushes,
    waitFor(match, timeoutMs = 10_000) {
      const found = pushes.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const w = { match, resolve };
        waiters.add(w);
        setTimeout(() => {
          if (waiters.delete(w))
            reject(new Error(`no matching push within ${timeoutMs} ms (${pushes.length} received)`));
        }, timeoutMs).unref();
      });
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
