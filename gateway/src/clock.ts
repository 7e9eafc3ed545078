/**
 * Device time and the timers that follow it (heartbeats, Modbus polls, the local alarm's
 * acknowledgement deadline). Injected so that tests can run ten minutes of an institution in
 * a second. Network pacing (reconnect backoff, the replay rate limit, queue fsync cadence) is
 * about real time and uses the real timers regardless.
 */
export interface Clock {
  /** ms since the Unix epoch. */
  now(): number;
  /** Runs `fn` after `ms`; returns the function that cancels it. */
  setTimeout(fn: () => void, ms: number): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

/** Calls `fn` every `ms` on `clock` until the returned function is called. */
export function every(clock: Clock, ms: number, fn: () => void): () => void {
  let cancel: () => void = () => {};
  let stopped = false;
  const arm = () => {
    cancel = clock.setTimeout(() => {
      if (stopped) return;
      arm();
      fn();
    }, ms);
  };
  arm();
  return () => {
    stopped = true;
    cancel();
  };
}
