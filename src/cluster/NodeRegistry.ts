import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';

/** What a node says of itself in Redis, refreshed with every heartbeat. */
export interface NodeInfo {
  id: string;
  /** Random per process: tells a restarted node (same id) from the one before it. */
  instance: string;
  /** Its media workers' load (MediaWorker.load summed): where new rooms and participants should go. */
  load: number;
  startedAt: number;
  /** When it last beat (ms since the epoch, by its own clock). */
  beatAt: number;
}

export interface NodeRegistryOptions {
  redis: Redis;
  nodeId: string;
  /** The node's load now (read at each heartbeat). */
  load: () => number;
  /** Key prefix (tests use their own). */
  prefix?: string;
  heartbeatMs?: number;
  /** A node whose last heartbeat is older than this is dead (a few heartbeats: one late beat is not death). */
  expireMs?: number;
}

const HEARTBEAT_MS = 1_000;
const EXPIRE_MS = 5_000;

/**
 * This Parley process as one node among those sharing a Redis: it registers itself (NODE_ID) with a
 * heartbeat carrying its load, lists the live nodes, and notices dead ones. A node's entry is a
 * sorted set member scored by its last heartbeat plus a hash of its info; a node that stops cleanly
 * removes both at once, one that is killed stops beating and, once its score is older than
 * `expireMs`, the first live node to see it removes it and emits `nodeDown` (exactly one node wins
 * that removal: ZREM answers 1 only once). Redis's clock is the judge of age (TIME), not the nodes'.
 */
export class NodeRegistry extends EventEmitter<{ nodeDown: [NodeInfo]; error: [Error] }> {
  readonly nodeId: string;
  readonly instance = crypto.randomBytes(8).toString('hex');
  readonly #redis: Redis;
  readonly #load: () => number;
  readonly #keys: { set: string; info: (id: string) => string };
  readonly #heartbeatMs: number;
  readonly #expireMs: number;
  readonly #startedAt = Date.now();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: NodeRegistryOptions) {
    super();
    this.nodeId = options.nodeId;
    this.#redis = options.redis;
    this.#load = options.load;
    const prefix = options.prefix ?? 'parley:';
    this.#keys = { set: `${prefix}nodes`, info: (id) => `${prefix}node:${id}` };
    this.#heartbeatMs = options.heartbeatMs ?? HEARTBEAT_MS;
    this.#expireMs = options.expireMs ?? EXPIRE_MS;
  }

  /**
   * Registers this node. Another process under this NODE_ID that still beats is waited out for a
   * few heartbeats (a crashed node restarted at once finds its old entry not expired yet), then
   * refused with a clear error: two live nodes under one name would take each other's participants
   * for their own. A predecessor that stopped beating is reported as `nodeDown` here (nobody else
   * will: this node takes its entry over).
   */
  async start(): Promise<void> {
    const deadline = Date.now() + 2 * this.#expireMs;
    for (;;) {
      const existing = await this.#read(this.nodeId);
      const now = await this.#redisNow();
      if (!existing || existing.instance === this.instance) break;
      if (now - existing.beatAt >= this.#expireMs) {
        this.emit('nodeDown', existing);
        break;
      }
      if (Date.now() > deadline) {
        throw new Error(`NODE_ID ${this.nodeId} is already used by a live node (heartbeat ${now - existing.beatAt} ms ago): give each node its own NODE_ID`);
      }
      await new Promise((resolve) => setTimeout(resolve, this.#heartbeatMs));
    }
    await this.#beat();
    this.#timer = setInterval(() => void this.#tick(), this.#heartbeatMs).unref();
  }

  /** Live nodes (this one too), by id. */
  async liveNodes(): Promise<NodeInfo[]> {
    const now = await this.#redisNow();
    const ids = await this.#redis.zrangebyscore(this.#keys.set, now - this.#expireMs, '+inf');
    const infos = await Promise.all(ids.map((id) => this.#read(id)));
    return infos.filter((info): info is NodeInfo => info !== undefined).sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Leaves the set at once (a clean shutdown): the others need not wait for the expiry. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    const current = await this.#read(this.nodeId).catch(() => undefined);
    // A successor with the same id may have registered meanwhile: leave its entry alone.
    if (current && current.instance !== this.instance) return;
    await this.#redis.multi().zrem(this.#keys.set, this.nodeId).del(this.#keys.info(this.nodeId)).exec();
  }

  /** Stops beating without leaving (what a killed process looks like to the others); for tests. */
  halt(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    try {
      await this.#beat();
      await this.#reapDead();
    } catch (error) {
      this.emit('error', error as Error);
    }
  }

  async #beat(): Promise<void> {
    const now = await this.#redisNow();
    const info: NodeInfo = { id: this.nodeId, instance: this.instance, load: this.#load(), startedAt: this.#startedAt, beatAt: now };
    await this.#redis
      .multi()
      .zadd(this.#keys.set, now, this.nodeId)
      .set(this.#keys.info(this.nodeId), JSON.stringify(info), 'PX', this.#expireMs * 4)
      .exec();
  }

  async #reapDead(): Promise<void> {
    const now = await this.#redisNow();
    const dead = await this.#redis.zrangebyscore(this.#keys.set, '-inf', `(${now - this.#expireMs}`);
    for (const id of dead) {
      if (id === this.nodeId) continue;
      const info = (await this.#read(id)) ?? { id, instance: 'unknown', load: 0, startedAt: 0, beatAt: 0 };
      // Only the node whose ZREM removed it handles it; a heartbeat that came back meanwhile keeps it.
      const removed = await this.#redis.eval(REAP_IF_STALE, 1, this.#keys.set, id, String(now - this.#expireMs));
      if (removed === 1) this.emit('nodeDown', info);
    }
  }

  async #read(id: string): Promise<NodeInfo | undefined> {
    const raw = await this.#redis.get(this.#keys.info(id));
    if (!raw) return undefined;
    try {
      return JSON.parse(raw) as NodeInfo;
    } catch {
      return undefined;
    }
  }

  /** Redis's clock in ms: one clock for every node, whatever theirs say. */
  async #redisNow(): Promise<number> {
    const [seconds, micros] = await this.#redis.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }
}

/** Removes member ARGV[1] from the set only if its score is still older than ARGV[2]: 1 when removed. */
const REAP_IF_STALE = `
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) < tonumber(ARGV[2]) then
  return redis.call('ZREM', KEYS[1], ARGV[1])
end
return 0
`;
