/** What each participant of a room may hold at once. */
export interface PeerLimits {
  transports: number;
  producers: number;
  consumers: number;
}

/**
 * The rules a room lives by, fixed when it opens. Calls and the connection check's private rooms are
 * the same Room class under different policies, so no code path asks "is this a probe?". There is no
 * "persisted" switch: nothing about a live room is stored for any kind (see RoomStateStore).
 */
export interface RoomPolicy {
  /** What the room is for (logs). */
  readonly kind: 'call' | 'probe';
  readonly limits: PeerLimits;
  /** joinRoom may enter it (a probe room is entered only by the joinProbe that made it). */
  readonly joinable: boolean;
  /** Closes the moment its last peer leaves, instead of after the empty-room grace period. */
  readonly closeWhenEmpty: boolean;
  /** Closes on its own ('expired') this long after it opened; undefined: never. */
  readonly lifetimeMs: number | undefined;
}

/**
 * Transports: a browser holds two (send and receive); a few spare for a reconnecting client's
 * overlap. Consumers: one per producer in the room (a second consume of one producer is refused).
 */
export const PEER_LIMITS: PeerLimits = { transports: 8, producers: 8, consumers: 256 };

export const CALL_POLICY: RoomPolicy = { kind: 'call', limits: PEER_LIMITS, joinable: true, closeWhenEmpty: false, lifetimeMs: undefined };

/**
 * The connection check: a private room of one that sends one test track over one transport and
 * watches nothing (it needs no token, so it gets nothing more), gone when its peer leaves or its
 * lifetime ends.
 */
export function probePolicy(lifetimeMs: number): RoomPolicy {
  return { kind: 'probe', limits: { transports: 1, producers: 1, consumers: 0 }, joinable: false, closeWhenEmpty: true, lifetimeMs };
}
