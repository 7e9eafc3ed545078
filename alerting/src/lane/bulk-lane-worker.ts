import { parentPort, workerData } from 'node:worker_threads';
import { createLogger, lowerThreadPriority } from '@anlian/runtime';
import type { BulkLaneInit, FromBulkLane, ToBulkLane } from './bulk-lane-messages.js';
import { BulkLaneRunner } from './bulk-lane-runner.js';

// The bulk lane's thread (`BulkLaneThread` starts it): a `BulkLaneRunner` on the messages of the
// alarm thread. An uncaught error ends the thread; the alarm thread sees it exit and starts another.
const port = parentPort;
if (!port) throw new Error('bulk-lane-worker runs on a worker thread (BulkLaneThread)');
const init = workerData as BulkLaneInit;
const logger = createLogger({ level: init.logLevel, svc: 'alerting' }).child({ node: init.nodeId });
// The alarm thread runs first when the cores are contended (issue 12); the threads this one starts inherit it.
lowerThreadPriority(init.nice ?? 0, logger, 'alerting bulk lane');
const runner = new BulkLaneRunner(init, (m: FromBulkLane) => port.postMessage(m), logger);
port.on('message', (m: ToBulkLane) => runner.receive(m));
