import './watchdog.ts';
import { startParley, type Parley } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { freePortRange } from './ports.ts';

export interface TestServerOptions {
  workers?: number;
  redisUrl?: string;
  emptyRoomGraceMs?: number;
  env?: Record<string, string>;
  probeLifetimeMs?: number;
}

/** The real server (real mediasoup workers) on free ports, loopback only. */
export async function startTestServer(options: TestServerOptions = {}): Promise<Parley> {
  const workers = options.workers ?? 1;
  const rtcPort = await freePortRange(workers);
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    RTC_PORT: String(rtcPort),
    RTC_LISTEN_IP: '127.0.0.1',
    WORKERS: String(workers),
    REDIS_URL: options.redisUrl,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    EMPTY_ROOM_GRACE_MS: String(options.emptyRoomGraceMs ?? 200),
    // Bots all come from 127.0.0.1: tests that check limits set their own.
    RATE_JOINS_PER_MINUTE: '0',
    RATE_CONNECTIONS_PER_MINUTE: '0',
    RATE_REQUESTS_PER_5S: '0',
    RATE_ROOMS_PER_MINUTE: '0',
    ...options.env,
  });
  return startParley(config, createLogger(config.logLevel), { probeLifetimeMs: options.probeLifetimeMs });
}
