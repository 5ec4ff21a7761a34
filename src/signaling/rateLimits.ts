import type { Redis } from 'ioredis';
import { addressKeys } from '../net/clientAddress.ts';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';

export type LimitName = 'joinsPerIp' | 'connectionsPerIp' | 'roomsPerIp' | 'probesPerIp';

/**
 * Budgets (config: RATE_*), generous for a real client: a join is ~10 requests, a big room ~100
 * consumes; one page load is one join and one connection. 0 turns a limit off.
 */
export interface RateBudgets {
  joinsPerMinute: number;
  connectionsPerMinute: number;
  /** Per socket (Connection's own in-memory budget, not shared: a socket lives in one process). */
  requestsPer5s: number;
  /** Rooms minted (POST /rooms) per client IP per minute: each may hash a password. */
  roomsPerMinute: number;
  /** Connectivity checks (joinProbe) per client IP per minute: each makes a router and a transport. */
  probesPerMinute: number;
}

/** Limiters of one budget, by address scale (1: the address or /64, 2: the /56, 4: the /48). */
type Scaled = Map<number, RateLimiterAbstract>;

/**
 * Per-address rate limits. Backed by Redis when configured (so several processes share budgets),
 * with an in-memory limiter taking over while Redis is unreachable. An IPv6 client spends from its
 * /64, /56 and /48 at once (with 1×, 2× and 4× the budget), so rotating addresses inside a
 * subscriber's prefix does not buy a new budget.
 */
export class RateLimits {
  readonly #limiters: Record<LimitName, Scaled | undefined>;

  constructor(budgets: RateBudgets, redis?: Redis) {
    const make = (name: LimitName, points: number, duration: number): Scaled | undefined => {
      if (points === 0) return undefined;
      const scaled: Scaled = new Map();
      for (const scale of [1, 2, 4]) {
        const options = { points: points * scale, duration, keyPrefix: `parley:rl:${name}${scale === 1 ? '' : `:x${scale}`}` };
        const memory = new RateLimiterMemory(options);
        scaled.set(scale, redis ? new RateLimiterRedis({ ...options, storeClient: redis, rejectIfRedisNotReady: true, insuranceLimiter: memory }) : memory);
      }
      return scaled;
    };
    this.#limiters = {
      joinsPerIp: make('joinsPerIp', budgets.joinsPerMinute, 60),
      connectionsPerIp: make('connectionsPerIp', budgets.connectionsPerMinute, 60),
      roomsPerIp: make('roomsPerIp', budgets.roomsPerMinute, 60),
      probesPerIp: make('probesPerIp', budgets.probesPerMinute, 60),
    };
  }

  /** Spends one point from every budget of the client address; false when any of them is used up. */
  async take(name: LimitName, address: string): Promise<boolean> {
    const limiters = this.#limiters[name];
    if (!limiters) return true;
    for (const { key, scale } of addressKeys(address)) {
      try {
        await limiters.get(scale)!.consume(key);
      } catch (rejection) {
        if (rejection instanceof Error) throw rejection;
        return false;
      }
    }
    return true;
  }
}
