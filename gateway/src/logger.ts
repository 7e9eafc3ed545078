import { type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger };

/**
 * The process logger: JSON lines to stdout (what operators ship from the box). The county
 * password may sit in logged config objects: redacted wherever it appears.
 */
export function createLogger(opts: { level?: string; destination?: pino.DestinationStream }): Logger {
  const options: LoggerOptions = {
    level: opts.level ?? 'info',
    base: { svc: 'gateway' },
    redact: { paths: ['password', '*.password', '*.*.password'], censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/** A logger that drops everything, for tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
