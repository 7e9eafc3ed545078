// A county broker for the gateway bench, in its own process so that it shares no CPU time with
// what it measures: plain aedes on 127.0.0.1 that counts the device messages it routes and
// reports when the expected number has arrived (first and last arrival time).
import { createServer, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import type { BrokerCommand, BrokerReport } from './broker-messages.js';

const report = (r: BrokerReport) => process.send?.(r);
const aedes = await Aedes.createBroker();
const sockets = new Set<Socket>();
const server = createServer((s) => {
  sockets.add(s);
  s.once('close', () => sockets.delete(s));
  aedes.handle(s);
});
let expected = Number.POSITIVE_INFINITY;
let count = 0;
let firstAt = 0;
let lastAt = 0;

aedes.on('publish', (packet, client) => {
  if (!client || !packet.topic.includes('/device/')) return;
  const now = performance.timeOrigin + performance.now();
  if (count === 0) firstAt = now;
  lastAt = now;
  count++;
  if (count === expected) report({ type: 'counted', count, firstAt, lastAt });
});

process.on('message', (m: BrokerCommand) => {
  switch (m.type) {
    case 'listen':
      server.once('error', (err) => report({ type: 'error', message: err.message }));
      server.listen(m.port, '127.0.0.1', () => report({ type: 'listening', port: m.port }));
      return;
    case 'expect':
      expected = m.count;
      count = 0;
      return;
    case 'exit':
      aedes.close(() => {
        for (const s of sockets) s.destroy();
        server.close(() => process.exit(0));
      });
      return;
    default: {
      const never: never = m;
      report({ type: 'error', message: `unknown command ${JSON.stringify(never)}` });
    }
  }
});
