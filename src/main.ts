import { startParley } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './log.ts';

let config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`parley: ${error.message}\n`);
  process.exit(2);
}

const log = createLogger(config.logLevel);
try {
  const parley = await startParley(config, log);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    parley.close().then(
      () => process.exit(0),
      (error) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  // Prepended: mediasoup closes its workers on these signals too, and the rooms must hear
  // "shutdown" from us first.
  process.prependOnceListener('SIGTERM', () => stop('SIGTERM'));
  process.prependOnceListener('SIGINT', () => stop('SIGINT'));
} catch (error) {
  log.fatal({ err: error }, 'parley could not start');
  process.exit(1);
}
