import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { UserError } from '../signaling/errors.ts';

/** Wrong passwords a room takes freely within WINDOW_SECONDS; after that each attempt waits its turn. */
export const FREE_GUESSES = 5;
/** The wait after the first guess beyond the free ones doubles each time, up to this. */
export const MAX_BACKOFF_SECONDS = 60;
const WINDOW_SECONDS = 3600;

/** Seconds the room stays shut after attempt number `n` (1-based): 0 for the free ones, then 1, 2, 4 … 60. */
export function backoffSeconds(n: number): number {
  return n <= FREE_GUESSES ? 0 : Math.min(2 ** (n - FREE_GUESSES - 1), MAX_BACKOFF_SECONDS);
}

/**
 * Password guesses per room, from every address together (shared through Redis when configured, so
 * several processes and any number of addresses spend from one budget). Attempts are counted before
 * the password is checked, so a burst of parallel guesses cannot slip past the count; a right
 * password gives its attempt back. Past FREE_GUESSES, one attempt goes through per back-off period
 * and every other one is refused at once with rate_limited.
 */
export class PasswordGuesses {
  readonly #attempts: RateLimiterAbstract;
  readonly #turns: RateLimiterAbstract;

  constructor(redis?: Redis) {
    const make = (name: string, points: number, duration: number) => {
      const options = { points, duration, keyPrefix: `parley:pw:${name}` };
      const memory = new RateLimiterMemory(options);
      return redis ? new RateLimiterRedis({ ...options, storeClient: redis, rejectIfRedisNotReady: true, insuranceLimiter: memory }) : memory;
    };
    this.#attempts = make('attempts', 1_000_000, WINDOW_SECONDS);
    // One point per back-off period: taking it is the turn of the one attempt that may go through.
    this.#turns = make('turn', 1, 1);
  }

  /**
   * Runs `check` (the password comparison) if the room's budget allows an attempt now; its result is
   * returned. Refused attempts throw UserError rate_limited and do not count.
   */
  async attempt(roomId: string, check: () => Promise<boolean>): Promise<boolean> {
    const n = (await this.#attempts.penalty(roomId, 1)).consumedPoints;
    const wait = backoffSeconds(n);
    if (wait > 0) {
      try {
        await this.#turns.consume(roomId, 1, { customDuration: wait });
      } catch (rejection) {
        await this.#attempts.reward(roomId, 1);
        if (!(rejection instanceof RateLimiterRes)) throw rejection;
        const seconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
        throw new UserError('rate_limited', `too many wrong passwords for this room: try again in ${seconds} s`);
      }
    }
    // Only a wrong password counts: a right one, or a check that could not run, gives its attempt back.
    let wrong = false;
    try {
      wrong = !(await check());
      return !wrong;
    } finally {
      if (!wrong) await this.#attempts.reward(roomId, 1);
    }
  }
}
