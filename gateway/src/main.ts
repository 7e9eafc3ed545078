import { loadGatewayConfig } from './config/load-gateway-config.js';
import { GatewayError } from './errors.js';
import { buildGateway, type Gateway } from './gateway-service.js';
import { createLogger, type Logger } from './logger.js';

const STOP_TIMEOUT_MS = 15_000;

/**
 * `anlian gateway --config FILE`: read and validate the file, start, serve until a signal.
 * SIGHUP reloads the file (a bad file is refused and the running configuration kept);
 * SIGTERM/SIGINT stop gracefully — anything unsent stays in the queue for the next start.
 */
export async function runGatewayCommand(opts: { config: string }): Promise<Gateway> {
  let config: Awaited<ReturnType<typeof loadGatewayConfig>>;
  try {
    config = await loadGatewayConfig(opts.config);
  } catch (err) {
    if (err instanceof GatewayError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger({ level: config.logLevel });
  const gateway = buildGateway({ config, logger, loadConfig: () => loadGatewayConfig(opts.config) });
  await gateway.start();
  onSignals(logger, gateway);
  return gateway;
}

function onSignals(logger: Logger, gateway: Gateway): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now (the queue is on disk)');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'stopping');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: STOP_TIMEOUT_MS }, 'graceful stop timed out (the queue is on disk)');
      process.exit(1);
    }, STOP_TIMEOUT_MS);
    timer.unref();
    gateway.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGHUP', () => {
    logger.info('SIGHUP: reloading the configuration');
    void gateway.reload();
  });
}
