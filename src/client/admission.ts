import type { ErrorCode } from '../signaling/protocol.ts';
import type { FailureCode } from './SignalingClient.ts';

/** What a join may need besides the name: a room password, a signed token, and who to tell when it is refused. */
export interface JoinAdmission {
  password?: string;
  token?: string;
  /** The room's host credential, kept by its creator's browser: joins as a host. */
  hostKey?: string;
  /** The server refused us for good (wrong password, bad token): retrying cannot help. */
  onRefused?: (code: ErrorCode, message: string) => void;
}

/** Refusals that end a first join: only the person can fix them (another password, another link). */
export const REFUSED: ReadonlySet<string> = new Set<ErrorCode>(['password_required', 'password_wrong', 'token_required', 'token_invalid', 'token_expired']);
/**
 * The server will not admit us to this room any more (the room is unknown, e.g. forgotten by a restart
 * without Redis; or we were removed): final even mid-call, retrying cannot help.
 */
export const GONE_FOR_GOOD: ReadonlySet<string> = new Set<ErrorCode>(['room_not_found', 'room_gone', 'removed']);
/** After a network drop the server may not have noticed our old socket yet: its seat frees up soon. */
export const SEAT_RETRIES = 30;

/** What to do about a failed join: wait for our old seat, give up (the person must act), or try again. */
export function afterJoinFailure(code: FailureCode | undefined, joinedOnce: boolean, seatRetries: number): 'await-seat' | 'refused' | 'retry' {
  if (code === 'seat_taken' && seatRetries < SEAT_RETRIES) return 'await-seat';
  if (code && ((REFUSED.has(code) && !joinedOnce) || GONE_FOR_GOOD.has(code))) return 'refused';
  return 'retry';
}
