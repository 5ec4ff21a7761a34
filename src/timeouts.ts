/** Every fixed time limit of the server, in one place (milliseconds). Configurable ones live in config.ts. */
export const TIMEOUTS = {
  /** A Redis command (room store, shared rate limits) that cannot run this fast fails instead of queueing. */
  redisCommandMs: 2000,
  /** Longest pause between attempts to reconnect to Redis. */
  redisReconnectMaxMs: 2000,
  /** How long shutdown waits for Redis to acknowledge QUIT before cutting the line. */
  redisQuitMs: 2000,
  /** /readyz: the room store must answer a ping within this. */
  readinessPingMs: 1000,
  /** Each shutdown step that waits for sockets to go (clients were told; stragglers are cut). */
  shutdownStepMs: 2000,
  /** A shutdown that takes longer than this exits the process anyway. */
  shutdownForceMs: 10_000,
  /** A closed media worker process must exit within this, or it is killed… */
  workerExitMs: 5000,
  /** …and then given this long to be gone. */
  workerKillMs: 1000,
  /** Longest pause between attempts to replace a dead media worker. */
  workerRespawnMaxBackoffMs: 10_000,
  /** Socket.IO heartbeat: a ping this often, and a socket that misses its pong for this long is dropped. */
  socketPingIntervalMs: 10_000,
  socketPingTimeoutMs: 8_000,
  /** An engine.io connection that has not opened its Socket.IO session by then is dropped. */
  socketConnectMs: 5_000,
  /** HTTP: a connection must have sent a request's headers within this (slow clients hold no sockets). */
  httpHeadersMs: 10_000,
  /** A connection from a trusted proxy must send its PROXY protocol header within this. */
  proxyHeaderMs: 5_000,
  /** How long a request waits for a free password-hashing slot before it is refused. */
  passwordQueueMs: 2_000,
  /** How long a connectivity probe may keep its room before the server ends it (a check needs ~10 s). */
  probeLifetimeMs: 20_000,
} as const;
