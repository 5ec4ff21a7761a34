import { Redis } from 'ioredis';
import { settlesWithin } from '../shared/time.ts';
import { TIMEOUTS } from '../timeouts.ts';
import type { ChatMessage, Role } from '../signaling/protocol.ts';
import { CHAT_HISTORY_LENGTH, StoreUnavailableError, type CallAccess, type RoomInfo, type RoomStateStore } from './RoomStateStore.ts';

/** A minted invite link stays valid this long after its last use. */
const INVITE_TTL_SECONDS = 30 * 24 * 60 * 60;
/** A call's state outlives a restart, not an abandoned call: it expires a day after its last change. */
const CALL_TTL_SECONDS = 24 * 60 * 60;

export interface RedisStoreOptions {
  url: string;
  /** Key prefix, so several deployments (or tests) can share one Redis. */
  prefix?: string;
  /** A command that cannot run within this time fails instead of queueing. */
  commandTimeoutMs?: number;
}

export class RedisRoomStateStore implements RoomStateStore {
  readonly kind = 'redis';
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(options: RedisStoreOptions) {
    this.#prefix = options.prefix ?? 'parley:';
    this.#redis = new Redis(options.url, {
      lazyConnect: true,
      // Fail fast while Redis is down instead of queueing commands without bound.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: options.commandTimeoutMs ?? TIMEOUTS.redisCommandMs,
      retryStrategy: (times) => Math.min(times * 200, TIMEOUTS.redisReconnectMaxMs),
    });
    // Connection errors surface through failed commands; ioredis reconnects on its own.
    this.#redis.on('error', () => {});
  }

  async connect(): Promise<void> {
    await this.#redis.connect();
  }

  async #run<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw new StoreUnavailableError(error);
    }
  }

  async registerRoom(roomId: string, info: RoomInfo = {}): Promise<void> {
    const value = JSON.stringify({ createdAt: Date.now(), ...info });
    await this.#run(() => this.#redis.set(`${this.#prefix}room:${roomId}:invite`, value, 'EX', INVITE_TTL_SECONDS));
  }

  async roomInfo(roomId: string): Promise<RoomInfo | undefined> {
    const key = `${this.#prefix}room:${roomId}:invite`;
    // GETEX refreshes the expiry: a link in use stays valid.
    const value = await this.#run(() => this.#redis.getex(key, 'EX', INVITE_TTL_SECONDS));
    if (value === null) return undefined;
    const { passwordHash, maxParticipants, hostKeyHash } = JSON.parse(value) as RoomInfo;
    return { ...(passwordHash ? { passwordHash } : {}), ...(maxParticipants ? { maxParticipants } : {}), ...(hostKeyHash ? { hostKeyHash } : {}) };
  }

  #callKey(roomId: string, part: 'locked' | 'members' | 'chat'): string {
    return `${this.#prefix}call:${roomId}:${part}`;
  }

  async callAccess(roomId: string): Promise<CallAccess> {
    const [locked, members] = await this.#run(() => Promise.all([this.#redis.get(this.#callKey(roomId, 'locked')), this.#redis.hgetall(this.#callKey(roomId, 'members'))]));
    return { locked: locked === '1', members: new Map(Object.entries(members).map(([userId, role]) => [userId, role === 'host' ? 'host' : 'guest'] as const)) };
  }

  async setLocked(roomId: string, locked: boolean): Promise<void> {
    const key = this.#callKey(roomId, 'locked');
    await this.#run<unknown>(() => (locked ? this.#redis.set(key, '1', 'EX', CALL_TTL_SECONDS) : this.#redis.del(key)));
  }

  async setMember(roomId: string, userId: string, role: Role): Promise<void> {
    const key = this.#callKey(roomId, 'members');
    await this.#run(() => this.#redis.multi().hset(key, userId, role).expire(key, CALL_TTL_SECONDS).exec());
  }

  async appendChat(roomId: string, message: ChatMessage): Promise<void> {
    const key = this.#callKey(roomId, 'chat');
    await this.#run(() => this.#redis.multi().rpush(key, JSON.stringify(message)).ltrim(key, -CHAT_HISTORY_LENGTH, -1).expire(key, CALL_TTL_SECONDS).exec());
  }

  async chatHistory(roomId: string): Promise<ChatMessage[]> {
    const values = await this.#run(() => this.#redis.lrange(this.#callKey(roomId, 'chat'), 0, -1));
    return values.map((value) => JSON.parse(value) as ChatMessage);
  }

  async forgetCall(roomId: string): Promise<void> {
    await this.#run(() => this.#redis.del(this.#callKey(roomId, 'locked'), this.#callKey(roomId, 'members'), this.#callKey(roomId, 'chat')));
  }

  async ping(): Promise<void> {
    await this.#run(() => this.#redis.ping());
  }

  async close(): Promise<void> {
    if (this.#redis.status === 'end') return;
    // QUIT waits for a reply; with Redis unreachable that could be forever, so cut the line after a moment.
    await settlesWithin(this.#redis.quit(), TIMEOUTS.redisQuitMs);
    this.#redis.disconnect();
  }
}
