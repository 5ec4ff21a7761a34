import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { PasswordGuesses } from './auth/guessBudget.ts';
import { TokenVerifier } from './auth/tokens.ts';
import type { Config } from './config.ts';
import { RateLimits } from './signaling/rateLimits.ts';
import { startMetricsListener } from './http/metricsEndpoint.ts';
import { createRequestHandler } from './http/routes.ts';
import { StatsHistory } from './admin/history.ts';
import { Moderation } from './admin/Moderation.ts';
import { logPresence } from './webhooks/presenceLog.ts';
import { Webhooks } from './webhooks/Webhooks.ts';
import type { Logger } from './log.ts';
import { chooseAnnouncedAddress } from './media/announcedIp.ts';
import { Metrics } from './metrics.ts';
import { AddressSlots } from './net/addressSlots.ts';
import { ClientResolver } from './net/clientResolver.ts';
import { acceptProxyProtocol } from './net/proxyProtocol.ts';
import { resolveWorkerBin } from './media/workerBin.ts';
import { WorkerPool } from './media/WorkerPool.ts';
import { RoomRegistry } from './rooms/RoomRegistry.ts';
import { SignalingServer } from './signaling/SignalingServer.ts';
import { settlesWithin } from './shared/time.ts';
import { MemoryRoomStateStore } from './store/MemoryRoomStateStore.ts';
import { RedisRoomStateStore } from './store/RedisRoomStateStore.ts';
import type { RoomStateStore } from './store/RoomStateStore.ts';
import type { Services } from './services.ts';
import { TIMEOUTS } from './timeouts.ts';
import { startTurn } from './turn/startTurn.ts';
import { NodeRegistry } from './cluster/NodeRegistry.ts';

export interface Parley {
  config: Config;
  url: string;
  /** The METRICS_PORT listener's base URL, when there is one. */
  metricsUrl: string | undefined;
  httpServer: http.Server | https.Server;
  metrics: Metrics;
  pool: WorkerPool;
  registry: RoomRegistry;
  store: RoomStateStore;
  signaling: SignalingServer;
  announcedAddress: string | undefined;
  close(): Promise<void>;
}

/** Knobs that are not configuration (no environment variable sets them): tests use them. */
export interface Tuning {
  /** Default TIMEOUTS.probeLifetimeMs. */
  probeLifetimeMs?: number;
  /** Default TIMEOUTS.socketConnectMs. */
  socketConnectTimeoutMs?: number;
  /**
   * Test servers only: a loopback client that no proxy speaks for (no TRUST_PROXY, no forwarding
   * header, no PROXY header) skips every per-address and per-socket limit, so a suite of bots on
   * 127.0.0.1 is not throttled. Never set in production: behind a proxy on the same machine it
   * would switch every limit off.
   */
  exemptLoopback?: boolean;
  /** Default DEFAULT_SPREAD_SLACK (rooms/RoomRegistry.ts); 0 puts each participant on the least-loaded worker. */
  spreadSlack?: number;
}

/** Starts everything in one process: store, media workers, HTTP and signaling. */
export async function startParley(config: Config, log: Logger, tuning: Tuning = {}): Promise<Parley> {
  const store = await openStore(config, log);
  // What has started so far: a later step that fails closes it all again, newest first.
  const started: Array<() => unknown> = [() => store.close()];
  const orUndo = async <T>(step: Promise<T>): Promise<T> => {
    try {
      return await step;
    } catch (error) {
      for (const undo of started.reverse()) await undo();
      throw error;
    }
  };
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
  started.push(() => pool.close());
  await orUndo(pool.start());
  const turn = await orUndo(startTurn(config, announced.address, log));
  started.push(() => turn?.close());
  const nodes = await orUndo(registerNode(config, pool, log));
  started.push(() => nodes?.leave());
  const registry = new RoomRegistry(pool, { emptyGraceMs: config.emptyRoomGraceMs, probeLifetimeMs: tuning.probeLifetimeMs ?? TIMEOUTS.probeLifetimeMs, spreadSlack: tuning.spreadSlack, log });
  const metrics = new Metrics(registry, pool);
  // A call that ends takes its chat, lock and admissions with it (a restart keeps them: no 'empty' close).
  registry.on('roomOpened', (room) => room.once('closed', (reason) => reason === 'empty' && void store.forgetCall(room.id).catch(() => {})));
  const limiterRedis = config.redisUrl ? new Redis(config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: TIMEOUTS.redisCommandMs }) : undefined;
  limiterRedis?.on('error', () => {}); // the in-memory insurance limiter covers outages
  started.push(() => limiterRedis?.disconnect());
  const limits = new RateLimits(config.rateLimits, limiterRedis);
  const tokens =
    config.authSecret || config.authPublicKey
      ? new TokenVerifier({ secret: config.authSecret, publicKeyPem: config.authPublicKey, audience: config.authAudience, issuer: config.authIssuer, maxAgeSeconds: config.authMaxTokenAgeSeconds })
      : undefined;
  const clients = new ClientResolver({ trustProxy: config.trustProxy, proxyProtocol: config.proxyProtocol, exemptLoopback: tuning.exemptLoopback ?? false, log });
  const guesses = new PasswordGuesses(limiterRedis);
  const seats = new AddressSlots(config.caps.seatsPerAddress);
  const moderation = new Moderation(registry, log);
  const statsHistory = config.adminToken ? new StatsHistory(registry, pool).start() : undefined;
  logPresence(registry, log, config.nodeId);
  const webhooks = config.webhook ? new Webhooks({ ...config.webhook, log }).follow(registry) : undefined;
  const services: Services = { config, log, pool, registry, store, limits, tokens, metrics, clients, guesses, seats, moderation, statsHistory, turn: turn?.settings };
  const handler = createRequestHandler(services);
  const onRequest: http.RequestListener = (req, res) => {
    handler(req, res).catch((error) => {
      const requestId = crypto.randomUUID();
      log.error({ err: error, url: req.url, request_id: requestId }, 'http handler failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`internal error (request id ${requestId})`);
    });
  };
  const httpServer = config.tls
    ? https.createServer({ cert: fs.readFileSync(config.tls.cert), key: fs.readFileSync(config.tls.key) }, onRequest)
    : http.createServer(onRequest);
  // A connection must send its request headers soon: a slow or silent client holds no socket for long.
  httpServer.headersTimeout = TIMEOUTS.httpHeadersMs;
  if (config.proxyProtocol) acceptProxyProtocol(httpServer, { isProxy: (address) => clients.isTrustedPeer(address), timeoutMs: TIMEOUTS.proxyHeaderMs, log });
  const signaling = new SignalingServer(httpServer, services, { connectTimeoutMs: tuning.socketConnectTimeoutMs });
  moderation.attach(signaling.io);
  await orUndo(
    new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(config.port, config.host, () => resolve());
    }),
  );
  started.push(() => httpServer.close());
  const metricsListener = await orUndo(
    startMetricsListener(config.metrics, metrics).catch((error: Error) => {
      throw new Error(`cannot listen on METRICS_PORT ${config.metrics.port}: ${error.message}`);
    }),
  );
  const address = httpServer.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `${config.tls ? 'https' : 'http'}://${host === '0.0.0.0' || host === '[::]' ? 'localhost' : host}:${address.port}`;
  log.info({ url, metricsUrl: metricsListener?.url, workers: config.workers, rtcPorts: `${config.rtcPort}-${config.rtcPort + config.workers - 1}`, announcedAddress: announced.address, store: store.kind }, 'parley listening');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      statsHistory?.stop();
      registry.closeAll('shutdown');
      const webhooksFlushed = webhooks?.close();
      // Clients have had their notice; a lingering keep-alive or long-poll must not hold up the exit.
      const signalingClosed = signaling.close();
      await settlesWithin(signalingClosed, TIMEOUTS.shutdownStepMs);
      httpServer.closeAllConnections();
      metricsListener?.server.close();
      metricsListener?.server.closeAllConnections();
      await settlesWithin(signalingClosed, TIMEOUTS.shutdownStepMs);
      await nodes?.leave();
      await pool.close();
      await store.close();
      await turn?.close();
      limiterRedis?.disconnect();
      await webhooksFlushed;
    })());

  return { config, url, metricsUrl: metricsListener?.url, httpServer, metrics, pool, registry, store, signaling, announcedAddress: announced.address, close };
}

/**
 * With Redis, this process is one node among those sharing it (NODE_ID): registered with a heartbeat
 * and its media load, so the others see it live and notice when it dies.
 */
interface RegisteredNode {
  registry: NodeRegistry;
  /** Leaves the node set (a clean shutdown) and closes the connection. */
  leave(): Promise<void>;
}

async function registerNode(config: Config, pool: WorkerPool, log: Logger): Promise<RegisteredNode | undefined> {
  if (!config.redisUrl) return undefined;
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1, commandTimeout: TIMEOUTS.redisCommandMs });
  redis.on('error', () => {}); // a heartbeat that fails is reported below; ioredis reconnects
  const nodes = new NodeRegistry({ redis, nodeId: config.nodeId, load: () => pool.workers.reduce((sum, w) => sum + w.load, 0) });
  const nodeLog = log.child({ component: 'nodes', node: config.nodeId });
  nodes.on('nodeDown', (info) => nodeLog.warn({ down: info.id, instance: info.instance }, 'a node stopped beating: it is gone'));
  nodes.on('error', (error) => nodeLog.warn({ err: error }, 'node heartbeat failed'));
  try {
    await nodes.start();
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  nodeLog.info('node registered');
  return {
    registry: nodes,
    leave: async () => {
      // Redis gone: the others see this node expire instead.
      await nodes.stop().catch(() => {});
      redis.disconnect();
    },
  };
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
