import { startParley } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { createLogger, readyLine } from './log.ts';
import { TIMEOUTS } from './timeouts.ts';

let config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`parley: ${error.message}\n`);
  process.exit(2);
}

// JSON lines for collectors; on a terminal, readable lines (LOG_FORMAT=json|pretty forces either).
const log = createLogger(config.logLevel, { format: config.logFormat });
try {
  const parley = await startParley(config, log);
  // Without ANNOUNCED_IP and with a specific RTC_LISTEN_IP, the workers announce the listen address.
  const announcedAddress = parley.announcedAddress ?? config.rtcListenIp;
  const rtcPorts = `${config.rtcPort}-${config.rtcPort + config.workers - 1}`;
  const ready = readyLine(parley.url, announcedAddress, rtcPorts);
  log.info({ url: parley.url, announcedAddress, rtcPorts, reach: ready.reach }, ready.msg);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), TIMEOUTS.shutdownForceMs);
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
