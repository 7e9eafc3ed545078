/**
 * The ingest child process: exactly what `anlian ingest` runs (ingest/src/cli.ts calls
 * `runIngestCommand()`), without the command-line layer, so the bench does not depend on every
 * other subcommand of bin/anlian.js building. Configured only by its environment.
 *
 * `BENCH_INGEST_SESSIONS=N` (bench option --ingest-sessions, an experiment): the same start-up,
 * but the external subscriber opens N MQTT sessions in the share group — `ExternalSubscriber`'s
 * `sessions` option, which the ingest configuration does not expose yet.
 */
import { type IngestConfig, loadIngestConfig, startIngest } from '@anlian/ingest';
import { createLogger, onShutdownSignal } from '@anlian/runtime';
import { runIngestCommand } from '../../../ingest/dist/main.js';

const sessions = Number(process.env.BENCH_INGEST_SESSIONS ?? '');
if (Number.isInteger(sessions) && sessions > 1) {
  const config = loadIngestConfig(process.env);
  if (config.broker.mode !== 'external') throw new Error('--ingest-sessions needs the external broker');
  // Passed through startIngest's `{ ...config.broker }` to the ExternalSubscriber options.
  const broker = { ...config.broker, sessions };
  const logger = createLogger({ level: config.logLevel, svc: 'ingest' });
  const running = await startIngest({ ...config, broker } as IngestConfig, logger);
  logger.info({ mqtt: running.urls.mqtt, sessions }, 'ingest ready (bench: several broker sessions)');
  onShutdownSignal(logger, () => running.stop());
} else {
  await runIngestCommand();
}
