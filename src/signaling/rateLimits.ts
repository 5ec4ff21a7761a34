import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';

export type LimitName = 'requestsPerSocket' | 'joinsPerIp' | 'connectionsPerIp' | 'roomsPerIp' | 'probesPerIp';

/**
 * The budget an address spends from: an IPv4 address itself (also when written IPv4-mapped), an IPv6
 * address its /64, since one subscriber usually holds a whole /64 and could otherwise rotate through it.
 */
export function addressKey(address: string): string {
  const groups = ipv6Groups(address);
  if (!groups) return address;
  const zeros = (from: number, to: number) => groups.slice(from, to).every((g) => g === 0);
  // IPv4-mapped (::ffff:a.b.c.d), -translated (::ffff:0:a.b.c.d) and -compatible (::a.b.c.d) forms.
  const middle = `${groups[4]}:${groups[5]}`;
  if (zeros(0, 4) && (middle === '0:65535' || middle === '65535:0' || middle === '0:0')) return `${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`;
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}

/** An IPv6 address as its eight 16-bit groups (a dotted IPv4 tail counts as two), or undefined. */
function ipv6Groups(address: string): number[] | undefined {
  const bare = address.split('%')[0]!;
  if (!net.isIPv6(bare)) return undefined;
  const parse = (part: string) => {
    if (part === '') return [];
    const out: number[] = [];
    for (const piece of part.split(':')) {
      if (piece.includes('.')) {
        const [a, b, c, d] = piece.split('.').map(Number) as [number, number, number, number];
        out.push((a << 8) | b, (c << 8) | d);
      } else out.push(parseInt(piece, 16));
    }
    return out;
  };
  const [head = '', tail] = bare.split('::');
  const front = parse(head);
  if (tail === undefined) return front;
  const back = parse(tail);
  return [...front, ...Array<number>(8 - front.length - back.length).fill(0), ...back];
}

function isLoopback(address: string | undefined): boolean {
  return address !== undefined && (address === '::1' || /^(::ffff:)?127\./.test(address));
}

/**
 * The machine itself (a local user, a test suite), which no rate limit applies to: a loopback peer
 * that no proxy speaks for. Behind a proxy (TRUST_PROXY, or any forwarding header) it is not.
 */
export function isLocalRequest(req: IncomingMessage, trustProxy: boolean): boolean {
  return !trustProxy && isLoopback(req.socket.remoteAddress) && req.headers['x-forwarded-for'] === undefined && req.headers.forwarded === undefined;
}

/**
 * Budgets (config: RATE_*), generous for a real client: a join is ~10 requests, a big room ~100
 * consumes; one page load is one join and one connection. 0 turns a limit off.
 */
export interface RateBudgets {
  joinsPerMinute: number;
  connectionsPerMinute: number;
  requestsPer5s: number;
  /** Rooms minted (POST /rooms) per client IP per minute: each may hash a password. */
  roomsPerMinute: number;
  /** Connectivity checks (joinProbe) per client IP per minute: each makes a router and a transport. */
  probesPerMinute: number;
}

/**
 * Rate limits for signaling. Backed by Redis when configured (so several processes share budgets),
 * with an in-memory limiter taking over while Redis is unreachable.
 */
export class RateLimits {
  readonly #limiters: Record<LimitName, RateLimiterAbstract | undefined>;

  constructor(budgets: RateBudgets, redis?: Redis) {
    const make = (name: LimitName, points: number, duration: number): RateLimiterAbstract | undefined => {
      if (points === 0) return undefined;
      const options = { points, duration, keyPrefix: `parley:rl:${name}` };
      const memory = new RateLimiterMemory(options);
      return redis ? new RateLimiterRedis({ ...options, storeClient: redis, rejectIfRedisNotReady: true, insuranceLimiter: memory }) : memory;
    };
    this.#limiters = {
      requestsPerSocket: make('requestsPerSocket', budgets.requestsPer5s, 5),
      joinsPerIp: make('joinsPerIp', budgets.joinsPerMinute, 60),
      connectionsPerIp: make('connectionsPerIp', budgets.connectionsPerMinute, 60),
      roomsPerIp: make('roomsPerIp', budgets.roomsPerMinute, 60),
      probesPerIp: make('probesPerIp', budgets.probesPerMinute, 60),
    };
  }

  /** Spends one point; false when the budget for this key (a socket id, or a client address) is used up. */
  async take(name: LimitName, key: string): Promise<boolean> {
    const limiter = this.#limiters[name];
    if (!limiter) return true;
    if (name !== 'requestsPerSocket') key = addressKey(key);
    try {
      await limiter.consume(key);
      return true;
    } catch (rejection) {
      if (rejection instanceof Error) throw rejection;
      return false;
    }
  }
}
