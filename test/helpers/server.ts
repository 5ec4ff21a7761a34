import './watchdog.ts';
import { startParley, type Parley } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import { freePortRange } from './ports.ts';

export interface TestServerOptions {
  workers?: number;
  redisUrl?: string;
  emptyRoomGraceMs?: number;
  env?: Record<string, string>;
  probeLifetimeMs?: number;
  socketConnectTimeoutMs?: number;
  /** How much less loaded another worker must be for a room to spread onto it (see Tuning). */
  spreadSlack?: number;
  /**
   * The machine itself (a loopback client no proxy speaks for) skips per-address limits: on by
   * default for test servers, whose bots all come from 127.0.0.1. Attack tests turn it off to see
   * the server as production runs it (main.ts never turns it on).
   */
  exemptLoopback?: boolean;
  /** The server's logger (default: one at TEST_LOG_LEVEL, silent). */
  log?: Logger;
}

let serversStarted = 0;

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
    // Test servers sharing one Redis are separate nodes (the host name would be the same for all).
    NODE_ID: `test-${process.pid}-${++serversStarted}`,
    ...options.env,
  });
  return startParley(config, options.log ?? createLogger(config.logLevel), {
    probeLifetimeMs: options.probeLifetimeMs,
    socketConnectTimeoutMs: options.socketConnectTimeoutMs,
    spreadSlack: options.spreadSlack,
    exemptLoopback: options.exemptLoopback ?? true,
  });
}
