// A test's bulk lane thread: the real one (compiled `bulk-lane-worker.js`), plus a hand the test
// holds on a BroadcastChannel — `block` parks the thread until the test lets go (a thread busy
// with a flood of telemetry, deterministically), `crash` throws an uncaught error in it.
import { BroadcastChannel } from 'node:worker_threads';

export const CONTROL_CHANNEL = 'anlian-test-bulk-lane-control';

const control = new BroadcastChannel(CONTROL_CHANNEL);
control.unref();
control.onmessage = (e) => {
  const m = e.data;
  if (m.type === 'block') {
    // flag[0]: 1 while parked (the test sees it), set to 0 by the test to let the thread go.
    const flag = new Int32Array(m.flag);
    Atomics.store(flag, 0, 1);
    while (Atomics.load(flag, 0) === 1) Atomics.wait(flag, 0, 1, 100);
  } else if (m.type === 'crash') {
    setImmediate(() => {
      throw new Error('crash asked by the test');
    });
  }
};

await import('../../dist/lane/bulk-lane-worker.js');
