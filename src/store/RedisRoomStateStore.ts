import { Redis } from 'ioredis';
import { settlesWithin } from '../shared/time.ts';
import { StoreUnavailableError, type Member, type RoomInfo, type RoomStateStore } from './RoomStateStore.ts';

/** Members of a room live in one hash, userId → userName; it expires if this process vanishes. */
const ROOM_TTL_SECONDS = 24 * 60 * 60;
/** A minted invite link stays valid this long after its last use. */
const INVITE_TTL_SECONDS = 30 * 24 * 60 * 60;

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
      commandTimeout: options.commandTimeoutMs ?? 2000,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    });
    // Connection errors surface through failed commands; ioredis reconnects on its own.
    this.#redis.on('error', () => {});
  }

  async connect(): Promise<void> {
    await this.#redis.connect();
  }

  #key(roomId: string): string {
    return `${this.#prefix}room:${roomId}:members`;
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
    const { passwordHash } = JSON.parse(value) as RoomInfo;
    return passwordHash ? { passwordHash } : {};
  }

  async replaceMembers(roomId: string, members: Member[]): Promise<void> {
    const key = this.#key(roomId);
    const multi = this.#redis.multi().del(key);
    if (members.length > 0) multi.hset(key, Object.fromEntries(members.map((m) => [m.userId, m.userName]))).expire(key, ROOM_TTL_SECONDS);
    await this.#run(() => multi.exec());
  }

  async addMember(roomId: string, member: Member): Promise<void> {
    const key = this.#key(roomId);
    await this.#run(() => this.#redis.multi().hset(key, member.userId, member.userName).expire(key, ROOM_TTL_SECONDS).exec());
  }

  async removeMember(roomId: string, userId: string): Promise<void> {
    await this.#run(() => this.#redis.hdel(this.#key(roomId), userId));
  }

  async members(roomId: string): Promise<Member[]> {
    const hash = await this.#run(() => this.#redis.hgetall(this.#key(roomId)));
    return Object.entries(hash).map(([userId, userName]) => ({ userId, userName }));
  }

  async clearRoom(roomId: string): Promise<void> {
    await this.#run(() => this.#redis.del(this.#key(roomId)));
  }

  async ping(): Promise<void> {
    await this.#run(() => this.#redis.ping());
  }

  async close(): Promise<void> {
    if (this.#redis.status === 'end') return;
    // QUIT waits for a reply; with Redis unreachable that could be forever, so cut the line after a moment.
    await settlesWithin(this.#redis.quit(), 2000);
    this.#redis.disconnect();
  }
}
