import type { StatsHistory } from './admin/history.ts';
import type { Moderation } from './admin/Moderation.ts';
import type { PasswordGuesses } from './auth/guessBudget.ts';
import type { TokenVerifier } from './auth/tokens.ts';
import type { TurnSettings } from './auth/turnCredentials.ts';
import type { Config } from './config.ts';
import type { Logger } from './log.ts';
import type { WorkerPool } from './media/WorkerPool.ts';
import type { Metrics } from './metrics.ts';
import type { AddressSlots } from './net/addressSlots.ts';
import type { ClientResolver } from './net/clientResolver.ts';
import type { RoomRegistry } from './rooms/RoomRegistry.ts';
import type { RateLimits } from './signaling/rateLimits.ts';
import type { RoomStateStore } from './store/RoomStateStore.ts';

/**
 * The long-lived parts of one running server, built once by startParley and handed as a whole to
 * HTTP and signaling alike (instead of each declaring its own near-identical list of dependencies).
 */
export interface Services {
  readonly config: Config;
  readonly log: Logger;
  readonly pool: WorkerPool;
  readonly registry: RoomRegistry;
  readonly store: RoomStateStore;
  readonly limits: RateLimits;
  /** Signed room tokens are required when set (AUTH_SECRET / AUTH_PUBLIC_KEY). */
  readonly tokens: TokenVerifier | undefined;
  readonly metrics: Metrics;
  /** Who a request comes from (proxies, PROXY protocol, the test-only loopback exemption). */
  readonly clients: ClientResolver;
  /** Wrong-password budgets per room. */
  readonly guesses: PasswordGuesses;
  /** Seats in calls held per client address (MAX_SEATS_PER_ADDRESS). */
  readonly seats: AddressSlots;
  /** Removing participants and ending calls (admin page, server API); refuses a removed one's rejoin. */
  readonly moderation: Moderation;
  /** The admin page's last 15 minutes; undefined while ADMIN_TOKEN is unset. */
  readonly statsHistory: StatsHistory | undefined;
  /** TURN credentials are minted with these (TURN_SECRET); undefined: no relay is offered. */
  readonly turn?: TurnSettings | undefined;
}
