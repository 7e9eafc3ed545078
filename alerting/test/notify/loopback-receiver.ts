import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  /** Path and query as sent. */
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

export type Reply = { status?: number; headers?: Record<string, string>; body?: unknown } | 'hang';

/** A real HTTP server on 127.0.0.1, port 0, that records every request and answers with `reply`. */
export class LoopbackReceiver {
  readonly requests: ReceivedRequest[] = [];
  private server: Server | undefined;
  private url_ = '';

  constructor(private reply: (req: ReceivedRequest, index: number) => Reply | Promise<Reply>) {}

  get url(): string {
    return this.url_;
  }

  setReply(reply: (req: ReceivedRequest, index: number) => Reply | Promise<Reply>): void {
    this.reply = reply;
  }

  async start(path = '/hook'): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url_ = `http://127.0.0.1:${port}${path}`;
    return this;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const received: ReceivedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      const index = this.requests.push(received) - 1;
      void Promise.resolve(this.reply(received, index)).then((reply) => {
        if (reply === 'hang') return;
        const body =
          reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
        res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
        res.end(body);
      });
    });
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
