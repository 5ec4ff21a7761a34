import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { TokenVerifier } from './auth/tokens.ts';
import type { Config } from './config.ts';
import { RateLimits } from './signaling/rateLimits.ts';
import { createRequestHandler } from './http/routes.ts';
import type { Logger } from './log.ts';
import { chooseAnnouncedAddress } from './media/announcedIp.ts';
import { Metrics } from './metrics.ts';
import { resolveWorkerBin } from './media/workerBin.ts';
import { WorkerPool } from './media/WorkerPool.ts';
import { RoomRegistry } from './rooms/RoomRegistry.ts';
import { SignalingServer } from './signaling/SignalingServer.ts';
import { settlesWithin } from './shared/time.ts';
import { MemoryRoomStateStore } from './store/MemoryRoomStateStore.ts';
import { RedisRoomStateStore } from './store/RedisRoomStateStore.ts';
import type { RoomStateStore } from './store/RoomStateStore.ts';

export interface Parley {
  config: Config;
  url: string;
  httpServer: http.Server | https.Server;
  metrics: Metrics;
  pool: WorkerPool;
  registry: RoomRegistry;
  store: RoomStateStore;
  signaling: SignalingServer;
  announcedAddress: string | undefined;
  close(): Promise<void>;
}

/** Knobs that are not configuration: tests shorten timers with them. */
export interface Tuning {
  probeLifetimeMs?: number;
}

/** Starts everything in one process: store, media workers, HTTP and signaling. */
export async function startParley(config: Config, log: Logger, tuning: Tuning = {}): Promise<Parley> {
  const store = await openStore(config, log);
  const announced = chooseAnnouncedAddress(config.announcedIp, config.rtcListenIp);
  if (announced.warning) log.warn(announced.warning);
  const pool = new WorkerPool({
    count: config.workers,
    workerBin: resolveWorkerBin(),
    listenIp: config.rtcListenIp,
    announcedAddress: announced.address,
    firstPort: config.rtcPort,
    logger: log,
  });
  try {
    await pool.start();
  } catch (error) {
    await pool.close();
    await store.close();
    throw error;
  }
  const registry = new RoomRegistry(pool, store, config.emptyRoomGraceMs, log);
  const metrics = new Metrics(registry, pool);
  const limiterRedis = config.redisUrl ? new Redis(config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 2000 }) : undefined;
  limiterRedis?.on('error', () => {}); // the in-memory insurance limiter covers outages
  const limits = new RateLimits(config.rateLimits, limiterRedis);
  const handler = createRequestHandler({ pool, store, registry, metrics, config, limits });
  const onRequest: http.RequestListener = (req, res) => {
    handler(req, res).catch((error) => {
      log.error({ err: error, url: req.url }, 'http handler failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error');
    });
  };
  const httpServer = config.tls
    ? https.createServer({ cert: fs.readFileSync(config.tls.cert), key: fs.readFileSync(config.tls.key) }, onRequest)
    : http.createServer(onRequest);
  const tokens = config.authSecret || config.authPublicKey ? new TokenVerifier({ secret: config.authSecret, publicKeyPem: config.authPublicKey }) : undefined;
  const signaling = new SignalingServer({
    limits,
    tokens,
    httpServer,
    registry,
    store,
    log,
    allowedOrigins: config.allowedOrigins,
    trustProxy: config.trustProxy,
    probeLifetimeMs: tuning.probeLifetimeMs,
    onSignalingError: (event, kind) => metrics.signalingErrors.inc({ event, kind }),
  });
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => resolve());
  });
  const address = httpServer.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `${config.tls ? 'https' : 'http'}://${host === '0.0.0.0' || host === '[::]' ? 'localhost' : host}:${address.port}`;
  log.info({ url, workers: config.workers, rtcPorts: `${config.rtcPort}-${config.rtcPort + config.workers - 1}`, announcedAddress: announced.address, store: store.kind }, 'parley listening');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      registry.closeAll('shutdown');
      // Clients have had their notice; a lingering keep-alive or long-poll must not hold up the exit.
      const signalingClosed = signaling.close();
      await settlesWithin(signalingClosed, 2000);
      httpServer.closeAllConnections();
      await settlesWithin(signalingClosed, 2000);
      await pool.close();
      await store.close();
      limiterRedis?.disconnect();
    })());

  return { config, url, httpServer, metrics, pool, registry, store, signaling, announcedAddress: announced.address, close };
}

async function openStore(config: Config, log: Logger): Promise<RoomStateStore> {
  if (!config.redisUrl) return new MemoryRoomStateStore();
  const store = new RedisRoomStateStore({ url: config.redisUrl });
  try {
    await store.connect();
  } catch (error) {
    await store.close();
    throw new Error(`cannot connect to Redis at REDIS_URL: ${(error as Error).message}`);
  }
  log.info('room state in Redis');
  return store;
}
