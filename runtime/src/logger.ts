import { type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger };

/**
 * The process logger. JSON lines to stdout (what operators ship); secrets are redacted
 * wherever they might appear in a logged object.
 */
export function createLogger(opts: { level?: string; svc: string; destination?: pino.DestinationStream }): Logger {
  const options: LoggerOptions = {
    level: opts.level ?? 'info',
    base: { svc: opts.svc },
    redact: { paths: ['password', 'secret', 'token', '*.password', '*.secret', '*.token'], censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/** A logger that drops everything, for tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
