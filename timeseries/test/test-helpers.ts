import { pino } from 'pino';

/** Polls `check` until it returns true; fails with `what` after `timeoutMs`. Not a timing assertion. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface CapturedLog {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A pino logger whose records are kept in `records` for assertions. */
export function captureLogger(): { logger: pino.Logger; records: CapturedLog[] } {
  const records: CapturedLog[] = [];
  const logger = pino(
    { level: 'debug' },
    {
      write(line: string) {
        records.push(JSON.parse(line) as CapturedLog);
      },
    },
  );
  return { logger, records };
}
