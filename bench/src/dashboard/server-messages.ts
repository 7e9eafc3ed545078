/** IPC between the benchmark and its dashboard server process. */
export type ToServer =
  | { type: 'start-feed'; msgRate: number; alertRate: number }
  | { type: 'start-baseline'; rate: number }
  | { type: 'stop-feeds' }
  | { type: 'quit' };

export type FromServer =
  | {
      type: 'ready';
      url: string;
      baselineUrl: string;
      cookie: string;
      county: string;
      institutions: number;
      devices: number;
      setupMs: number;
    }
  | { type: 'stopped'; alertsRaised: number; messagesFed: number; baselineSent: number };
