import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CapturedRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: string;
  /** The status answered, once answered (set before the client can see the response). */
  status?: number;
}

/** What the server answers; `undefined` answers 204. */
export type Responder = (req: CapturedRequest, res: ServerResponse) => void;

export interface CaptureServer {
  url: string;
  requests: CapturedRequest[];
  respond(responder: Responder | undefined): void;
  close(): Promise<void>;
}

/**
 * A loopback HTTP server that records every request: stands in for InfluxDB 2.x/3.x (not
 * installable here) and for failure modes that influxd will not produce on demand.
 */
export async function startCaptureServer(): Promise<CaptureServer> {
  const requests: CapturedRequest[] = [];
  let responder: Responder | undefined;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const captured: CapturedRequest = {
        method: req.method ?? '',
        url: new URL(req.url ?? '/', 'http://capture'),
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(captured);
      if (responder === undefined) {
        res.writeHead(204).end();
      } else {
        responder(captured, res);
      }
      if (res.headersSent) captured.status = res.statusCode;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    respond(r) {
      responder = r;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
