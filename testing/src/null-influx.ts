import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface NullInflux {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** Writes it took (POSTs). */
  writes: number;
  close(): Promise<void>;
}

/**
 * A stand-in InfluxDB on 127.0.0.1 that answers every request 204 (a write taken): for tests and
 * benchmarks of the alarm path, which never waits on storage, without an influxd to start.
 */
export async function startNullInflux(): Promise<NullInflux> {
  let writes = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.method === 'POST') writes++;
      res.writeHead(204);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get writes() {
      return writes;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive sockets of the writer's agent would hold close() open.
        server.closeAllConnections();
      }),
  };
}
